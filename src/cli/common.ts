import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { sql, type SQL } from "drizzle-orm";
import { ConfigError, loadConfig, type Config } from "../config";
import { MIGRATIONS_FOLDER, openDatabase, type Database, type Db } from "../db/client";

/** What the command-line tools exit with. */
export enum ExitCode {
  OK = 0,
  /** The tool ran and the answer is no (a broken audit chain, a refused seed) or it failed. */
  FAILED = 1,
  /** A bad environment variable or argument; nothing was touched. */
  BAD_CONFIG = 2,
}

/**
 * Runs a tool's body and exits with the code it returns. `--help` (or `-h`) prints `usage` and
 * exits 0; any other argument (the tools take none) prints it and exits 2. A ConfigError prints
 * its message (which names the variable) and exits 2; anything else prints its message and exits 1.
 */
export function runCli(usage: string, body: () => Promise<ExitCode>): void {
  const args = process.argv.slice(2);
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(`${usage}\n`);
    process.exit(ExitCode.OK);
  }
  if (args.length) {
    process.stderr.write(`unknown argument: ${args[0]}\n${usage}\n`);
    process.exit(ExitCode.BAD_CONFIG);
  }
  body().then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof ConfigError) {
        process.stderr.write(`${e.message}\n`);
        process.exit(ExitCode.BAD_CONFIG);
      }
      process.stderr.write(`error: ${describeError(e)}\n`);
      process.exit(ExitCode.FAILED);
    },
  );
}

/** An error's message and its causes' (drizzle wraps the driver's error in "Failed query"). */
function describeError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  return e.cause === undefined ? e.message : `${e.message}\n  caused by: ${describeError(e.cause)}`;
}

/** The innermost cause of an error (drizzle wraps the driver's error in "Failed query"). */
const rootCause = (e: unknown): unknown => (e instanceof Error && e.cause !== undefined ? rootCause(e.cause) : e);

/** The environment, validated as the hub validates it at start. */
export const cliConfig = (): Config => loadConfig();

/** Where the tool works, for its messages: never a password. */
export function describeDatabase(config: Config): string {
  if (!config.DATABASE_URL) return `PGlite in ${resolve(config.PGLITE_DIR)}`;
  const u = new URL(config.DATABASE_URL);
  return `PostgreSQL at ${u.hostname}:${u.port || "5432"}${u.pathname}`;
}

/** Opens the configured database (PostgreSQL with DATABASE_URL, else PGlite in PGLITE_DIR). */
export const openConfigured = (config: Config): Promise<Database> =>
  openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR, poolMax: 2 });

/**
 * Opens the database, runs `body`, and closes it whatever happens. A database that does not answer
 * is named in the error (the driver's reason as its cause), before `body` runs.
 */
export async function withDatabase<T>(config: Config, body: (database: Database) => Promise<T>): Promise<T> {
  const database = await openConfigured(config);
  try {
    try {
      await database.db.execute(sql`select 1`);
    } catch (e) {
      throw new Error(`cannot reach ${describeDatabase(config)}`, { cause: rootCause(e) });
    }
    return await body(database);
  } finally {
    await database.close();
  }
}

/** Rows of a raw query, whichever driver ran it (postgres.js answers an array, PGlite `{ rows }`). */
export async function rows<T>(db: Db, query: SQL): Promise<T[]> {
  const r = (await db.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(r) ? r : r.rows;
}

/** True when the table exists (a relation name such as `public.audit_log`). */
export async function tableExists(db: Db, name: string): Promise<boolean> {
  const [r] = await rows<{ t: string | null }>(db, sql`select to_regclass(${name})::text as t`);
  return Boolean(r?.t);
}

interface JournalEntry {
  tag: string;
  when: number;
}

/** The migrations in drizzle/, oldest first. */
function journal(): JournalEntry[] {
  const text = readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8");
  return (JSON.parse(text) as { entries: JournalEntry[] }).entries;
}

/** drizzle's migrator records each applied migration's journal time; the newest says where the database is. */
async function newestApplied(db: Db): Promise<number> {
  if (!(await tableExists(db, "drizzle.__drizzle_migrations"))) return -Infinity;
  const [r] = await rows<{ newest: string | number | null }>(
    db,
    sql`select max(created_at) as newest from drizzle.__drizzle_migrations`,
  );
  return r?.newest == null ? -Infinity : Number(r.newest);
}

export interface MigrationReport {
  /** Tags of the migrations this run applied, oldest first. */
  applied: string[];
  /** How many migrations drizzle/ holds. */
  known: number;
}

/**
 * Applies pending migrations (the same migrator `npm start` runs) and says which ones it applied,
 * by comparing drizzle's bookkeeping before and after.
 */
export async function migrateAndReport(database: Database): Promise<MigrationReport> {
  const before = await newestApplied(database.db);
  await database.migrate();
  const after = await newestApplied(database.db);
  const entries = journal();
  return {
    applied: entries.filter((e) => e.when > before && e.when <= after).map((e) => e.tag),
    known: entries.length,
  };
}

export const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
