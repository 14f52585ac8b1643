import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import {
  execute,
  getNamedType,
  getVariableValues,
  GraphQLError,
  isEnumType,
  isInputObjectType,
  typeFromAST,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
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
 * How: `compiledExecutor` runs an operation of a parsed and validated document, keyed by the
 * document object (Apollo's document cache, and direct.ts's, hand back the same `DocumentNode`
 * for the same query text). Most requests come to it from direct.ts; the rest through Apollo
 * Server, which lets a "gateway" supply the executor and keeps everything around execution its
 * own (parsing, validation, plugins, error formatting, the answer). Resolvers are the schema's
 * own, so the access rule and the loaders are the same code either way. Subscriptions do not come here (graphql-ws runs
 * them with graphql-js); an operation the compiler refuses falls back to graphql-js's `execute`.
 *
 * Variables: graphql-jit refuses an omitted non-null input field that has a default (`first: Int! =
 * 50` in an input), which the spec allows, and a refused variable gets an error Apollo does not
 * recognise as bad input. So an operation with input-object variables has them coerced by graphql-js
 * first (its errors answered as `execute` would), and so does any operation whose variables
 * graphql-jit refused; the others (scalars and enums only, most reads) go straight to the compiled
 * query. The compiled query coerces coerced values again, which changes nothing for the hub's
 * scalars (DateTime takes a Date, the JSON ones any value) and enums, as long as every enum value
 * is its own name: checked here, since another enum would not survive it.
 */
export function compiledExecution(schema: GraphQLSchema): Gateway {
  const run = compiledExecutor(schema);
  const executor: Executor = async ({ document, operation, context, request }) =>
    operation
      ? run(document, operation, context, request.variables)
      : // No such operation: graphql-js's execute says so, in the words Apollo turns into a 400.
        interpret(schema, document, context, request.variables, request.operationName);
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
 * Runs an operation of a parsed and validated document (see `compiledExecution`). The result has
 * no `data` only when the variables were refused, before anything ran.
 */
export type OperationExecutor = (
  document: DocumentNode,
  operation: OperationDefinitionNode,
  context: unknown,
  variables: Record<string, unknown> | undefined,
) => Promise<ExecutionResult>;

export function compiledExecutor(schema: GraphQLSchema): OperationExecutor {
  for (const type of Object.values(schema.getTypeMap()))
    if (isEnumType(type))
      for (const v of type.getValues())
        if (v.value !== v.name)
          throw new Error(`compiledExecution: enum ${type.name}.${v.name} has the internal value ${String(v.value)}`);
  const compiled = new WeakMap<DocumentNode, Map<string, Compiled | null>>();

  const compiledFor = (document: DocumentNode, operation: OperationDefinitionNode): Compiled | null => {
    let byName = compiled.get(document);
    if (!byName) compiled.set(document, (byName = new Map()));
    const name = operation.name?.value;
    let entry = byName.get(name ?? "");
    if (entry === undefined) {
      const result = compileQuery(schema, document, name);
      entry = isCompiledQuery(result)
        ? { query: result, coerceFirst: hasInputObjectVariable(schema, operation) }
        : null;
      byName.set(name ?? "", entry);
    }
    return entry;
  };

  return async (document, operation, context, inputs) => {
    const entry = operation.operation === "subscription" ? null : compiledFor(document, operation);
    if (!entry) return interpret(schema, document, context, inputs, operation.name?.value);
    let result = entry.coerceFirst
      ? undefined
      : ((await entry.query.query(undefined, context, inputs)) as ExecutionResult);
    // No `data` at all: graphql-jit refused the variables.
    if (!result || !("data" in result)) {
      const variables = getVariableValues(schema, operation.variableDefinitions ?? [], inputs ?? {}, { maxErrors: 50 });
      if (variables.errors) return { errors: variables.errors };
      result = (await entry.query.query(undefined, context, variables.coerced)) as ExecutionResult;
    }
    return result.errors ? { ...result, errors: result.errors.map(asGraphQLError) } : result;
  };
}

/** graphql-js's interpreter, for what is not compiled (subscriptions, refused or unresolved operations). */
const interpret = (
  schema: GraphQLSchema,
  document: DocumentNode,
  context: unknown,
  variables: Record<string, unknown> | undefined,
  operationName: string | null | undefined,
) => execute({ schema, document, contextValue: context, variableValues: variables, operationName });

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

interface Compiled {
  query: CompiledQuery;
  /** Whether graphql-js must coerce the variables first (see `compiledExecution`). */
  coerceFirst: boolean;
}

const hasInputObjectVariable = (schema: GraphQLSchema, operation: OperationDefinitionNode) =>
  (operation.variableDefinitions ?? []).some((v) => {
    const type = typeFromAST(schema, v.type);
    return !type || isInputObjectType(getNamedType(type));
  });
