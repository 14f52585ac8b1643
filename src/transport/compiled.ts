import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import {
  execute,
  getVariableValues,
  GraphQLError,
  isEnumType,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
} from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";

type Gateway = ApolloServerOptionsWithGateway<never>["gateway"];
type Executor = Awaited<ReturnType<Gateway["load"]>>["executor"];

/**
 * Executes HTTP operations with graphql-jit instead of graphql-js's interpreter.
 *
 * Why: graphql-js walks the document for every object it completes (argument maps, field
 * collection, a path entry and a completion call per field). A page of 100 assessments with their
 * histories is ~25,000 fields, and that walk was the largest share of the hub's CPU for it.
 * graphql-jit compiles each operation once into a function that does the same work (resolvers,
 * leaf serialisation, null propagation, errors) without interpreting the document again.
 *
 * How: Apollo Server lets a "gateway" supply the executor; everything around execution stays
 * Apollo's: parsing and validation (its document cache hands back the same `DocumentNode` for the
 * same query text, which keys the compiled functions here), the plugins (limits, trace), error
 * formatting and masking, and the HTTP answer. Resolvers are the schema's own, so the access rule
 * and the loaders are the same code either way. Subscriptions do not come here (graphql-ws runs
 * them with graphql-js); an operation the compiler refuses falls back to graphql-js's `execute`.
 *
 * Variables are coerced by graphql-js first, and its errors answered as `execute` would: graphql-jit
 * refuses an omitted non-null input field that has a default (`first: Int! = 50` in an input),
 * which the spec allows. The compiled query then coerces the coerced values again, which changes
 * nothing for the hub's scalars (DateTime takes a Date, the JSON ones any value) and enums, as long
 * as every enum value is its own name: checked here, since another enum would not survive it.
 */
export function compiledExecution(schema: GraphQLSchema): Gateway {
  for (const type of Object.values(schema.getTypeMap()))
    if (isEnumType(type))
      for (const v of type.getValues())
        if (v.value !== v.name)
          throw new Error(`compiledExecution: enum ${type.name}.${v.name} has the internal value ${String(v.value)}`);
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledQuery | null>>();

  const compiledFor = (document: DocumentNode, operationName: string | undefined): CompiledQuery | null => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const key = operationName ?? "";
    let entry = byName.get(key);
    if (entry === undefined) {
      const result = compileQuery(schema, document, operationName);
      entry = isCompiledQuery(result) ? result : null;
      byName.set(key, entry);
    }
    return entry;
  };

  const executor: Executor = async (request) => {
    const { document, operationName, context, operation } = request;
    const inputs = request.request.variables;
    const query = operation.operation === "subscription" ? null : compiledFor(document, operationName ?? undefined);
    if (!query) return execute({ schema, document, contextValue: context, variableValues: inputs, operationName });
    const variables = getVariableValues(schema, operation.variableDefinitions ?? [], inputs ?? {}, { maxErrors: 50 });
    if (variables.errors) return { errors: variables.errors };
    const result = (await query.query(undefined, context, variables.coerced)) as ExecutionResult;
    return result.errors?.some((e) => !e.extensions)
      ? { ...result, errors: result.errors.map(asGraphQLError) }
      : result;
  };

  return {
    load: async () => ({ executor }),
    onSchemaLoadOrUpdate: (callback) => {
      callback({ apiSchema: schema, coreSupergraphSdl: "" });
      return () => {};
    },
    stop: async () => {},
  };
}

/**
 * graphql-jit's errors are its own function objects on graphql-js's prototype, without
 * `extensions` when the cause had none; Apollo's error formatting reads `extensions.code` and
 * would fail on them. Rebuilt as graphql-js errors, they answer as `execute`'s would: message,
 * locations, path, and the cause's extensions for `formatError`.
 */
function asGraphQLError(e: GraphQLError): GraphQLError {
  if (e.extensions) return e;
  const error = new GraphQLError(e.message, {
    path: e.path,
    originalError: e.originalError ?? undefined,
    extensions: e.extensions ?? undefined,
  });
  // Without the nodes, graphql-js cannot compute the locations; graphql-jit computed them.
  if (e.locations) (error as { locations: GraphQLError["locations"] }).locations = e.locations;
  return error;
}
