import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { GraphQLError } from "graphql";
import { createContext, type Context, type Services } from "../context";
import { ErrorCode, HubError } from "../shared/errors";
import type { ViewerIdentity } from "../modules/access";
import type { DirectGraphQL } from "./direct";
import type { RateLimiter } from "./rate-limit";

/** A file served as it is on GET (the /trends page and its scripts). */
export interface StaticFile {
  readonly contentType: string;
  readonly body: Buffer;
}

/** A streamed ingest: the body, its media type, and the feed named in the query string. */
export type IngestHandler = (
  viewer: ViewerIdentity,
  feedId: string,
  body: AsyncIterable<Uint8Array>,
  contentType: string | undefined,
) => Promise<unknown>;

/**
 * A streamed STIX export for a viewer, as string chunks; `include` is the query's comma-separated
 * list (null when absent). Throws a HubError (before the first chunk) for a bad request.
 */
export type ExportHandler = (
  viewer: ViewerIdentity,
  opts: { onwardSharing: boolean; include: string[] | null },
) => AsyncIterable<string>;

export interface HttpDeps {
  services: Services;
  apollo: ApolloServer<Context>;
  /** The common POST answered without Apollo's pipeline (direct.ts); Apollo answers the rest. */
  direct: DirectGraphQL;
  limiter: RateLimiter;
  ping: () => Promise<boolean>;
  ingest: IngestHandler;
  exportStix: ExportHandler;
  /** Static files by path; public (the page asks for a token itself and sends it to /graphql). */
  files?: ReadonlyMap<string, StaticFile>;
}

class BodyTooLarge extends Error {}
/** The client did not send its body in time (see REQUEST_TIMEOUT_MS and INGEST_IDLE_TIMEOUT_MS). */
class BodyTimeout extends Error {}

/** A whole body as text, cut off past `max` bytes or when it has not all arrived within `timeoutMs`. */
function readBody(req: IncomingMessage, max: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > max) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const fail = (e: Error) => {
      clearTimeout(timer);
      reject(e);
    };
    // The socket stays open for the 408, which closes it.
    const timer = setTimeout(() => {
      req.removeAllListeners("data");
      fail(new BodyTimeout());
    }, timeoutMs);
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        fail(new BodyTooLarge());
      } else chunks.push(c);
    });
    req.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", fail);
  });
}

/**
 * A request body as a stream for POST /ingest, cut off with BodyTooLarge past `max` bytes and
 * with BodyTimeout when the client sends nothing for `idleMs` while the hub waits for it. Only
 * that wait counts: the time the hub spends on what it already has (parsing, writing, while the
 * body waits under backpressure) never does, so an upload that keeps sending may take as long as
 * it needs. `failure` keeps what cut the body off, since the parsers downstream wrap whatever
 * their input throws.
 */
class IngestBody implements AsyncIterable<Uint8Array> {
  failure: BodyTooLarge | BodyTimeout | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly max: number,
    private readonly idleMs: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    const chunks = (this.req as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    let size = 0;
    // Whether to let go of the request (destroying it) when the reader stops early, as for-await
    // does; not when the hub cut the body off itself, so that its 413 or 408 can still be sent.
    let release = true;
    try {
      for (;;) {
        const next = chunks.next();
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<null>((resolve) => (timer = setTimeout(resolve, this.idleMs, null)));
        const r = await Promise.race([next, idle]).finally(() => clearTimeout(timer));
        if (r === null) {
          // The pending read settles when the socket closes after the 408.
          next.catch(() => {});
          release = false;
          throw (this.failure = new BodyTimeout());
        }
        if (r.done) return;
        size += r.value.length;
        if (size > this.max) {
          release = false;
          throw (this.failure = new BodyTooLarge());
        }
        yield r.value;
      }
    } finally {
      if (release) await chunks.return?.();
    }
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

const errorBody = (message: string, code: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, extensions: { code, ...extra } }],
});

