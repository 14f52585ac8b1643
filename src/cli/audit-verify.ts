import { existsSync } from "node:fs";
import { verifyAudit } from "../modules/audit/audit.service";
import { cliConfig, describeDatabase, ExitCode, plural, runCli, tableExists, withDatabase } from "./common";

/** Below this many entries the check takes well under a second: no progress lines. */
const PROGRESS_FROM = 5000;

/**
 * `npm run audit:verify`: re-derives the audit log's hash chain and reports every changed,
 * inserted or deleted entry by its sequence number. Reads only; exits 0 when the chain is intact,
 * 1 when it is not (or cannot be read).
 */
runCli(
  "usage: npm run audit:verify\n" +
    "Checks the audit log's hash chain in DATABASE_URL's PostgreSQL (else PGlite in PGLITE_DIR): exits 0 when intact, 1 with each problem when not.",
  async () => {
    const config = cliConfig();
    const where = describeDatabase(config);
    // Opening PGlite on a missing folder would create an empty database there.
    if (!config.DATABASE_URL && !existsSync(config.PGLITE_DIR)) {
      process.stderr.write(`There is no database: ${where} does not exist.\n`);
      return ExitCode.FAILED;
    }
    return withDatabase(config, async (database) => {
      if (!(await tableExists(database.db, "public.audit_log"))) {
        process.stderr.write(`${where} has no audit log: run \`npm run db:migrate\` first.\n`);
        return ExitCode.FAILED;
      }
      const tty = process.stderr.isTTY;
      let shown = false;
      const result = await verifyAudit(database.db, (checked) => {
        if (checked < PROGRESS_FROM) return;
        shown = true;
        process.stderr.write(tty ? `\rchecked ${checked} entries` : `checked ${checked} entries\n`);
      });
      if (shown && tty) process.stderr.write("\n");
      if (result.ok) {
        process.stdout.write(
          `OK: the audit chain in ${where} is intact (${plural(result.entries, "entry", "entries")}).\n`,
        );
        return ExitCode.OK;
      }
      const lines = result.problems.map((p) => `  seq ${p.seq}: ${p.problem}`);
      process.stdout.write(
        `BROKEN: the audit chain in ${where} has ${plural(result.problems.length, "problem")} ` +
          `(${plural(result.entries, "entry", "entries")} read):\n${lines.join("\n")}\n`,
      );
      return ExitCode.FAILED;
    });
  },
);
