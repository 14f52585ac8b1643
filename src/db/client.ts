import { mkdirSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { resolve } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
/** The `tx` argument of `db.transaction`; services accept either. */
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
export type Executor = Db | Tx;

export interface Database {
  readonly db: Db;
  readonly kind: "pglite" | "postgres";
  /** Applies the migrations in drizzle/ (idempotent). */
  migrate(): Promise<void>;
  /** True when a trivial query answers. */
  ping(): Promise<boolean>;
  /**
   * Calls `onNotify` for each notification on `channel` (PostgreSQL LISTEN on a connection of its
   * own; PGlite in-process), and also each time that connection is (re)established, since
   * notifications sent while it was down are lost. Returns the unsubscribe.
   */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = resolve(import.meta.dirname, "../../drizzle");

export interface DatabaseOptions {
  /** postgres:// URL; without it the hub runs on PGlite. */
  url?: string | undefined;
  /** PGlite data folder; omitted means in memory. */
  pgliteDir?: string | undefined;
  /**
   * An in-memory PGlite starts from this data folder (a `dumpDataDir` tarball) instead of running
   * initdb: the tests open each database from one migrated snapshot (test/global-setup.ts).
   */
  pgliteLoadDataDir?: Blob | undefined;
  poolMax?: number;
  /** Called with each statement's SQL text (tests count the statements an operation issues). */
  onQuery?: (sql: string) => void;
}

/** Opens PostgreSQL (with a URL) or embedded PGlite (without). */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.url) {
    // drizzle replaces its client's serializers, so it gets a client of its own (NOTES.md).
    // `socket` is in postgres.js's README and code, not in its types.
    const options: postgres.Options<Record<string, never>> & { socket: typeof noDelaySocket } = {
      max: opts.poolMax ?? 10,
      onnotice: () => {},
      connection: { application_name: "incident-sharing-hub" },
      socket: noDelaySocket,
    };
    const client = postgres(opts.url, options);
    const db = drizzlePostgres(client, { schema, logger: queryLogger(opts) }) as unknown as Db;
    return {
      db,
      kind: "postgres",
      migrate: async () => {
        // Two nodes starting at once must not both apply the same migration: a session lock on a
        // connection of its own serialises them.
        const one = postgres(opts.url as string, { max: 1, onnotice: () => {} });
        try {
          await one`select pg_advisory_lock(7406001)`;
          await migratePostgres(drizzlePostgres(one), { migrationsFolder: MIGRATIONS_FOLDER });
        } finally {
          await one.end({ timeout: 5 });
        }
      },
      ping: () => ping(db),
      listen: async (channel, onNotify) => {
        const { unlisten } = await client.listen(channel, () => onNotify(), onNotify);
        return unlisten;
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  if (opts.pgliteDir) mkdirSync(opts.pgliteDir, { recursive: true });
  const client = opts.pgliteDir
    ? new PGlite(opts.pgliteDir)
    : new PGlite(opts.pgliteLoadDataDir ? { loadDataDir: opts.pgliteLoadDataDir } : {});
  await client.waitReady;
  const db = drizzlePglite(client, { schema, logger: queryLogger(opts) }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    migrate: () => migratePglite(drizzlePglite(client), { migrationsFolder: MIGRATIONS_FOLDER }),
    ping: () => ping(db),
    listen: async (channel, onNotify) => {
      const unlisten = await client.listen(channel, () => onNotify());
      onNotify();
      return unlisten;
    },
    close: () => client.close(),
  };
}

/** The connection options postgres.js hands its `socket` function (parsed from the URL). */
interface SocketOptions {
  host: string[];
  port: number[];
  path?: string | false;
  connect_timeout?: number;
}

/**
 * postgres.js's sockets, but with Nagle's algorithm off (TCP_NODELAY), which postgres.js leaves
 * on. With it on, a message written while an earlier one is still unacknowledged waits for the
 * server's delayed ACK (40 ms on Linux): a COPY's data and its CopyDone go out as two small
 * writes, and an ingest of ten indicators spent ~85 of its ~110 ms waiting so (bench/README.md).
 * postgres.js takes a socket from this function already connected, so this connects it: to the
 * hosts of the URL in turn (or its Unix socket), each within the client's connect_timeout.
 */
export async function noDelaySocket(o: SocketOptions): Promise<Socket> {
  const timeoutMs = (o.connect_timeout ?? 30) * 1000;
  const targets = o.path
    ? [{ path: o.path }]
    : o.host.map((host, i) => ({ host, port: o.port[i] ?? o.port[0] ?? 5432 }));
  let last: unknown = new Error("no database host to connect to");
  for (const target of targets) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const socket = connect({ ...target, noDelay: true, timeout: timeoutMs });
        const fail = (e: unknown) => {
          socket.destroy();
          reject(e);
        };
        socket.once("error", fail);
        socket.once("timeout", () => fail(new Error(`connecting to the database timed out after ${timeoutMs} ms`)));
        socket.once("connect", () => {
          socket.off("error", fail);
          socket.setTimeout(0);
          socket.removeAllListeners("timeout");
          resolve(socket);
        });
      });
    } catch (e) {
      last = e;
    }
  }
  throw last;
}

const queryLogger = (opts: DatabaseOptions) => {
  const onQuery = opts.onQuery;
  return onQuery ? { logQuery: (query: string) => onQuery(query) } : false;
};

async function ping(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}
