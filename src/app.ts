import "reflect-metadata";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Config } from "./config";
import { openDatabase, type Database } from "./db/client";
import type { Services } from "./context";
import { createLogger, flushLogger, type Logger } from "./shared/logger";
import { AuthService } from "./modules/access";
import { createMutationRunner } from "./modules/audit";
import { buildHubSchema } from "./schema";
import { createApollo } from "./transport/apollo";
import { directGraphQL } from "./transport/direct";
import { createHttpHandler } from "./transport/http";
import { RateLimiter } from "./transport/rate-limit";
import { attachWebSocket } from "./transport/ws";
import { bootstrapOperator } from "./bootstrap";
import { exportKinds, exportStix, formatFromContentType, ingestPayload } from "./modules/indicators";
import { EventHub } from "./modules/realtime";
import { startTrendsCompactor, trendsPageAssets } from "./modules/trends";

export interface App {
  readonly server: Server;
  /** http://host:port, known once listening. */
  readonly url: string;
  readonly database: Database;
  readonly services: Services;
  /**
   * Stops accepting, lets in-flight requests finish, closes sockets (1001) and the database, and
   * waits until every log line so far is written out.
   */
  dispose(): Promise<void>;
}

export interface AppOptions {
  /** Use this database instead of opening one from the config (tests share a prepared one). */
  database?: Database;
  logger?: Logger;
}

/**
 * The composition root: opens the database, applies migrations, builds the schema and serves it
 * over HTTP and WebSocket on one port. Tests boot exactly this, on port 0.
 */
export async function createApp(config: Config, opts: AppOptions = {}): Promise<App> {
  const log = opts.logger ?? createLogger(config.LOG_LEVEL);
  const database =
    opts.database ??
    (await openDatabase({ url: config.DATABASE_URL, pgliteDir: config.PGLITE_DIR, poolMax: config.DB_POOL_MAX }));
  const ownsDatabase = !opts.database;
  let events: EventHub | undefined;
  try {
    await database.migrate();
    if (config.HUB_BOOTSTRAP_TOKEN) await bootstrapOperator(database.db, config.HUB_BOOTSTRAP_TOKEN, log);
    // Follows the event log and serves subscriptions; stopped on dispose or if the start fails.
    const hub = new EventHub({
      db: database.db,
      listen: (channel, onNotify) => database.listen(channel, onNotify),
      log,
      bufferSize: config.EVENT_BUFFER_SIZE,
      pollMs: config.EVENT_POLL_MS,
      retentionHours: config.EVENT_RETENTION_HOURS,
    });
    events = hub;
    const services: Services = {
      config,
      db: database.db,
      log,
      auth: new AuthService(database.db, config.TOKEN_CACHE_MS),
      mutate: createMutationRunner(database.db, log),
      events: hub,
    };
    const { schema } = await buildHubSchema();
    const apollo = createApollo(schema, services);
    await apollo.start();
    const limiter = new RateLimiter(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST);
    const handler = createHttpHandler({
      services,
      apollo,
      direct: directGraphQL(schema, services),
      limiter,
      ping: () => database.ping(),
      ingest: (viewer, feedId, body, contentType) =>
        ingestPayload(database.db, viewer, feedId, body, formatFromContentType(contentType)),
      exportStix: (viewer, { onwardSharing, include }) =>
        exportStix(database.db, viewer, {
          onwardSharing,
          include: include ? exportKinds(include, "include") : undefined,
        }),
      files: trendsPageAssets(),
    });
    const server = createServer((req, res) => void handler(req, res));
    // Longer than clients' and load balancers' idle timeouts, so the server is never the side that
    // closes a kept-alive socket just as a client reuses it (an ECONNRESET on the client).
    server.keepAliveTimeout = 65_000;
    // Headers must arrive within this whatever the route (slow-loris clients get 408).
    server.headersTimeout = 66_000;
    // Node's whole-request clock (300 s by default) would cut off a long POST /ingest upload; the
    // handler bounds bodies per route instead: REQUEST_TIMEOUT_MS for a whole body everywhere
    // else, INGEST_IDLE_TIMEOUT_MS between two reads of an ingest.
    server.requestTimeout = 0;
    const closeSockets = attachWebSocket(server, schema, services, limiter);
    await hub.start();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
    const stopCompactor = startTrendsCompactor(database.db, log, config.TRENDS_COMPACT_MS);
    const { port } = server.address() as AddressInfo;
    const host = config.HOST.includes(":") ? `[${config.HOST}]` : config.HOST === "0.0.0.0" ? "127.0.0.1" : config.HOST;
    let disposing: Promise<void> | undefined;
    return {
      server,
      url: `http://${host}:${port}`,
      database,
      services,
      dispose: () =>
        (disposing ??= (async () => {
          const closed = new Promise<void>((resolve) => server.close(() => resolve()));
          server.closeIdleConnections();
          await closeSockets();
          await hub.stop();
          await stopCompactor();
          const grace = setTimeout(() => server.closeAllConnections(), config.SHUTDOWN_GRACE_MS);
          await closed;
          clearTimeout(grace);
          await apollo.stop();
          if (ownsDatabase) await database.close();
          await flushLogger(log);
        })()),
    };
  } catch (e) {
    await events?.stop().catch(() => {});
    if (ownsDatabase) await database.close().catch(() => {});
    throw e;
  }
}
