import { cliConfig, describeDatabase, ExitCode, migrateAndReport, plural, runCli, withDatabase } from "./common";

/**
 * `npm run db:migrate`: applies the migrations in drizzle/ to DATABASE_URL's PostgreSQL, or to
 * PGlite in PGLITE_DIR, and prints which ones it applied. Safe to run any number of times.
 */
runCli(
  "usage: npm run db:migrate\n" +
    "Applies the migrations in drizzle/ to DATABASE_URL's PostgreSQL (else PGlite in PGLITE_DIR); safe to run again.",
  async () => {
    const config = cliConfig();
    const where = describeDatabase(config);
    const report = await withDatabase(config, migrateAndReport);
    process.stdout.write(
      report.applied.length
        ? `Applied ${plural(report.applied.length, "migration")} to ${where}: ${report.applied.join(", ")}\n`
        : `${where} is up to date (${plural(report.known, "migration")}); nothing to apply.\n`,
    );
    return ExitCode.OK;
  },
);
