import {
  GraphQLError,
  Kind,
  getNamedType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type GraphQLOutputType,
  type GraphQLField,
  isObjectType,
  isInterfaceType,
  typeFromAST,
  valueFromAST,
} from "graphql";
import { DEFAULT_PAGE_SIZE } from "./pagination";

export interface OperationLimits {
  maxDepth: number;
  maxCost: number;
  maxAliases: number;
}

/** Over a limit: rejected before execution with a clear message and the numbers involved. */
function overLimit(limit: string, max: number, actual: number, what: string) {
  return new GraphQLError(`Operation ${what} is ${actual}, over the limit of ${max} (${limit})`, {
    extensions: { code: "GRAPHQL_VALIDATION_FAILED", limit, max, actual, http: { status: 400 } },
  });
}

interface Measure {
  depth: number;
  cost: number;
  aliases: number;
}

/** What a walk over one operation needs besides the selections. */
interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: Map<string, FragmentDefinitionNode>;
  /** A variable's value (its default when not given); notes that the measure depends on it. */
  variable(name: string): unknown;
}

/**
 * Measures of operations whose measure reads no variable, by schema and operation node. Apollo
 * keeps each parsed document (and so its operation nodes) for as long as the query text keeps
 * coming, so a query sent again is measured once, not per request.
 */
const measured = new WeakMap<GraphQLSchema, WeakMap<OperationDefinitionNode, Measure>>();

/**
 * Measures an operation with its variables: depth (introspection fields excepted), aliases, and a
 * cost where each field costs 1 and a field taking `first` multiplies its subtree by the page size
 * asked for (the default page size when omitted). Returns the first limit exceeded, or null.
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): GraphQLError | null {
  let bySchema = measured.get(schema);
  let m = bySchema?.get(operation);
  if (!m) {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
    let vars: Record<string, unknown> | undefined;
    const walk: Walk = {
      schema,
      fragments,
      variable: (name) => (vars ??= coerceVariables(schema, operation, variables))[name],
    };
    const root =
      operation.operation === "query"
        ? schema.getQueryType()
        : operation.operation === "mutation"
          ? schema.getMutationType()
          : schema.getSubscriptionType();
    m = measure(walk, operation.selectionSet, root ?? null, new Set());
    if (!vars) {
      if (!bySchema) measured.set(schema, (bySchema = new WeakMap()));
      bySchema.set(operation, m);
    }
  }
  if (m.depth > limits.maxDepth) return overLimit("MAX_DEPTH", limits.maxDepth, m.depth, "depth");
  if (m.aliases > limits.maxAliases) return overLimit("MAX_ALIASES", limits.maxAliases, m.aliases, "alias count");
  if (m.cost > limits.maxCost) return overLimit("MAX_COST", limits.maxCost, m.cost, "cost");
  return null;
}

function coerceVariables(
  schema: GraphQLSchema,
  op: OperationDefinitionNode,
  given: Record<string, unknown> | undefined,
) {
  const out: Record<string, unknown> = { ...given };
  for (const def of op.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (out[name] === undefined && def.defaultValue) {
      const type = typeFromAST(schema, def.type as never);
      if (type) out[name] = valueFromAST(def.defaultValue, type as never);
    }
  }
  return out;
}

function fieldsOf(type: GraphQLOutputType | null): Record<string, GraphQLField<unknown, unknown>> {
  const named = type ? getNamedType(type) : null;
  return named && (isObjectType(named) || isInterfaceType(named)) ? named.getFields() : {};
}

function measure(walk: Walk, set: SelectionSetNode, parent: GraphQLOutputType | null, seen: Set<string>): Measure {
  let depth = 0;
  let cost = 0;
  let aliases = 0;
  const fields = fieldsOf(parent);
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.alias) aliases++;
      const name = sel.name.value;
      const introspection = name.startsWith("__");
      const field = fields[name];
      const child = sel.selectionSet
        ? measure(walk, sel.selectionSet, introspection ? null : (field?.type ?? null), seen)
        : { depth: 0, cost: 0, aliases: 0 };
      aliases += child.aliases;
      if (introspection) continue;
      depth = Math.max(depth, 1 + child.depth);
      cost += 1 + pageSize(sel.arguments ?? [], walk, field) * child.cost;
    } else {
      const frag = sel.kind === Kind.INLINE_FRAGMENT ? sel : walk.fragments.get(sel.name.value);
      if (!frag) continue;
      let inner = seen;
      if (sel.kind === Kind.FRAGMENT_SPREAD) {
        if (seen.has(sel.name.value)) continue; // a cycle; graphql's own validation reports it
        inner = new Set(seen).add(sel.name.value);
      }
      const condition = frag.typeCondition ? walk.schema.getType(frag.typeCondition.name.value) : null;
      const type = condition && (isObjectType(condition) || isInterfaceType(condition)) ? condition : parent;
      const child = measure(walk, frag.selectionSet, type, inner);
      depth = Math.max(depth, child.depth);
      cost += child.cost;
      aliases += child.aliases;
    }
  }
  return { depth, cost, aliases };
}

function pageSize(
  args: readonly { name: { value: string }; value: import("graphql").ValueNode }[],
  walk: Walk,
  field: GraphQLField<unknown, unknown> | undefined,
): number {
  if (!field?.args.some((a) => a.name === "first")) return 1;
  const arg = args.find((a) => a.name.value === "first");
  let n: unknown = DEFAULT_PAGE_SIZE;
  if (arg?.value.kind === Kind.INT) n = Number(arg.value.value);
  else if (arg?.value.kind === Kind.VARIABLE) n = walk.variable(arg.value.name.value) ?? DEFAULT_PAGE_SIZE;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : 1;
}
