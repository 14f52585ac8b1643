import { randomUUID } from "node:crypto";
import type { Config } from "./config";
import type { Db } from "./db/client";
import { unauthenticated } from "./shared/errors";
import type { Logger } from "./shared/logger";
import { lazyLoaders } from "./shared/loaders";
import { accessLoaders, type AccessLoaders, type LoaderDeps } from "./modules/access/access.loaders";
import { indicatorLoaders, type IndicatorLoaders } from "./modules/indicators/indicators.loaders";

/** Every module's loaders, fresh per operation and bound to its viewer. */
export type Loaders = AccessLoaders & IndicatorLoaders;
import type { AuthService } from "./modules/access/auth.service";
import type { ViewerIdentity } from "./modules/access/viewer";
import type { MutationRunner } from "./modules/audit/mutation";
import type { EventHub } from "./modules/realtime/event-hub";

/** What lives for the whole process: built once in createApp. */
export interface Services {
  readonly config: Config;
  readonly db: Db;
  readonly log: Logger;
  readonly auth: AuthService;
  readonly mutate: MutationRunner;
  /** Follows the event log and serves subscriptions (section 6). */
  readonly events: EventHub;
}

/** The WebSocket an operation came over: its credentials, and a way to close it. */
export interface Connection {
  /** `connectionParams.authorization`, checked again before each delivery. */
  readonly authorization: string | undefined;
  /** Closes the socket as for a refused token (graphql-ws 4403 Forbidden). */
  forbid(): void;
}

/** One per GraphQL operation, over HTTP or WebSocket alike. */
export interface Context {
  readonly requestId: string;
  readonly viewer: ViewerIdentity | null;
  readonly services: Services;
  /**
   * Fresh per operation, bound to the viewer, each made on first use; throws UNAUTHENTICATED when
   * there is no viewer.
   */
  readonly loaders: Loaders;
  /** Filled while the operation runs, for its log line. */
  readonly trace: { operationName: string | null; errorCodes: string[] };
  /** Set for operations over WebSocket. */
  readonly connection?: Connection;
}

/** Stands in for the loaders of an anonymous request: any use is UNAUTHENTICATED. */
const NO_LOADERS = new Proxy({} as Loaders, {
  get() {
    throw unauthenticated();
  },
});

/** What per-module loaders need of a context: an event's batch can build one without a request. */
export interface LoaderContext {
  readonly viewer: ViewerIdentity | null;
  readonly loaders: Loaders;
  readonly services: Pick<Services, "db">;
}

/** A loader context for one viewer outside any request (a subscription's batch). */
export function loaderContext(db: Db, viewer: ViewerIdentity): LoaderContext {
  return { viewer, loaders: createLoaders(db, viewer), services: { db } };
}

/**
 * Builds the context for an already-authenticated viewer (or anonymous). Plain data properties
 * only: Apollo copies the context per operation, which would run any getter. (The loaders'
 * getters are on the object `loaders` refers to, which the copy shares.)
 */
export function createContext(services: Services, viewer: ViewerIdentity | null, connection?: Connection): Context {
  return {
    requestId: randomUUID(),
    viewer,
    services,
    trace: { operationName: null, errorCodes: [] },
    loaders: viewer ? createLoaders(services.db, viewer) : NO_LOADERS,
    ...(connection ? { connection } : {}),
  };
}

/**
 * Before each event it delivers, a subscription points its operation's context at the viewer as
 * of delivery and at the loaders of the batch the event came in (fresh per batch, shared by the
 * subscribers with the same rights). graphql-ws resolves one event of an operation at a time.
 */
export function bindEvent(ctx: Context, viewer: ViewerIdentity, loaders: Loaders): void {
  Object.assign(ctx, { viewer, loaders });
}

/**
 * Every module's loaders, made on first use; the viewer's own account and organisation are
 * already in theirs.
 */
const makeLoaders: (deps: LoaderDeps) => Loaders = lazyLoaders({
  ...accessLoaders,
  ...indicatorLoaders,
  account: (deps: LoaderDeps) => accessLoaders.account(deps).prime(deps.viewer.accountId, deps.viewer.account),
  organization: (deps: LoaderDeps) =>
    accessLoaders.organization(deps).prime(deps.viewer.organizationId, deps.viewer.organization),
});

/** Every module's loaders for one viewer (each made when first read). */
export function createLoaders(db: Db, viewer: ViewerIdentity): Loaders {
  return makeLoaders({ db, viewer });
}

/** The viewer, or UNAUTHENTICATED: every field but `__typename` needs one. */
export function viewerOf(ctx: { viewer: ViewerIdentity | null }): ViewerIdentity {
  if (!ctx.viewer) throw unauthenticated();
  return ctx.viewer;
}
