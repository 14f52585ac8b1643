import "reflect-metadata";
import { loadConfig, ConfigError } from "./config";
import { createLogger } from "./shared/logger";
import { demoAccounts } from "../seeds/demo-world";

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = createLogger(config.LOG_LEVEL);
  // Loaded after the config is valid, so a bad variable is reported at once.
  const [{ createApp }, { seedDemoWorld, seedDemoFeeds }, { seedDemoCases }] = await Promise.all([
    import("./app"),
    import("./seed"),
    import("./seed-cases"),
  ]);
  const app = await createApp(config, { logger: log });
  if (config.SEED_DEMO) {
    const seeded = await seedDemoWorld(app.database.db);
    const reports = await seedDemoFeeds(app.database.db, log);
    if (reports) log.info({ reports }, "demo feeds filled from the public fixtures");
    await seedDemoCases(app.database.db, log);
    log.info({ seeded }, seeded ? "demo world loaded" : "demo world already present");
  }
  const database = app.database.kind === "pglite" ? `PGlite in ${config.PGLITE_DIR}` : "PostgreSQL (DATABASE_URL)";
  const lines = [`Incident-sharing hub listening on ${app.url}/graphql (${database})`];
  if (config.SEED_DEMO && config.HUB_ENV !== "production") {
    lines.push("", "Demo accounts (send as  Authorization: Bearer <token>):");
    for (const a of demoAccounts()) lines.push(`  ${a.orgName.padEnd(30)} ${a.role.padEnd(8)} ${a.token}`);
    lines.push("", `Try: curl -s ${app.url}/graphql -H 'content-type: application/json' \\`);
    lines.push(
      `       -H 'authorization: Bearer ${demoAccounts().find((a) => a.org === "xa" && a.role === "ANALYST")?.token}' -d '{"query":"{ viewer { organization { name } role } }"}'`,
    );
  }
  process.stderr.write(`${lines.join("\n")}\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down");
    app.dispose().then(
      () => process.exit(0),
      (e: unknown) => {
        log.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  process.stderr.write(`The hub could not start: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
