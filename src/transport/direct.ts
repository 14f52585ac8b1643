import {
  getOperationAST,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import type { Context, Services } from "../context";
import { formatError } from "../shared/errors";
import { checkOperationLimits } from "../shared/limits";
import { compiledExecutor } from "./compiled";

/** An answer ready to send: what Apollo Server would have answered, byte for byte. */
export interface DirectAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** A query text that parsed and validated, with its operations by name ("" for the only one). */
interface Parsed {
  document: DocumentNode;
  operations: Map<string, OperationDefinitionNode>;
}

/**
 * How much query text is kept parsed, all texts together: a parsed document takes ~70 times the
 * memory of its text (73x for bench/assessments-bare.ts's page query), so this is ~15 MB. Clients
 * send a handful of distinct queries; a stream of distinct ones only evicts the oldest. A text
 * longer than MAX_CACHED_QUERY is parsed again for each request rather than kept.
 */
const MAX_CACHED_CHARS = 200_000;
const MAX_CACHED_QUERY = 16 * 1024;

/** Query texts kept parsed and validated (null: they do not parse or validate), oldest first. */
export class ParsedDocuments {
  private readonly documents = new Map<string, Parsed | null>();
  private cachedChars = 0;

  constructor(
    private readonly schema: GraphQLSchema,
    private readonly maxChars = MAX_CACHED_CHARS,
    private readonly maxQuery = MAX_CACHED_QUERY,
  ) {}

  /** The characters of the texts kept (never more than `maxChars`). */
  get chars(): number {
    return this.cachedChars;
  }

  has(query: string): boolean {
    return this.documents.has(query);
  }

  get(query: string): Parsed | null {
    let p = this.documents.get(query);
    if (p !== undefined) return p;
    try {
      const document = parse(query);
      p = validate(this.schema, document).length ? null : { document, operations: new Map() };
    } catch {
      p = null;
    }
    if (query.length <= this.maxQuery) {
      this.cachedChars += query.length;
      this.documents.set(query, p);
      for (const oldest of this.documents.keys()) {
        if (this.cachedChars <= this.maxChars) break;
        this.documents.delete(oldest);
        this.cachedChars -= oldest.length;
      }
    }
    return p;
  }
}

/**
 * GraphQL over HTTP for the common request, without Apollo Server's request pipeline: a POST whose
 * JSON body is `{ query, variables?, operationName? }` for a query or mutation that parses,
 * validates and stays within the limits, from a client that takes `application/json`. Returns
 * `undefined`, having run nothing, for anything else (a GET, a persisted query, a subscription,
 * a syntax, validation, limit or variable error, another media type): Apollo answers those.
 *
 * Why: Apollo's pipeline (a SHA-256 of the query text, a dozen plugin hooks, header maps, a
 * context copy) was a fifth of the hub's CPU for the point read `assessment(id, asOf)`: answered
 * here, that read went from ~350 to ~280 µs of CPU per request (npm run bench:assessments).
 *
 * What runs is the same: the compiled operation (compiled.ts), the limits, `formatError`, and the
 * answer's form (status from the errors' `extensions.http`, `code` defaulting to
 * INTERNAL_SERVER_ERROR, errors before data, a final newline). test/direct-graphql.test.ts sends
 * the same requests both ways and compares the answers.
 */
export type DirectGraphQL = (
  body: unknown,
  accept: string | undefined,
  ctx: Context,
) => Promise<DirectAnswer | undefined>;

export function directGraphQL(schema: GraphQLSchema, services: Services): DirectGraphQL {
  const execute = compiledExecutor(schema);
  const format = formatError(services.log);
  const { MAX_DEPTH, MAX_COST, MAX_ALIASES } = services.config;
  const limits = { maxDepth: MAX_DEPTH, maxCost: MAX_COST, maxAliases: MAX_ALIASES };
  const documents = new ParsedDocuments(schema);

  /** The operation named (or the only one); only those found are kept, so names sent cost nothing. */
  function operationOf(p: Parsed, name: string | undefined): OperationDefinitionNode | null {
    const known = p.operations.get(name ?? "");
    if (known) return known;
    const op = getOperationAST(p.document, name) ?? null;
    if (op) p.operations.set(name ?? "", op);
    return op;
  }

  return async (body, accept, ctx) => {
    if (!isRecord(body) || typeof body.query !== "string" || body.query === "") return undefined;
    if (body.extensions !== undefined && body.extensions !== null) return undefined;
    const { variables, operationName } = body;
    if (variables !== undefined && variables !== null && !isRecord(variables)) return undefined;
    if (operationName !== undefined && operationName !== null && typeof operationName !== "string") return undefined;
    const contentType = contentTypeFor(accept);
    if (!contentType) return undefined;
    const p = documents.get(body.query);
    if (!p) return undefined;
    const operation = operationOf(p, operationName ?? undefined);
    if (!operation || operation.operation === "subscription") return undefined;
    const inputs = variables ?? undefined;
    if (checkOperationLimits(schema, p.document, operation, inputs, limits)) return undefined;

    ctx.trace.operationName = operation.name?.value ?? null;
    const result = await execute(p.document, operation, ctx, inputs);
    // Refused variables: nothing ran, and Apollo words that answer.
    if (!("data" in result)) return undefined;
    let status = 200;
    let errors: GraphQLFormattedError[] | undefined;
    if (result.errors) {
      errors = result.errors.map((e) => {
        const { formatted, httpStatus } = formattedError(e, format);
        if (httpStatus) status = httpStatus;
        ctx.trace.errorCodes.push(String(formatted.extensions?.code ?? "UNKNOWN"));
        return formatted;
      });
    }
    return { status, contentType, body: `${JSON.stringify({ errors, data: result.data })}\n` };
  };
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);

const JSON_UTF8 = "application/json; charset=utf-8";
const GRAPHQL_RESPONSE = "application/graphql-response+json; charset=utf-8";

/** The answer's media type for the Accept headers clients usually send, as Apollo negotiates them. */
const MEDIA_TYPE_FOR_ACCEPT = new Map([
  ["", JSON_UTF8],
  ["*/*", JSON_UTF8],
  ["application/json", JSON_UTF8],
  ["application/graphql-response+json", GRAPHQL_RESPONSE],
  ["application/graphql-response+json, application/json", GRAPHQL_RESPONSE],
]);

/** undefined for any other Accept header: Apollo negotiates those. */
const contentTypeFor = (accept: string | undefined) => MEDIA_TYPE_FOR_ACCEPT.get(accept ?? "");

/**
 * One error as Apollo Server formats it: `code` defaults to INTERNAL_SERVER_ERROR, an
 * `extensions.http` sets the status and is dropped, then `formatError`; a formatter that throws
 * gives Apollo's bare internal error.
 */
function formattedError(
  error: GraphQLError,
  format: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError,
): { formatted: GraphQLFormattedError; httpStatus: number | undefined } {
  let httpStatus: number | undefined;
  try {
    const extensions: Record<string, unknown> = {
      ...error.extensions,
      code: error.extensions.code ?? "INTERNAL_SERVER_ERROR",
    };
    // The hub's errors set a status there (HubError), never headers.
    const http = extensions.http as { status?: unknown; headers?: unknown } | undefined;
    if (
      http &&
      typeof http === "object" &&
      (http.status === undefined || typeof http.status === "number") &&
      (http.headers === undefined || http.headers instanceof Map)
    ) {
      if (http.status) httpStatus = http.status as number;
      delete extensions.http;
    }
    return { formatted: format({ ...error.toJSON(), extensions }, error), httpStatus };
  } catch {
    return {
      formatted: { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } },
      httpStatus,
    };
  }
}