const STATUS_OF_CODE: Record<string, number> = {
  [ErrorCode.UNAUTHENTICATED]: 401,
  [ErrorCode.FORBIDDEN]: 403,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.BAD_USER_INPUT]: 400,
  [ErrorCode.CONFLICT]: 409,
  [ErrorCode.RATE_LIMITED]: 429,
};

/** What the handler reads of a request's target (a URL, or the same read off a bare path). */
type Target = Pick<URL, "pathname" | "search" | "searchParams">;

/** A route's path as it is, with no query: what `new URL` would make of it. */
class BarePath implements Target {
  readonly search = "";
  constructor(readonly pathname: string) {}
  get searchParams() {
    return new URLSearchParams();
  }
}

const ROUTES = new Map(
  ["/graphql", "/ingest", "/export/stix", "/healthz", "/readyz"].map((path) => [path, new BarePath(path)]),
);

/**
 * The request target as `new URL(target, base)` reads it. One of the routes' paths as it is, with
 * no query (every POST /graphql), is its own pathname: parsing it as a URL would cost about 1 % of
 * a point lookup's CPU for the same answer. Anything else is parsed (normalised, with its query).
 */
const targetOf = (raw: string): Target => ROUTES.get(raw) ?? new URL(raw, "http://hub.invalid");

/** What each request leaves for its log line. */
interface Outcome {
  status: number;
  viewer: ViewerIdentity | null;
  ctx?: Context;
  codes: string[];
  /** Which pipeline answered a GraphQL request (see direct.ts). */
  pipeline?: "direct" | "apollo";
}

/**
 * The one HTTP entry: GraphQL over HTTP on /graphql, streamed ingest on /ingest, and the health
 * endpoints. Authentication and the rate limit run once here for both; no SQL, no domain rules.
 */
