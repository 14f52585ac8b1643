import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import postgres from "postgres";
import { inject } from "vitest";
import { createApp, type App } from "../src/app";
import { testConfig, type Config } from "../src/config";
import { openDatabase, type Database } from "../src/db/client";
import type { Logger } from "../src/shared/logger";
import {
  accounts,
  apiTokens,
  organizations,
  regionalMemberships,
  sharingGroupMembers,
  sharingGroups,
} from "../src/modules/access/access.table";
import { displayPrefix, hashToken, newToken } from "../src/modules/access/tokens";
import { toGlobalId } from "../src/shared/ids";

/** Where tests run: PGlite in memory, or a fresh database on TEST_DATABASE_URL's server. */
export const TARGET = process.env.TEST_DATABASE_URL ? "postgres" : "pglite";

export interface TestDatabase {
  database: Database;
  dispose(): Promise<void>;
}

/**
 * A database of the test's own, migrated: in-memory PGlite started from the migrated snapshot
 * test/global-setup.ts made, or on PostgreSQL a new database copied from its migrated template on
 * TEST_DATABASE_URL's server (dropped again on dispose), so test files never share state.
 * `migrate()` still runs on it, and finds nothing to do.
 */
export async function createTestDatabase(opts: { onQuery?: (sql: string) => void } = {}): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const snapshot = await readFile(inject("pgliteSnapshot") ?? missing("pgliteSnapshot"));
    const database = await openDatabase({ pgliteLoadDataDir: new Blob([snapshot]), onQuery: opts.onQuery });
    await database.migrate();
    return { database, dispose: () => database.close() };
  }
  const template = inject("postgresTemplate") ?? missing("postgresTemplate");
  const name = `hub_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name} template ${template}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), poolMax: 5, onQuery: opts.onQuery });
  await database.migrate();
  return {
    database,
    dispose: async () => {
      await database.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

function missing(key: string): never {
  throw new Error(`no ${key}: run the tests with test/vitest.config.ts, whose globalSetup makes it`);
}

export interface TestHub {
  app: App;
  url: string;
  wsUrl: string;
  database: Database;
  config: Config;
  world: World;
  /** POST a GraphQL operation; returns status and parsed body. */
  gql<T = Record<string, unknown>>(
    token: string | null,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GqlResult<T>>;
  dispose(): Promise<void>;
}

export interface GqlResult<T> {
  status: number;
  headers: Headers;
  data: T | null | undefined;
  errors: { message: string; path?: string[]; extensions?: Record<string, unknown> }[] | undefined;
}

/** Boots the real app on port 0 over a database of its own. */
export async function startHub(
  overrides: Partial<Config> = {},
  opts: { onQuery?: (sql: string) => void; logger?: Logger } = {},
): Promise<TestHub> {
  const tdb = await createTestDatabase(opts);
  const config = testConfig({
    PORT: 0,
    LOG_LEVEL: (process.env.TEST_LOG_LEVEL as Config["LOG_LEVEL"]) ?? "silent",
    ...overrides,
  });
  const app = await createApp(config, { database: tdb.database, logger: opts.logger });
  const url = app.url;
  let disposed: Promise<void> | undefined;
  return {
    app,
    url,
    wsUrl: `${url.replace(/^http/, "ws")}/graphql`,
    database: tdb.database,
    config,
    world: new World(tdb.database),
    gql: (token, query, variables) => gql(url, token, query, variables),
    dispose: () =>
      (disposed ??= (async () => {
        await app.dispose();
        await tdb.dispose();
      })()),
  };
}

export async function gql<T>(
  url: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GqlResult<T>> {
  const res = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await res.json()) as { data?: T | null; errors?: GqlResult<T>["errors"] };
  return { status: res.status, headers: res.headers, data: body.data, errors: body.errors };
}

export type Kind = "MEMBER_STATE" | "REGIONAL_BODY" | "PARTNER" | "HUB_OPERATOR";
export type RoleName = "READER" | "ANALYST" | "ADMIN";

export interface SeededOrg {
  id: string;
  gid: string;
  name: string;
  kind: Kind;
}

export interface SeededAccount {
  id: string;
  gid: string;
  orgId: string;
  role: RoleName;
  token: string;
  tokenId: string;
}

let counter = 0;
const unique = (prefix: string) => `${prefix} ${process.pid}-${++counter}-${randomBytes(3).toString("hex")}`;
let countryCounter = 0;
const COUNTRY_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** Seeds a test's own world straight into its database (not through the API under test). */
export class World {
  constructor(private readonly database: Database) {}

  async org(kind: Kind, name = unique(kind.toLowerCase())): Promise<SeededOrg> {
    let countryCode: string | null = null;
    if (kind === "MEMBER_STATE") {
      // user-assigned ISO codes: XA-XZ, then QM-QZ, AA, ZZ ... wrap with two letters for tests
      const n = countryCounter++;
      countryCode = `${COUNTRY_LETTERS[Math.floor(n / 26) % 26]}${COUNTRY_LETTERS[n % 26]}`;
    }
    const [row] = await this.database.db.insert(organizations).values({ kind, name, countryCode }).returning();
    if (!row) throw new Error("no row");
    return { id: row.id, gid: toGlobalId("Organization", row.id), name, kind };
  }

  async account(org: SeededOrg, role: RoleName, opts: { expiresAt?: Date | null } = {}): Promise<SeededAccount> {
    const [a] = await this.database.db
      .insert(accounts)
      .values({ organizationId: org.id, name: unique(role.toLowerCase()), role })
      .returning();
    if (!a) throw new Error("no row");
    const token = newToken();
    const [t] = await this.database.db
      .insert(apiTokens)
      .values({
        accountId: a.id,
        name: "test",
        prefix: displayPrefix(token),
        tokenHash: hashToken(token),
        expiresAt: opts.expiresAt ?? null,
      })
      .returning();
    if (!t) throw new Error("no row");
    return { id: a.id, gid: toGlobalId("Account", a.id), orgId: org.id, role, token, tokenId: t.id };
  }

  async membership(region: SeededOrg, member: SeededOrg) {
    await this.database.db.insert(regionalMemberships).values({ regionId: region.id, memberId: member.id });
  }

  async group(owner: SeededOrg, members: SeededOrg[], opts: { name?: string; membersVisible?: boolean } = {}) {
    const [g] = await this.database.db
      .insert(sharingGroups)
      .values({
        ownerOrgId: owner.id,
        name: opts.name ?? unique("group"),
        membersVisible: opts.membersVisible ?? false,
      })
      .returning();
    if (!g) throw new Error("no row");
    if (members.length)
      await this.database.db
        .insert(sharingGroupMembers)
        .values(members.map((m) => ({ groupId: g.id, organizationId: m.id })));
    return { id: g.id, gid: toGlobalId("SharingGroup", g.id), name: g.name };
  }
}

/** Sends a typed operation generated by codegen (test/generated) and types its answer. */
export async function op<TResult, TVariables>(
  url: string,
  token: string | null,
  document: TypedDocumentNode<TResult, TVariables>,
  ...variables: TVariables extends Record<string, never> ? [] : [TVariables]
): Promise<GqlResult<TResult>> {
  return gql<TResult>(url, token, print(document), variables[0] as Record<string, unknown> | undefined);
}

/**
 * An empty database of its own on TEST_DATABASE_URL's server, for tests that run the hub or a
 * CLI as a separate process: hand it `url`; `drop()` removes it, forcing out leftover sessions.
 */
export async function createEmptyPostgresDatabase(prefix = "scratch"): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
