import { createHash } from "node:crypto";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildHubSchema } from "../src/schema";
import { ParsedDocuments } from "../src/transport/direct";
import { startHub, type SeededAccount, type TestHub } from "./harness";

/**
 * The common POST /graphql is answered without Apollo Server's pipeline (src/transport/direct.ts),
 * and must answer exactly as Apollo does. Each request here is sent twice: once as clients send it
 * (answered directly), once with an Accept header the direct path leaves to Apollo but which
 * negotiates to the same media type. The request log says which pipeline answered each.
 */

let hub: TestHub;
let analyst: SeededAccount;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  // One token sends a few hundred requests here.
  hub = await startHub({ RATE_LIMIT_BURST: 1_000 }, { logger });
  const org = await hub.world.org("MEMBER_STATE");
  analyst = await hub.world.account(org, "ANALYST");
});
afterAll(() => hub?.dispose());

interface Sent {
  status: number;
  contentType: string | null;
  cacheControl: string | null;
  body: string;
  pipeline: unknown;
}

async function send(body: unknown, opts: { token?: string | null; accept?: string } = {}): Promise<Sent> {
  const token = opts.token === undefined ? analyst.token : opts.token;
  const res = await fetch(`${hub.url}/graphql`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(opts.accept !== undefined ? { accept: opts.accept } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  // The request's log line is written as its answer goes, before the answer can arrive here.
  const line = lines.findLast((l) => l.msg === "request" && l.path === "/graphql");
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    cacheControl: res.headers.get("cache-control"),
    body: text,
    pipeline: line?.pipeline,
  };
}

/** Sends `body` as a client would and as only Apollo answers it; both answers must be the same. */
async function both(body: unknown, opts: { token?: string | null; accept?: string; apolloAccept?: string } = {}) {
  const direct = await send(body, { token: opts.token, accept: opts.accept });
  const apollo = await send(body, { token: opts.token, accept: opts.apolloAccept ?? "application/json, */*;q=0.5" });
  expect(apollo.pipeline).toBe("apollo");
  expect({ ...direct, pipeline: undefined }).toEqual({ ...apollo, pipeline: undefined });
  return direct;
}

describe("GraphQL answered without Apollo's pipeline", () => {
  it("answers a query with data as Apollo does", async () => {
    const r = await both({ query: "{ viewer { organization { name kind } } }" });
    expect(r.pipeline).toBe("direct");
    expect(r.status).toBe(200);
    expect(r.contentType).toBe("application/json; charset=utf-8");
    expect(r.cacheControl).toBe("no-store");
    expect(JSON.parse(r.body)).toMatchObject({ data: { viewer: { organization: { kind: "MEMBER_STATE" } } } });
    expect(r.body.endsWith("}\n")).toBe(true);
  });

  it("answers errors, with null data, the status and the code, as Apollo does", async () => {
    const notFound = await both({
      query: "query One($id: ID!) { assessment(id: $id) { id } }",
      variables: { id: "QXNzZXNzbWVudDpub3BlCg" },
    });
    expect(notFound.pipeline).toBe("direct");
    expect(notFound.status).toBe(200);
    expect(JSON.parse(notFound.body)).toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" } }], data: null });
    // Anonymous: the resolver's UNAUTHENTICATED carries the 401 that Apollo answers with.
    const anonymous = await both({ query: "{ viewer { organization { name } } }" }, { token: null });
    expect(anonymous.pipeline).toBe("direct");
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ errors: [{ extensions: { code: "UNAUTHENTICATED" } }] });
  });

  it("answers a mutation's error, and picks the named operation, as Apollo does", async () => {
    const create = `mutation Create($name: String!) { createThreatActor(input: { name: $name, marking: { tlp: GREEN } }) { id name } }
      query Other { viewer { organization { name } } }`;
    const name = `parity actor ${Math.random()}`;
    const first = await send({ query: create, operationName: "Create", variables: { name } });
    expect(JSON.parse(first.body)).toMatchObject({ data: { createThreatActor: { name } } });
    const duplicate = await both({ query: create, operationName: "Create", variables: { name } });
    expect(duplicate.pipeline).toBe("direct");
    expect(JSON.parse(duplicate.body)).toMatchObject({ errors: [{ extensions: { code: "CONFLICT" } }], data: null });
    const other = await both({ query: create, operationName: "Other" });
    expect(other.pipeline).toBe("direct");
    expect(JSON.parse(other.body)).toMatchObject({ data: { viewer: { organization: {} } } });
  });

  it("answers partial data with the errors of the fields that failed, as Apollo does", async () => {
    const r = await both({
      query: `{ bad: indicator(value: "not-an-address", type: IPV4) { value } viewer { organization { kind } } }`,
    });
    expect(r.pipeline).toBe("direct");
    const body = JSON.parse(r.body);
    expect(body.errors?.[0]?.path).toEqual(["bad"]);
    expect(body.data).toMatchObject({ bad: null, viewer: { organization: { kind: "MEMBER_STATE" } } });
  });

  it("answers in application/graphql-response+json when the client asks for it", async () => {
    const r = await both(
      { query: "{ viewer { organization { kind } } }" },
      {
        accept: "application/graphql-response+json, application/json",
        apolloAccept: "application/graphql-response+json;q=1, application/json;q=0.9",
      },
    );
    expect(r.pipeline).toBe("direct");
    expect(r.contentType).toBe("application/graphql-response+json; charset=utf-8");
  });

  it("leaves to Apollo what it does not answer itself", async () => {
    const cases: { body: unknown; status: number; code: string }[] = [
      { body: { query: "{ viewer { nope } }" }, status: 400, code: "GRAPHQL_VALIDATION_FAILED" },
      { body: { query: "{ viewer " }, status: 400, code: "GRAPHQL_PARSE_FAILED" },
      {
        body: { query: "query Q($id: ID!) { assessment(id: $id) { id } }", variables: { id: 7.5 } },
        status: 400,
        code: "BAD_USER_INPUT",
      },
      {
        // Two operations and no operationName.
        body: { query: "query A { viewer { id } } query B { viewer { id } }" },
        status: 400,
        code: "GRAPHQL_VALIDATION_FAILED",
      },
      {
        // A persisted query's hash that is not its text's: the client's mistake, not masked.
        body: { query: "{ viewer { id } }", extensions: { persistedQuery: { version: 1, sha256Hash: "00" } } },
        status: 400,
        code: "BAD_REQUEST",
      },
    ];
    for (const c of cases) {
      const r = await both(c.body);
      expect(r.pipeline, JSON.stringify(c.body)).toBe("apollo");
      expect(r.status, JSON.stringify(c.body)).toBe(c.status);
      expect(JSON.parse(r.body).errors?.[0]?.extensions?.code, JSON.stringify(c.body)).toBe(c.code);
    }
    // A query sent with its hash, to be registered as a persisted query.
    const query = "{ viewer { organization { kind } } }";
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const persisted = await both({ query, extensions: { persistedQuery: { version: 1, sha256Hash } } });
    expect(persisted.pipeline).toBe("apollo");
    expect(JSON.parse(persisted.body)).toEqual({ data: { viewer: { organization: { kind: "MEMBER_STATE" } } } });
  });
});