export function createHttpHandler({ services, apollo, direct, limiter, ping, ingest, exportStix, files }: HttpDeps) {
  const { config, log, auth } = services;

  /** Authenticates and takes from the token's budget; answers and returns undefined when it may not go on. */
  async function gate(
    req: IncomingMessage,
    res: ServerResponse,
    out: Outcome,
  ): Promise<ViewerIdentity | null | undefined> {
    let viewer: ViewerIdentity | null;
    try {
      viewer = await auth.authenticate(req.headers.authorization);
    } catch (e) {
      if (!(e instanceof HubError)) throw e;
      sendJson(res, (out.status = 401), errorBody(e.message, ErrorCode.UNAUTHENTICATED), {
        "www-authenticate": "Bearer",
      });
      return undefined;
    }
    out.viewer = viewer;
    const wait = limiter.take(viewer ? `t:${viewer.tokenId}` : `a:${req.socket.remoteAddress ?? "?"}`);
    if (wait > 0) {
      const body = errorBody(`Rate limit exceeded; retry in ${wait} s`, ErrorCode.RATE_LIMITED, { retryAfter: wait });
      sendJson(res, (out.status = 429), body, { "retry-after": String(wait) });
      return undefined;
    }
    return viewer;
  }

  const tooLarge = (res: ServerResponse, out: Outcome, max: number, name: string) =>
    sendJson(
      res,
      (out.status = 413),
      errorBody(`Request body exceeds ${max} bytes (${name})`, ErrorCode.BAD_USER_INPUT, { limit: name }),
      { connection: "close" },
    );

  const tooSlow = (res: ServerResponse, out: Outcome, ms: number, name: string, what: string) =>
    sendJson(res, (out.status = 408), errorBody(`${what} within ${ms} ms (${name})`, "BAD_REQUEST", { limit: name }), {
      connection: "close",
    });

  async function graphql(req: IncomingMessage, res: ServerResponse, url: Target, out: Outcome) {
    if (req.method !== "GET" && req.method !== "POST")
      return sendJson(res, (out.status = 405), errorBody("Use GET or POST", "BAD_REQUEST"), { allow: "GET, POST" });
    const viewer = await gate(req, res, out);
    if (viewer === undefined) return;
    let raw: string;
    try {
      raw = req.method === "POST" ? await readBody(req, config.MAX_BODY_BYTES, config.REQUEST_TIMEOUT_MS) : "";
    } catch (e) {
      if (e instanceof BodyTooLarge) return tooLarge(res, out, config.MAX_BODY_BYTES, "MAX_BODY_BYTES");
      if (e instanceof BodyTimeout)
        return tooSlow(res, out, config.REQUEST_TIMEOUT_MS, "REQUEST_TIMEOUT_MS", "The request body did not arrive");
      throw e;
    }
    let body: unknown = raw;
    if (req.method === "POST" && /^application\/(graphql-response\+)?json\b/i.test(req.headers["content-type"] ?? "")) {
      try {
        body = raw === "" ? undefined : JSON.parse(raw);
      } catch {
        return sendJson(res, (out.status = 400), errorBody("The request body is not valid JSON", "BAD_REQUEST"));
      }
    }
    const ctx = (out.ctx = createContext(services, viewer));
    if (req.method === "POST") {
      const answer = await direct(body, req.headers.accept, ctx);
      if (answer) {
        out.pipeline = "direct";
        res.writeHead((out.status = answer.status), {
          "cache-control": "no-store",
          "content-type": answer.contentType,
          "content-length": Buffer.byteLength(answer.body),
        });
        res.end(answer.body);
        return;
      }
    }
    out.pipeline = "apollo";
    const headers = new HeaderMap();
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
    const result = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
      context: async () => ctx,
    });
    out.status = result.status ?? 200;
    const respHeaders: Record<string, string> = { "cache-control": "no-store" };
    for (const [k, v] of result.headers) respHeaders[k] = v;
    if (result.body.kind === "complete") {
      res.writeHead(out.status, { ...respHeaders, "content-length": Buffer.byteLength(result.body.string) });
      res.end(result.body.string);
    } else {
      res.writeHead(out.status, respHeaders);
      for await (const chunk of result.body.asyncIterator) res.write(chunk);
      res.end();
    }
  }

  async function ingestRoute(req: IncomingMessage, res: ServerResponse, url: Target, out: Outcome) {
    if (req.method !== "POST")
      return sendJson(res, (out.status = 405), errorBody("Use POST", "BAD_REQUEST"), { allow: "POST" });
    const viewer = await gate(req, res, out);
    if (viewer === undefined) return;
    if (!viewer)
      return sendJson(res, (out.status = 401), errorBody("Missing or invalid credentials", ErrorCode.UNAUTHENTICATED));
    const feed = url.searchParams.get("feed");
    if (!feed)
      return sendJson(
        res,
        (out.status = 400),
        errorBody("feed: name the feed as ?feed=ID", ErrorCode.BAD_USER_INPUT, { field: "feed" }),
      );
    const body = new IngestBody(req, config.MAX_INGEST_BYTES, config.INGEST_IDLE_TIMEOUT_MS);
    try {
      const report = await ingest(viewer, feed, body, req.headers["content-type"]);
      sendJson(res, (out.status = 200), { data: { ingest: report } });
    } catch (e) {
      if (body.failure instanceof BodyTooLarge) return tooLarge(res, out, config.MAX_INGEST_BYTES, "MAX_INGEST_BYTES");
      if (body.failure instanceof BodyTimeout)
        return tooSlow(
          res,
          out,
          config.INGEST_IDLE_TIMEOUT_MS,
          "INGEST_IDLE_TIMEOUT_MS",
          "No more of the request body arrived",
        );
      if (
        !(e instanceof GraphQLError) ||
        typeof e.extensions.code !== "string" ||
        !(e.extensions.code in STATUS_OF_CODE)
      )
        throw e;
      out.codes.push(e.extensions.code);
      const { http: _http, ...extensions } = e.extensions as Record<string, unknown>;
      sendJson(res, (out.status = STATUS_OF_CODE[e.extensions.code] ?? 400), {
        errors: [{ message: e.message, extensions }],
      });
    }
  }

  /** GET /export/stix[?onwardSharing=false][&include=INDICATORS,ASSESSMENTS,INCIDENTS]: the viewer's STIX bundle, streamed with backpressure. */
  async function exportRoute(req: IncomingMessage, res: ServerResponse, url: Target, out: Outcome) {
    if (req.method !== "GET")
      return sendJson(res, (out.status = 405), errorBody("Use GET", "BAD_REQUEST"), { allow: "GET" });
    const viewer = await gate(req, res, out);
    if (viewer === undefined) return;
    if (!viewer)
      return sendJson(res, (out.status = 401), errorBody("Missing or invalid credentials", ErrorCode.UNAUTHENTICATED));
    const onward = url.searchParams.get("onwardSharing") !== "false";
    const include = url.searchParams.get("include");
    let chunks: AsyncIterable<string>;
    try {
      chunks = exportStix(viewer, { onwardSharing: onward, include: include === null ? null : include.split(",") });
    } catch (e) {
      const code = e instanceof HubError ? e.extensions.code : undefined;
      if (typeof code !== "string" || !(code in STATUS_OF_CODE)) throw e;
      out.codes.push(code);
      return sendJson(res, (out.status = STATUS_OF_CODE[code] ?? 400), errorBody((e as Error).message, code));
    }
    res.writeHead((out.status = 200), {
      "content-type": "application/stix+json;version=2.1",
      "cache-control": "no-store",
    });
    for await (const chunk of chunks) {
      if (!res.write(chunk)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  }

  /**
   * A static file. Scripts and styles only from this origin, and the page may talk only to it: a
   * token pasted into the page can go nowhere but the hub.
   */
  function fileRoute(req: IncomingMessage, res: ServerResponse, file: StaticFile, out: Outcome) {
    if (req.method !== "GET" && req.method !== "HEAD")
      return sendJson(res, (out.status = 405), errorBody("Use GET", "BAD_REQUEST"), { allow: "GET, HEAD" });
    res.writeHead((out.status = 200), {
      "content-type": file.contentType,
      "content-length": file.body.length,
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "content-security-policy":
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
      "referrer-policy": "no-referrer",
    });
    res.end(req.method === "HEAD" ? undefined : file.body);
  }

  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = targetOf(req.url ?? "/");
    const out: Outcome = { status: 500, viewer: null, codes: [] };
    try {
      if (url.pathname === "/graphql") return await graphql(req, res, url, out);
      if (url.pathname === "/ingest") return await ingestRoute(req, res, url, out);
      if (url.pathname === "/export/stix") return await exportRoute(req, res, url, out);
      if (url.pathname === "/healthz") return sendJson(res, (out.status = 200), { status: "ok" });
      const file = files?.get(url.pathname);
      if (file) return fileRoute(req, res, file, out);
      if (url.pathname === "/readyz") {
        const ok = await ping();
        return sendJson(res, (out.status = ok ? 200 : 503), { status: ok ? "ready" : "database unreachable" });
      }
      return sendJson(res, (out.status = 404), errorBody("Not found", ErrorCode.NOT_FOUND));
    } catch (e) {
      const id = crypto.randomUUID();
      log.error({ err: e, errorId: id }, "request failed");
      const body = errorBody(`Internal server error (reference ${id})`, ErrorCode.INTERNAL_SERVER_ERROR, {
        errorId: id,
      });
      if (!res.headersSent) sendJson(res, (out.status = 500), body);
      else res.destroy();
    } finally {
      if (url.pathname !== "/healthz" && url.pathname !== "/readyz") {
        const codes = [...(out.ctx?.trace.errorCodes ?? []), ...out.codes];
        log.info(
          {
            kind: "http",
            method: req.method,
            path: url.pathname,
            operationName: out.ctx?.trace.operationName ?? null,
            pipeline: out.pipeline,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            organizationId: out.viewer?.organizationId ?? null,
            accountId: out.viewer?.accountId ?? null,
            status: out.status,
            outcome: codes.length ? codes.join(",") : out.status < 400 ? "ok" : "rejected",
          },
          "request",
        );
      }
    }
  };
}
