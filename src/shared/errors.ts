import { randomUUID } from "node:crypto";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "./logger";

/** The closed set of error codes clients may rely on (DESIGN section 9). */
export const ErrorCode = {
  UNAUTHENTICATED: "UNAUTHENTICATED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  BAD_USER_INPUT: "BAD_USER_INPUT",
  CONFLICT: "CONFLICT",
  RATE_LIMITED: "RATE_LIMITED",
  /** A subscription's client read more slowly than events came: resume from `resumeAfter`. */
  FELL_BEHIND: "FELL_BEHIND",
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes the GraphQL layer itself produces for a malformed or over-limit operation. */
const PASS_THROUGH = new Set<string>([
  // INTERNAL_SERVER_ERROR is what Apollo stamps on anything unexpected: never passed through.
  ...Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
]);

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  RATE_LIMITED: 429,
};

/**
 * An expected failure with a code from ErrorCode; anything else thrown is masked. It carries no
 * stack trace: it is an answer, never shown or logged with one, and reading a captured trace
 * (graphql-js and graphql-jit copy the cause's `stack` into the errors they wrap it in) formats it
 * through the source maps, which cost a fifth of the CPU of a not-found `assessment(id, asOf)`.
 */
export class HubError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    const status = HTTP_STATUS[code];
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message, { extensions: { code, ...extensions, ...(status ? { http: { status } } : {}) } });
    } finally {
      Error.stackTraceLimit = limit;
    }
  }
}

/** The one message for every unusable token, so a caller cannot tell the cases apart. */
export const unauthenticated = () => new HubError(ErrorCode.UNAUTHENTICATED, "Missing or invalid credentials");
export const forbidden = (message = "Not allowed for this account") => new HubError(ErrorCode.FORBIDDEN, message);
/** Identical for records that do not exist and records the viewer may not see. */
export const notFound = (what: string) => new HubError(ErrorCode.NOT_FOUND, `${what} not found`);
export const badInput = (field: string, message: string) =>
  new HubError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });
export const rateLimited = (retryAfter: number) =>
  new HubError(ErrorCode.RATE_LIMITED, `Rate limit exceeded; retry in ${retryAfter} s`, { retryAfter });
/** A subscription's last message when its client fell behind; it resumes with `after: resumeAfter`. */
export const fellBehind = (resumeAfter: string) =>
  new HubError(
    ErrorCode.FELL_BEHIND,
    "You fell behind: events came faster than this subscription read them. Subscribe again with after: resumeAfter to continue where you left off.",
    { resumeAfter },
  );
/** Resuming from a position the event log no longer keeps. */
export const cursorExpired = (field = "after") =>
  new HubError(
    ErrorCode.BAD_USER_INPUT,
    `${field}: the event log no longer goes back that far (EVENT_RETENTION_HOURS). Re-sync with a query, then subscribe again without ${field}.`,
    { field, reason: "CURSOR_EXPIRED" },
  );
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  new HubError(ErrorCode.CONFLICT, message, extensions);

/** Keeps coded errors, masks the rest with an id that is logged with the original. */
export function formatError(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === "string" && PASS_THROUGH.has(code)) {
      const { http: _http, stacktrace: _s, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    if (isUncodedBadRequest(error)) return { message: formatted.message, extensions: { code: "BAD_REQUEST" } };
    const errorId = randomUUID();
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    logger.error({ errorId, err: original, path: formatted.path }, "unexpected error");
    return {
      message: `Internal server error (reference ${errorId})`,
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR, errorId },
    };
  };
}

/**
 * Apollo Server's own refusals of a request that carry a 4xx status but no code (a persisted
 * query's hash that does not match its text, an unknown persisted-query version): the client's
 * mistake, answered as BAD_REQUEST like Apollo's coded ones, not masked and logged as unexpected.
 * Nothing thrown by the hub's code qualifies: its errors have codes, and anything else thrown
 * reaches here wrapped (with an `originalError`).
 */
function isUncodedBadRequest(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.originalError || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
