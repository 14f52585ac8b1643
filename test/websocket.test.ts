import { CloseCode, createClient, type Client, type ClientOptions, type FormattedExecutionResult } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { newToken } from "../src/modules/access/tokens";
import { startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

/** RFC 6455 "going away": what the hub sends every socket when it shuts down. */
const GOING_AWAY = 1001;

type Result = FormattedExecutionResult<Record<string, unknown>, unknown>;

interface Outcome {
  results: Result[];
  /** What the sink's error callback got: GraphQL errors, or the CloseEvent of a fatal close. */
  error?: unknown;
}

/** Every client a test opens, disposed after it so no socket outlives its test. */
const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

function connect(url: string, authorization: string | undefined, options: Partial<ClientOptions> = {}): Client {
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: authorization === undefined ? undefined : { authorization },
    retryAttempts: 0,
    // A non-lazy client reports a closed socket here (console.error by default); tests watch "closed".
    onNonLazyError: () => {},
    ...options,
  });
  clients.push(client);
  return client;
}

/** Runs one operation to completion (or error) over the client's socket. */
function run(client: Client, query: string, variables?: Record<string, unknown>): Promise<Outcome> {
  return new Promise((resolve) => {
    const results: Result[] = [];
    client.subscribe(
      { query, variables },
      {
        next: (r) => void results.push(r),
        error: (error) => resolve({ results, error }),
        complete: () => resolve({ results }),
      },
    );
  });
}

/** Resolves with the close code of the client's next socket close. */
function nextCloseCode(client: Client): Promise<number> {
  return new Promise((resolve) => {
    const off = client.on("closed", (event) => {
      off();
      resolve((event as { code: number }).code);
    });
  });
}

describe("graphql-ws on /graphql", () => {
  let hub: TestHub;
  let org: SeededOrg;
  let reader: SeededAccount;

  beforeAll(async () => {
    hub = await startHub({ MAX_DEPTH: 3 });
    org = await hub.world.org("MEMBER_STATE");
    reader = await hub.world.account(org, "READER");
  });
  afterAll(() => hub?.dispose());

  it("answers a query over the socket for the account named in connectionParams.authorization", async () => {
    const client = connect(hub.wsUrl, `Bearer ${reader.token}`);
    const outcome = await run(client, "{ viewer { organization { name } } }");
    expect(outcome.error).toBeUndefined();
    expect(outcome.results).toEqual([{ data: { viewer: { organization: { name: org.name } } } }]);
  });

  it.each([
    ["a malformed token", () => "Bearer not-a-token"],
    ["a header that is not a bearer token", () => `Basic ${reader.token}`],
    ["a well-formed token the hub never issued", () => `Bearer ${newToken()}`],
  ])("closes the connection with 4403 Forbidden for %s", async (_what, authorization) => {
    const client = connect(hub.wsUrl, authorization());
    const closed = nextCloseCode(client);
    const outcome = await run(client, "{ __typename }");
    expect(await closed).toBe(CloseCode.Forbidden);
    expect(outcome.results).toEqual([]);
    expect((outcome.error as { code?: number }).code).toBe(CloseCode.Forbidden);
  });

  it("rejects an operation deeper than MAX_DEPTH with GRAPHQL_VALIDATION_FAILED naming the limit", async () => {
    const client = connect(hub.wsUrl, `Bearer ${reader.token}`);
    const outcome = await run(client, "{ viewer { organization { contacts { organization { name } } } } }");
    expect(outcome.results).toEqual([]);
    const errors = outcome.error as { message: string; extensions?: Record<string, unknown> }[];
    expect(errors).toHaveLength(1);
    expect(errors[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_DEPTH", max: 3 });
    expect(errors[0]?.message).toMatch(/over the limit of 3 \(MAX_DEPTH\)/);
  });

  it("runs an operation exactly at MAX_DEPTH on the same socket as a rejected one", async () => {
    const client = connect(hub.wsUrl, `Bearer ${reader.token}`, { lazy: false });
    const rejected = await run(client, "{ viewer { organization { regions { name } } } }");
    expect((rejected.error as { extensions?: { code?: string } }[])[0]?.extensions?.code).toBe(
      "GRAPHQL_VALIDATION_FAILED",
    );
    const accepted = await run(client, "{ viewer { organization { name } } }");
    expect(accepted).toEqual({ results: [{ data: { viewer: { organization: { name: org.name } } } }] });
  });
});

describe("rate limit over the socket", () => {
  it("answers RATE_LIMITED once the token's budget, shared with HTTP, is spent", async () => {
    const hub = await startHub({ RATE_LIMIT_BURST: 2, RATE_LIMIT_PER_SECOND: 1 });
    try {
      const reader = await hub.world.account(await hub.world.org("MEMBER_STATE"), "READER");
      expect((await hub.gql(reader.token, "{ viewer { role } }")).status).toBe(200);
      const client = connect(hub.wsUrl, `Bearer ${reader.token}`);
      expect((await run(client, "{ viewer { role } }")).results).toEqual([{ data: { viewer: { role: "READER" } } }]);
      const limited = await run(client, "{ viewer { role } }");
      expect(limited.results).toEqual([]);
      expect((limited.error as { extensions?: Record<string, unknown> }[])[0]?.extensions).toMatchObject({
        code: "RATE_LIMITED",
        retryAfter: 1,
      });
    } finally {
      await hub.dispose();
    }
  });
});

describe("shutdown", () => {
  it("closes an open socket with 1001 (going away) when the hub is disposed", async () => {
    const hub = await startHub();
    let disposed: Promise<void> | undefined;
    try {
      const reader = await hub.world.account(await hub.world.org("PARTNER"), "READER");
      const client = connect(hub.wsUrl, `Bearer ${reader.token}`, { lazy: false });
      await new Promise<void>((resolve) => client.on("connected", () => resolve()));
      const closed = nextCloseCode(client);
      disposed = hub.dispose();
      expect(await closed).toBe(GOING_AWAY);
      await disposed;
    } finally {
      await (disposed ?? hub.dispose());
    }
  });
});