describe("the parsed documents it keeps", () => {
  it("keep at most their budget of query text, evicting the oldest, and skip texts over the size", async () => {
    const { schema } = await buildHubSchema();
    const docs = new ParsedDocuments(schema, 1_000, 300);
    const query = (n: number) => `query Q${n} { viewer { organization { name kind } } }`.padEnd(100, " ");
    for (let n = 0; n < 25; n++) expect(docs.get(query(n))?.document).toBeDefined();
    expect(docs.chars).toBe(1_000);
    expect(docs.has(query(14))).toBe(false);
    expect(docs.has(query(15))).toBe(true);
    expect(docs.get("{ viewer { nope } }")).toBeNull();
    expect(docs.has("{ viewer { nope } }")).toBe(true);
    const long = query(99).padEnd(301, " ");
    expect(docs.get(long)?.document).toBeDefined();
    expect(docs.has(long)).toBe(false);
    expect(docs.chars).toBeLessThanOrEqual(1_000);
  });

  it("answers as before once its first documents were evicted", async () => {
    const query = (n: number) => `query Many${n} { viewer { organization { kind } } }`.padEnd(1_000, " ");
    // 300 texts of 1,000 characters: more than the 200,000 kept.
    for (let n = 0; n < 300; n++) {
      const r = await send({ query: query(n) });
      expect(r.status).toBe(200);
    }
    const again = await send({ query: query(0) });
    expect(again.pipeline).toBe("direct");
    expect(JSON.parse(again.body)).toEqual({ data: { viewer: { organization: { kind: "MEMBER_STATE" } } } });
  });
});
