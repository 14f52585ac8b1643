import type { Server } from "node:http";
import {
  Kind,
  parse,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { CloseCode } from "graphql-ws";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { createContext, type Connection, type Services } from "../context";
import { formatError, HubError, rateLimited } from "../shared/errors";
import type { RateLimiter } from "./rate-limit";
import { checkOperationLimits } from "../shared/limits";
import type { ViewerIdentity } from "../modules/access";

type Extra = {
  viewer?: ViewerIdentity | null;
  /** The socket's credentials and its close, for subscriptions to check again at delivery. */
  connection?: Connection;
  /** Operations in flight on this socket: start time, name and error codes, for the log line. */
  ops?: Map<string, { started: number; operationName: string | null; errorCodes: string[] }>;
} & Record<PropertyKey, unknown>;

/** How often every authenticated socket's token is checked again (the check itself is cached). */
const RECHECK_MS = 250;

/**
 * graphql-ws on the HTTP server's /graphql path. Authentication runs at connection_init
 * (`connectionParams.authorization`, same form as the HTTP header) through the same AuthService;
 * a bad token closes the socket with 4403 Forbidden. The token is checked again every RECHECK_MS
 * (and by subscriptions before each delivery): once revoked or expired, the socket is closed with
 * 4403 within TOKEN_CACHE_MS plus that, even when nothing is being delivered. Returns a dispose
 * that closes every socket with 1001 (going away).
 */
export function attachWebSocket(server: Server, schema: GraphQLSchema, services: Services, limiter: RateLimiter) {
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: services.config.MAX_BODY_BYTES });
  const format = formatError(services.log);
  const { MAX_DEPTH, MAX_COST, MAX_ALIASES } = services.config;
  const masked = (r: ExecutionResult): FormattedExecutionResult =>
    r.errors ? { ...r, errors: r.errors.map((e) => format(e.toJSON(), e)) } : (r as FormattedExecutionResult);

  /** One log line an operation, as for HTTP requests. */
  const logOperation = (extra: Extra, id: string) => {
    const op = extra.ops?.get(id);
    if (!op) return;
    extra.ops?.delete(id);
    services.log.info(
      {
        kind: "ws",
        operationName: op.operationName,
        durationMs: Math.round((performance.now() - op.started) * 100) / 100,
        organizationId: extra.viewer?.organizationId ?? null,
        accountId: extra.viewer?.accountId ?? null,
        outcome: op.errorCodes.length ? op.errorCodes.join(",") : "ok",
      },
      "operation",
    );
  };

  /** Sockets that authenticated with a token, to check again. */
  const authenticated = new Map<WebSocket, Extra>();
  const forbid = (socket: WebSocket) => {
    authenticated.delete(socket);
    socket.close(CloseCode.Forbidden, "Forbidden");
  };
  let rechecking = false;
  const recheck = setInterval(() => {
    if (rechecking || authenticated.size === 0) return;
    rechecking = true;
    // Once per distinct token, not per socket: a sensor fleet shares a few tokens across thousands
    // of sockets, and hashing each socket's token four times a second cost a quarter of a core.
    const byToken = new Map<string | undefined, [WebSocket, Extra][]>();
    for (const entry of authenticated) {
      const key = entry[1].connection?.authorization;
      const list = byToken.get(key);
      if (list) list.push(entry);
      else byToken.set(key, [entry]);
    }
    void Promise.all(
      [...byToken].map(async ([authorization, sockets]) => {
        try {
          const viewer = await services.auth.authenticate(authorization);
          for (const [, extra] of sockets) extra.viewer = viewer;
        } catch (err) {
          if (err instanceof HubError) for (const [socket] of sockets) forbid(socket);
          else services.log.warn({ err }, "could not check a WebSocket's token again");
        }
      }),
    ).finally(() => (rechecking = false));
  }, RECHECK_MS);
  recheck.unref();

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          const auth = ctx.connectionParams?.authorization;
          const authorization = typeof auth === "string" ? auth : undefined;
          ctx.extra.viewer = await services.auth.authenticate(authorization);
          const socket = ctx.extra.socket;
          ctx.extra.connection = { authorization, forbid: () => forbid(socket) };
          if (ctx.extra.viewer) authenticated.set(socket, ctx.extra);
          return true;
        } catch {
          return false;
        }
      },
      onClose: (ctx) => void authenticated.delete(ctx.extra.socket),
      context: (ctx) => createContext(services, ctx.extra.viewer ?? null, ctx.extra.connection),
      onSubscribe: (ctx, id, payload) => {
        (ctx.extra.ops ??= new Map()).set(id, {
          started: performance.now(),
          operationName: payload.operationName ?? null,
          errorCodes: [],
        });
        // The same per-token budget as HTTP: each operation takes one request from it.
        const viewer = ctx.extra.viewer;
        const wait = limiter.take(
          viewer ? `t:${viewer.tokenId}` : `a:${ctx.extra.request.socket.remoteAddress ?? "?"}`,
        );
        if (wait > 0) return [rateLimited(wait)];
        let document;
        try {
          document = parse(payload.query);
        } catch {
          return undefined; // graphql-ws reports the syntax error itself
        }
        const op = document.definitions.find(
          (d): d is OperationDefinitionNode =>
            d.kind === Kind.OPERATION_DEFINITION && (!payload.operationName || d.name?.value === payload.operationName),
        );
        const error = op
          ? checkOperationLimits(schema, document, op, payload.variables ?? undefined, {
              maxDepth: MAX_DEPTH,
              maxCost: MAX_COST,
              maxAliases: MAX_ALIASES,
            })
          : null;
        return error ? [error] : undefined;
      },
      onNext: (ctx, id, _payload, _args, result) => {
        const codes = ctx.extra.ops?.get(id)?.errorCodes;
        for (const e of result.errors ?? []) codes?.push(String(e.extensions.code ?? "INTERNAL_SERVER_ERROR"));
        return masked(result);
      },
      onError: (ctx, id, _payload, errors) => {
        const codes = ctx.extra.ops?.get(id)?.errorCodes;
        for (const e of errors) codes?.push(String(e.extensions.code ?? "GRAPHQL_VALIDATION_FAILED"));
        logOperation(ctx.extra, id);
        return errors.map((e) => format(e.toJSON(), e));
      },
      onComplete: (ctx, id) => logOperation(ctx.extra, id),
    },
    wss,
  );

  return async () => {
    clearInterval(recheck);
    for (const client of wss.clients) client.close(1001, "Server shutting down");
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
