// The seed writes through the access module, whose index loads type-graphql classes.
import "reflect-metadata";
import { DEMO_ORGANIZATIONS, demoAccounts } from "../../seeds/demo-world";
import { seedDemoFeeds, seedDemoWorld } from "../seed";
import { seedDemoCases } from "../seed-cases";
import { createLogger } from "../shared/logger";
import { cliConfig, describeDatabase, ExitCode, migrateAndReport, plural, runCli, withDatabase } from "./common";

/**
 * `npm run db:seed`: applies the migrations, then loads the demo world from seeds/ unless it is
 * already there. Refuses in production: the demo world's tokens are public.
 */
runCli(
  "usage: npm run db:seed\n" +
    "Applies the migrations, then loads the demo world (organisations, accounts, feeds, incidents, assessments) unless it is there; refused when HUB_ENV is production.",
  async () => {
    const config = cliConfig();
    if (config.HUB_ENV === "production") {
      process.stderr.write(
        "Refusing to load the demo world: HUB_ENV is production. Its accounts' tokens are printed on every " +
          "development start, so it must never exist in a real deployment.\n",
      );
      return ExitCode.FAILED;
    }
    const where = describeDatabase(config);
    await withDatabase(config, async (database) => {
      const { applied } = await migrateAndReport(database);
      if (applied.length)
        process.stdout.write(`Applied ${plural(applied.length, "migration")} to ${where}: ${applied.join(", ")}\n`);
      const inserted = await seedDemoWorld(database.db);
      const indicators = await seedDemoFeeds(database.db, createLogger("warn"));
      if (indicators)
        process.stdout.write(
          `Ingested ${plural(indicators, "report")} from the public fixtures into the demo feeds.\n`,
        );
      const assessments = await seedDemoCases(database.db, createLogger("warn"));
      if (assessments)
        process.stdout.write(`Loaded the demo incidents and ${plural(assessments, "attribution assessment")}.\n`);
      process.stdout.write(
        inserted
          ? `Loaded the demo world into ${where}: ${plural(DEMO_ORGANIZATIONS.length, "organisation")}, ` +
              `${plural(demoAccounts().length, "account")}. \`npm start\` prints their tokens.\n`
          : `The demo world is already present in ${where}; nothing inserted.\n`,
      );
    });
    return ExitCode.OK;
  },
);
