import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import postgres from "postgres";
import type { TestProject } from "vitest/node";
import { MIGRATIONS_FOLDER, openDatabase } from "../src/db/client";

declare module "vitest" {
  export interface ProvidedContext {
    /** A `dumpDataDir` tarball of a migrated PGlite (tests on PGlite). */
    pgliteSnapshot: string;
    /** A migrated database on TEST_DATABASE_URL's server that test databases are copied from. */
    postgresTemplate: string;
  }
}

/**
 * Migrates one database before any test file runs, and hands it to the workers: starting PGlite
 * from a data folder takes about a second where initdb takes four or five, and PostgreSQL copies a
 * template faster than it runs the migrations. Each test database still runs `migrate()` (then a
 * no-op); test/migrations.test.ts migrates an empty one. The teardown removes the template.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const folder = await mkdtemp(join(tmpdir(), "hub-test-"));
    const pglite = new PGlite();
    try {
      await migrate(drizzle(pglite), { migrationsFolder: MIGRATIONS_FOLDER });
      const file = join(folder, "migrated.tar");
      await writeFile(file, Buffer.from(await (await pglite.dumpDataDir("none")).arrayBuffer()));
      project.provide("pgliteSnapshot", file);
    } finally {
      await pglite.close();
    }
    return () => rm(folder, { recursive: true, force: true });
  }

  const name = `hub_template_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  };
  try {
    const database = await openDatabase({ url: url.toString(), poolMax: 1 });
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    // CREATE DATABASE ... TEMPLATE fails while anyone is connected to the template: from here on
    // nobody may connect (the sessions above are closed; the server waits a moment for them to go).
    await admin.unsafe(`alter database ${name} with allow_connections false`);
  } catch (e) {
    await drop();
    throw e;
  }
  project.provide("postgresTemplate", name);
  return drop;
}
