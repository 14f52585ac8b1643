import { createRequire } from "node:module";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
} from "@apollo/server/plugin/disabled";
import type { GraphQLSchema } from "graphql";
import type { Context, Services } from "../context";
import { formatError } from "../shared/errors";
import { checkOperationLimits } from "../shared/limits";
import { compiledExecution } from "./compiled";

/** Rejects operations over the depth, alias or cost limits before they execute. */
function limitsPlugin(services: Services): ApolloServerPlugin<Context> {
  const { MAX_DEPTH, MAX_COST, MAX_ALIASES } = services.config;
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request }) {
          if (!operation) return;
          const error = checkOperationLimits(schema, document, operation, request.variables, {
            maxDepth: MAX_DEPTH,
            maxCost: MAX_COST,
            maxAliases: MAX_ALIASES,
          });
          if (error) throw error;
        },
      };
    },
  };
}

/** Records the operation name and error codes for the request's log line. */
const tracePlugin: ApolloServerPlugin<Context> = {
  async requestDidStart({ contextValue }) {
    return {
      async didResolveOperation({ operationName }) {
        contextValue.trace.operationName = operationName ?? null;
      },
      async willSendResponse({ response }) {
        if (response.body.kind === "single")
          for (const e of response.body.singleResult.errors ?? [])
            contextValue.trace.errorCodes.push(String(e.extensions?.code ?? "UNKNOWN"));
      },
    };
  },
};

/**
 * Apollo hashes every request's query with `@apollo/utils.createhash`, which fetches node's crypto
 * with `module.require("crypto")` on every call: a module resolution per request, and under a
 * loader that hooks resolution (tsx, which runs the hub) about 2 % of a point lookup's CPU. This
 * gives that one module a `require` that answers "crypto" with the module already loaded (the
 * same object node's require returns, so the same hash) and passes any other id on. Does nothing
 * when the package is not where Apollo Server loads it from.
 */
export function cacheCryptoForApolloHashing(): void {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = createRequire(require.resolve("@apollo/server")).resolve("@apollo/utils.createhash");
    require(path);
  } catch {
    return;
  }
  const mod = require.cache[path];
  if (!mod || Object.hasOwn(mod, "require")) return;
  const crypto: unknown = require("node:crypto");
  const load = mod.require.bind(mod);
  mod.require = ((id: string): unknown => (id === "crypto" ? crypto : load(id))) as typeof mod.require;
}

export function createApollo(schema: GraphQLSchema, services: Services): ApolloServer<Context> {
  cacheCryptoForApolloHashing();
  return new ApolloServer<Context>({
    gateway: compiledExecution(schema),
    formatError: formatError(services.log),
    includeStacktraceInErrorResponses: false,
    // Credentials travel only in the Authorization header, which a cross-site form or simple
    // request cannot set, so Apollo's CSRF guard would only block plain GET clients.
    csrfPrevention: false,
    introspection: true,
    // createApp's dispose owns shutdown (in-flight requests finish first); Apollo must not stop
    // itself on SIGTERM/SIGINT ahead of it.
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginLandingPageDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // Answers are per viewer and never cacheable; the HTTP layer says so (no-store). Without
      // this plugin Apollo also stops wrapping every field resolver to compute cache hints.
      ApolloServerPluginCacheControlDisabled(),
      limitsPlugin(services),
      tracePlugin,
    ],
  });
}
