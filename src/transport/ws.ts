import type { Server } from "node:http";
import {
  Kind,
  parse,
  type ExecutionResult,
  type FormattedExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";
import { createContext, type Services } from "../context";
import { formatError } from "../shared/errors";
import { checkOperationLimits } from "../shared/limits";
import type { ViewerIdentity } from "../modules/access";

type Extra = { viewer?: ViewerIdentity | null } & Record<PropertyKey, unknown>;

/**
 * graphql-ws on the HTTP server's /graphql path. Authentication runs once at connection_init
 * (`connectionParams.authorization`, same form as the HTTP header) through the same AuthService;
 * a bad token closes the socket with 4403 Forbidden. Returns a dispose that closes every socket
 * with 1001 (going away).
 */
export function attachWebSocket(server: Server, schema: GraphQLSchema, services: Services) {
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: services.config.MAX_BODY_BYTES });
  const format = formatError(services.log);
  const { MAX_DEPTH, MAX_COST, MAX_ALIASES } = services.config;
  const masked = (r: ExecutionResult): FormattedExecutionResult =>
    r.errors ? { ...r, errors: r.errors.map((e) => format(e.toJSON(), e)) } : (r as FormattedExecutionResult);

  const disposable = useServer<Record<string, unknown>, Extra>(
    {
      schema,
      onConnect: async (ctx) => {
        try {
          const auth = ctx.connectionParams?.authorization;
          ctx.extra.viewer = await services.auth.authenticate(typeof auth === "string" ? auth : undefined);
          return true;
        } catch {
          return false;
        }
      },
      context: (ctx) => createContext(services, ctx.extra.viewer ?? null),
      onSubscribe: (_ctx, _id, payload) => {
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
      onNext: (_ctx, _id, _payload, _args, result) => masked(result),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => format(e.toJSON(), e)),
    },
    wss,
  );

  return async () => {
    for (const client of wss.clients) client.close(1001, "Server shutting down");
    await disposable.dispose();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  };
}
