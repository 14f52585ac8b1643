import type { IncomingMessage, ServerResponse } from "node:http";
import { HeaderMap, type ApolloServer } from "@apollo/server";
import { createContext, type Context, type Services } from "../context";
import { ErrorCode, HubError } from "../shared/errors";
import type { RateLimiter } from "./rate-limit";

export interface HttpDeps {
  services: Services;
  apollo: ApolloServer<Context>;
  limiter: RateLimiter;
  ping: () => Promise<boolean>;
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (declared > max) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        reject(new BodyTooLarge());
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

const errorBody = (message: string, code: string, extra: Record<string, unknown> = {}) => ({
  errors: [{ message, extensions: { code, ...extra } }],
});

/** The one HTTP entry: GraphQL over HTTP on /graphql, and the health endpoints. No SQL here. */
export function createHttpHandler({ services, apollo, limiter, ping }: HttpDeps) {
  const { config, log, auth } = services;
  return async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    const url = new URL(req.url ?? "/", "http://hub.invalid");
    let ctx: Context | undefined;
    let status = 500;
    try {
      if (url.pathname === "/healthz") return sendJson(res, (status = 200), { status: "ok" });
      if (url.pathname === "/readyz") {
        const ok = await ping();
        return sendJson(res, (status = ok ? 200 : 503), { status: ok ? "ready" : "database unreachable" });
      }
      if (url.pathname !== "/graphql")
        return sendJson(res, (status = 404), errorBody("Not found", ErrorCode.NOT_FOUND));
      if (req.method !== "GET" && req.method !== "POST")
        return sendJson(res, (status = 405), errorBody("Use GET or POST", "BAD_REQUEST"), { allow: "GET, POST" });

      let viewer;
      try {
        viewer = await auth.authenticate(req.headers.authorization);
      } catch (e) {
        if (e instanceof HubError)
          return sendJson(res, (status = 401), errorBody(e.message, ErrorCode.UNAUTHENTICATED), {
            "www-authenticate": "Bearer",
          });
        throw e;
      }
      const wait = limiter.take(viewer ? `t:${viewer.tokenId}` : `a:${req.socket.remoteAddress ?? "?"}`);
      if (wait > 0)
        return sendJson(
          res,
          (status = 429),
          errorBody(`Rate limit exceeded; retry in ${wait} s`, ErrorCode.RATE_LIMITED, { retryAfter: wait }),
          {
            "retry-after": String(wait),
          },
        );

      let raw: string;
      try {
        raw = req.method === "POST" ? await readBody(req, config.MAX_BODY_BYTES) : "";
      } catch (e) {
        if (e instanceof BodyTooLarge)
          return sendJson(
            res,
            (status = 413),
            errorBody(
              `Request body exceeds ${config.MAX_BODY_BYTES} bytes (MAX_BODY_BYTES)`,
              ErrorCode.BAD_USER_INPUT,
              { limit: "MAX_BODY_BYTES" },
            ),
            {
              connection: "close",
            },
          );
        throw e;
      }
      const headers = new HeaderMap();
      for (const [k, v] of Object.entries(req.headers))
        if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      let body: unknown = raw;
      if (
        req.method === "POST" &&
        /^application\/(graphql-response\+)?json\b/i.test(headers.get("content-type") ?? "")
      ) {
        try {
          body = raw === "" ? undefined : JSON.parse(raw);
        } catch {
          return sendJson(res, (status = 400), errorBody("The request body is not valid JSON", "BAD_REQUEST"));
        }
      }
      ctx = createContext(services, viewer);
      const context = ctx;
      const result = await apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: { method: req.method, headers, search: url.search, body },
        context: async () => context,
      });
      status = result.status ?? 200;
      const out: Record<string, string> = { "cache-control": "no-store" };
      for (const [k, v] of result.headers) out[k] = v;
      if (result.body.kind === "complete") {
        res.writeHead(status, { ...out, "content-length": Buffer.byteLength(result.body.string) });
        res.end(result.body.string);
      } else {
        res.writeHead(status, out);
        for await (const chunk of result.body.asyncIterator) res.write(chunk);
        res.end();
      }
    } catch (e) {
      const id = crypto.randomUUID();
      log.error({ err: e, errorId: id }, "request failed");
      if (!res.headersSent)
        sendJson(
          res,
          (status = 500),
          errorBody(`Internal server error (reference ${id})`, ErrorCode.INTERNAL_SERVER_ERROR, { errorId: id }),
        );
      else res.destroy();
    } finally {
      if (url.pathname === "/graphql")
        log.info(
          {
            kind: "http",
            method: req.method,
            operationName: ctx?.trace.operationName ?? null,
            durationMs: Math.round((performance.now() - started) * 100) / 100,
            organizationId: ctx?.viewer?.organizationId ?? null,
            accountId: ctx?.viewer?.accountId ?? null,
            status,
            outcome: ctx?.trace.errorCodes.length ? ctx.trace.errorCodes.join(",") : status < 400 ? "ok" : "rejected",
          },
          "request",
        );
    }
  };
}
