import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER, openDatabase, type Database } from "../src/db/client";
import { rowsOf } from "../src/shared/rows";
import { createEmptyPostgresDatabase, createTestDatabase, TARGET, type TestDatabase } from "./harness";

// Every other file's database is a copy of one migrated in test/global-setup.ts; this one starts
// from an empty database, as a new installation does.

const journal = (
  JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8")) as {
    entries: { tag: string; when: number }[];
  }
).entries;

let empty: Database;
let dropEmpty: () => Promise<void> = async () => {};
let copy: TestDatabase;

beforeAll(async () => {
  if (TARGET === "postgres") {
    const pg = await createEmptyPostgresDatabase("migrations");
    dropEmpty = pg.drop;
    empty = await openDatabase({ url: pg.url, poolMax: 2 });
  } else {
    empty = await openDatabase({});
  }
  copy = await createTestDatabase();
});
afterAll(async () => {
  await copy?.dispose();
  await empty?.close();
  await dropEmpty();
});

const query = async <T>(database: Database, text: string) => rowsOf<T>(await database.db.execute(sql.raw(text)));

/** When drizzle's bookkeeping says each applied migration was written (its journal time), in order. */
const applied = async (database: Database) => {
  const [t] = await query<{ t: string | null }>(
    database,
    "select to_regclass('drizzle.__drizzle_migrations')::text as t",
  );
  if (!t?.t) return [];
  const rows = await query<{ created_at: string | number }>(
    database,
    "select created_at from drizzle.__drizzle_migrations order by id",
  );
  return rows.map((r) => Number(r.created_at));
};

/** The public schema as the catalog describes it: columns, constraints, indexes, triggers, functions. */
const schemaOf = (database: Database) =>
  Promise.all([
    query(
      database,
      `select table_name, column_name, data_type, udt_name, is_nullable, column_default
         from information_schema.columns where table_schema = 'public' order by 1, 2`,
    ),
    query(
      database,
      `select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
         from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`,
    ),
    query(database, `select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
    query(
      database,
      `select tgrelid::regclass::text as rel, tgname, pg_get_triggerdef(oid) as def
         from pg_trigger where not tgisinternal order by 1, 2`,
    ),
    query(
      database,
      `select proname, pg_get_function_identity_arguments(oid) as args, md5(prosrc) as body
         from pg_proc where pronamespace = 'public'::regnamespace order by 1, 2`,
    ),
    query(
      database,
      `select t.typname, e.enumlabel from pg_enum e join pg_type t on t.oid = e.enumtypid
         order by 1, e.enumsortorder`,
    ),
  ]);

describe("migrations", () => {
  it("apply to an empty database, every one in drizzle/'s journal in order, and a second run applies nothing", async () => {
    expect(await applied(empty)).toEqual([]);
    await empty.migrate();
    const first = await applied(empty);
    expect(first).toEqual(journal.map((e) => e.when));
    await empty.migrate();
    expect(await applied(empty)).toEqual(first);
  });

  it("leave exactly the schema of the migrated copy every other test file's database starts from", async () => {
    await empty.migrate();
    expect(await applied(copy.database)).toEqual(await applied(empty));
    const [fresh, copied] = await Promise.all([schemaOf(empty), schemaOf(copy.database)]);
    // Not a trivially empty comparison: the schema has tables, triggers and functions.
    expect(fresh.map((part) => part.length).every((n) => n > 0)).toBe(true);
    expect(copied).toEqual(fresh);
  });
});
