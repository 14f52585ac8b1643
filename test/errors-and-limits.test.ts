import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { toGlobalId } from "../src/shared/ids";
import {
  CreateContactDocument,
  CreateFeedDocument,
  IndicatorByValueDocument,
  NodeByIdDocument,
  OrganizationsDocument,
  SharingGroupDocument,
} from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let xaAdmin: SeededAccount;
let xbAdmin: SeededAccount;

const limits = {
  MAX_DEPTH: 5,
  MAX_ALIASES: 3,
  MAX_COST: 400,
  MAX_PAGE_SIZE: 20,
  MAX_BODY_BYTES: 4096,
  RATE_LIMIT_BURST: 1000,
};

beforeAll(async () => {
  hub = await startHub(limits);
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  xaAdmin = await hub.world.account(xa, "ADMIN");
  xbAdmin = await hub.world.account(xb, "ADMIN");
});
afterAll(() => hub?.dispose());

const contactInput = (marking: Record<string, unknown>) => ({
  kind: "TECHNICAL" as const,
  name: "Duty desk",
  timeZone: "Europe/Paris",
  marking: { tlp: "AMBER" as const, ...marking },
});

describe("operation limits", () => {
  it("refuses a query deeper than MAX_DEPTH, naming the limit", async () => {
    const r = await hub.gql(xaAdmin.token, "{ viewer { organization { regions { members { regions { name } } } } } }");
    expect(r.status).toBe(400);
    expect(r.data).toBeUndefined();
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: "GRAPHQL_VALIDATION_FAILED",
      limit: "MAX_DEPTH",
      max: 5,
      actual: 6,
    });
    expect(r.errors?.[0]?.message).toContain("MAX_DEPTH");
  });

  it("does not count introspection towards the depth limit", async () => {
    const r = await hub.gql(
      xaAdmin.token,
      "{ __schema { types { fields { type { ofType { ofType { ofType { name } } } } } } } }",
    );
    expect(r.errors).toBeUndefined();
  });

  it("refuses more aliases than MAX_ALIASES", async () => {
    const r = await hub.gql(
      xaAdmin.token,
      "{ a: viewer { role } b: viewer { role } c: viewer { role } d: viewer { role } }",
    );
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: "GRAPHQL_VALIDATION_FAILED",
      limit: "MAX_ALIASES",
      max: 3,
      actual: 4,
    });
  });

  it("prices a page by the size asked for, including through variables, and refuses over MAX_COST", async () => {
    const q = "query($n: Int) { organizations(first: $n) { edges { node { name members { name } } } } }"; // 1 + 5n
    expect((await hub.gql(xaAdmin.token, q, { n: 5 })).errors).toBeUndefined();
    const r = await hub.gql(xaAdmin.token, q, { n: 100 });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "GRAPHQL_VALIDATION_FAILED", limit: "MAX_COST", max: 400 });
    expect((await hub.gql(xaAdmin.token, q, { n: 5 })).errors).toBeUndefined();
    // A default counts as the value; the same query text without the variable is priced again.
    const byDefault = "query($n: Int = 100) { organizations(first: $n) { edges { node { name members { name } } } } }";
    expect((await hub.gql(xaAdmin.token, byDefault)).errors?.[0]?.extensions).toMatchObject({ limit: "MAX_COST" });
    expect((await hub.gql(xaAdmin.token, byDefault, { n: 2 })).errors).toBeUndefined();
  });

  it("measures a query sent again (its measure kept) exactly as the first time", async () => {
    const deep = "query Deep { viewer { organization { regions { members { regions { name } } } } } }";
    for (let i = 0; i < 3; i++)
      expect((await hub.gql(xaAdmin.token, deep)).errors?.[0]?.extensions).toMatchObject({
        limit: "MAX_DEPTH",
        actual: 6,
      });
    const fine = "query Fine { viewer { organization { regions { name } } } }";
    for (let i = 0; i < 3; i++) expect((await hub.gql(xaAdmin.token, fine)).errors).toBeUndefined();
  });

  it("refuses a page larger than MAX_PAGE_SIZE instead of silently cutting it", async () => {
    const r = await op(hub.url, xaAdmin.token, OrganizationsDocument, { first: 21 });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect(r.errors?.[0]?.message).toContain("at most 20");
  });

  it("refuses a request body over MAX_BODY_BYTES with 413 and a clear error", async () => {
    const r = await hub.gql(xaAdmin.token, `{ viewer { role } } # ${"x".repeat(5000)}`);
    expect(r.status).toBe(413);
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", limit: "MAX_BODY_BYTES" });
  });
});

describe("rate limit", () => {
  it("answers RATE_LIMITED with a retry-after once a token's burst is spent, without affecting other tokens", async () => {
    const limited = await startHub({ RATE_LIMIT_BURST: 3, RATE_LIMIT_PER_SECOND: 1 });
    try {
      const org = await limited.world.org("MEMBER_STATE");
      const a = await limited.world.account(org, "READER");
      const b = await limited.world.account(org, "READER");
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await limited.gql(a.token, "{ viewer { role } }"));
      expect(answers.slice(0, 3).map((x) => x.status)).toEqual([200, 200, 200]);
      const last = answers[3];
      expect(last?.status).toBe(429);
      expect(last?.headers.get("retry-after")).toBe("1");
      expect(last?.errors?.[0]?.extensions).toMatchObject({ code: "RATE_LIMITED", retryAfter: 1 });
      expect((await limited.gql(b.token, "{ viewer { role } }")).status).toBe(200);
    } finally {
      await limited.dispose();
    }
  });
});

/**
 * Writes a raw HTTP request in parts, `gapMs` apart (so a body can arrive slowly or stop), and
 * resolves with everything the server sent once it closes the connection.
 */
function rawRequest(url: string, parts: string[], gapMs: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let answer = "";
    socket.on("data", (d: Buffer) => (answer += d.toString("utf8")));
    socket.on("close", () => resolve(answer));
    socket.on("error", reject);
    void (async () => {
      for (const part of parts) {
        if (socket.destroyed) return;
        socket.write(part);
        await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
const bodyOf = (answer: string) =>
  JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as {
    data?: { ingest: { reports: { created: number } } };
    errors?: { message: string; extensions: Record<string, unknown> }[];
  };

describe("request timeouts", () => {
  it("turns off Node's whole-request timeout (it cut off ingests longer than 5 minutes) and keeps the headers timeout", () => {
    const server = hub.app.server;
    expect(server.requestTimeout).toBe(0);
    expect(server.headersTimeout).toBe(66_000);
    // A kept-alive socket is closed by the client or load balancer first, never under its feet.
    expect(server.keepAliveTimeout).toBeLessThan(server.headersTimeout);
  });

  describe("per route", () => {
    let slow: TestHub;
    let token: string;
    let feedId: string;
    const head = (path: string, length: number, type: string) =>
      `POST ${path} HTTP/1.1\r\nhost: hub\r\nauthorization: Bearer ${token}\r\ncontent-type: ${type}\r\n` +
      `content-length: ${length}\r\nconnection: close\r\n\r\n`;

    beforeAll(async () => {
      slow = await startHub({ REQUEST_TIMEOUT_MS: 300, INGEST_IDLE_TIMEOUT_MS: 1000, MAX_INGEST_BYTES: 4096 });
      const analyst = await slow.world.account(await slow.world.org("MEMBER_STATE"), "ANALYST");
      token = analyst.token;
      const f = await op(slow.url, token, CreateFeedDocument, {
        input: { name: "slow", format: "CSV", defaultMarking: { tlp: "GREEN" } },
      });
      feedId = encodeURIComponent(f.data?.createFeed.id ?? "");
    });
    afterAll(() => slow?.dispose());

    it("answers 408 and closes the connection when a GraphQL body does not all arrive within REQUEST_TIMEOUT_MS", async () => {
      const answer = await rawRequest(slow.url, [head("/graphql", 100, "application/json") + '{"query":'], 10);
      expect(statusOf(answer)).toBe(408);
      expect(bodyOf(answer).errors?.[0]?.extensions).toMatchObject({ limit: "REQUEST_TIMEOUT_MS" });
    });

    it("lets an ingest that keeps sending take longer than REQUEST_TIMEOUT_MS", async () => {
      const lines = Array.from({ length: 8 }, (_, i) => `198.51.100.${i + 1}\n`);
      const length = Buffer.byteLength(lines.join(""));
      const answer = await rawRequest(slow.url, [head(`/ingest?feed=${feedId}`, length, "text/csv"), ...lines], 100);
      expect(statusOf(answer)).toBe(200);
      expect(bodyOf(answer).data?.ingest.reports.created).toBe(8);
    });

    it("answers 408 when an ingest body stops arriving for INGEST_IDLE_TIMEOUT_MS, and writes none of it", async () => {
      const answer = await rawRequest(
        slow.url,
        [head(`/ingest?feed=${feedId}`, 100, "text/csv") + "203.0.113.61\n203.0.113.62\n"],
        10,
      );
      expect(statusOf(answer)).toBe(408);
      expect(bodyOf(answer).errors?.[0]?.extensions).toMatchObject({ limit: "INGEST_IDLE_TIMEOUT_MS" });
      const seen = await op(slow.url, token, IndicatorByValueDocument, { value: "203.0.113.61" });
      expect(seen.data?.indicator).toBeNull();
    });

    it("answers 413 when an ingest body exceeds MAX_INGEST_BYTES (not a parse error)", async () => {
      const csv = Array.from({ length: 1000 }, (_, i) => `192.0.2.${i % 250}`).join("\n");
      const res = await fetch(`${slow.url}/ingest?feed=${feedId}`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/csv" },
        body: csv,
      });
      expect(res.status).toBe(413);
      expect(((await res.json()) as ReturnType<typeof bodyOf>).errors?.[0]?.extensions).toMatchObject({
        limit: "MAX_INGEST_BYTES",
      });
    });
  });
});

describe("bad input", () => {
  // The compiled executor (src/transport/compiled.ts) coerces variables itself or through
  // graphql-js depending on their types: each way must answer as graphql-js's execute does.
  describe("variables", () => {
    const ORGS = "query($first: Int) { organizations(first: $first) { edges { node { id } } } }";

    it("answers a scalar variable of the wrong type with BAD_USER_INPUT naming it, and no data", async () => {
      const r = await hub.gql(xaAdmin.token, ORGS, { first: "two" });
      expect(r.status).toBe(400);
      expect(r.data).toBeUndefined();
      expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message).toMatch(/^Variable "\$first" got invalid value "two"; Int cannot represent/);
    });

    it("takes a non-null variable's default when it is omitted", async () => {
      const r = await hub.gql(
        xaAdmin.token,
        "query($first: Int! = 1) { organizations(first: $first) { edges { node { id } } } }",
      );
      expect(r.errors).toBeUndefined();
      expect(r.data).toMatchObject({ organizations: { edges: [{ node: { id: expect.any(String) } }] } });
    });

    it("answers an input object missing a required field with BAD_USER_INPUT naming it", async () => {
      const { name: _name, ...withoutName } = contactInput({});
      const r = await hub.gql(
        xaAdmin.token,
        "mutation($org: ID!, $input: ContactInput!) { createContact(organizationId: $org, input: $input) { id } }",
        { org: xa.gid, input: withoutName },
      );
      expect(r.status).toBe(400);
      expect(r.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(r.errors?.[0]?.message).toMatch(
        /^Variable "\$input" got invalid value .*; Field "name" of required type "String!" was not provided\.$/,
      );
    });

    it("fills an omitted input field from its default", async () => {
      const r = await hub.gql(
        xaAdmin.token,
        "mutation($org: ID!, $input: ContactInput!) { createContact(organizationId: $org, input: $input) { id title } }",
        { org: xa.gid, input: contactInput({}) },
      );
      expect(r.errors).toBeUndefined();
      expect(r.data).toMatchObject({ createContact: { title: "" } });
    });
  });

  it("names the field when an audience lists an unknown organisation", async () => {
    const r = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({ audienceOrganizationIds: [toGlobalId("Organization", crypto.randomUUID())] }),
    });
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.marking.audienceOrganizationIds",
    });
  });

  it("answers a group the caller does not belong to exactly like an unknown group", async () => {
    const theirs = await hub.world.group(xb, []);
    const missingId = toGlobalId("SharingGroup", crypto.randomUUID());
    const invisible = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({ audienceGroupIds: [theirs.gid] }),
    });
    const missing = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({ audienceGroupIds: [missingId] }),
    });
    expect(invisible.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.marking.audienceGroupIds",
    });
    expect(invisible.errors?.[0]?.message.replace(theirs.gid, "ID")).toBe(
      missing.errors?.[0]?.message.replace(missingId, "ID"),
    );
  });

  it("refuses sharing groups in a RED audience: RED goes to named organisations only", async () => {
    const mine = await hub.world.group(xa, [xb]);
    const r = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({ tlp: "RED", audienceGroupIds: [mine.gid] }),
    });
    expect(r.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.marking.audienceGroupIds",
    });
  });

  it("refuses a non-admin managing another organisation's contacts with FORBIDDEN", async () => {
    const r = await op(hub.url, xbAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({}),
    });
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("request targets", () => {
  it("reads paths and query strings as URLs do: a GET with a query, a path to normalise, a missing ?feed, an unknown path", async () => {
    const auth = { authorization: `Bearer ${xaAdmin.token}` };
    const get = await fetch(`${hub.url}/graphql?query=${encodeURIComponent("{ viewer { role } }")}`, { headers: auth });
    expect(get.status).toBe(200);
    expect(await get.json()).toEqual({ data: { viewer: { role: "ADMIN" } } });
    // fetch would normalise the path itself: send it as it is.
    const dotted = await rawRequest(
      hub.url,
      [
        `GET /x/../graphql?query=${encodeURIComponent("{ __typename }")} HTTP/1.1\r\nHost: hub\r\n` +
          `Authorization: Bearer ${xaAdmin.token}\r\nConnection: close\r\n\r\n`,
      ],
      0,
    );
    expect(statusOf(dotted)).toBe(200);
    expect(bodyOf(dotted)).toEqual({ data: { __typename: "Query" } });
    const noFeed = await fetch(`${hub.url}/ingest`, { method: "POST", headers: auth, body: "192.0.2.1\n" });
    expect(noFeed.status).toBe(400);
    expect(await noFeed.json()).toMatchObject({ errors: [{ extensions: { code: "BAD_USER_INPUT", field: "feed" } }] });
    expect((await fetch(`${hub.url}/graphql/`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${hub.url}/healthz?x=1`)).status).toBe(200);
  });
});

describe("invisible answers like nonexistent", () => {
  it("gives NOT_FOUND for a contact the viewer may not see, identical to one that does not exist", async () => {
    const created = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: contactInput({}),
    });
    const id = created.data?.createContact.id ?? "";
    expect((await op(hub.url, xaAdmin.token, NodeByIdDocument, { id })).data?.node?.id).toBe(id);
    const hidden = await op(hub.url, xbAdmin.token, NodeByIdDocument, { id });
    const missing = await op(hub.url, xbAdmin.token, NodeByIdDocument, {
      id: toGlobalId("Contact", crypto.randomUUID()),
    });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(hidden).toEqual({ ...missing, headers: hidden.headers });
  });

  it("gives NOT_FOUND for another organisation's sharing group, identical to a missing one, and for garbage ids", async () => {
    const theirs = await hub.world.group(xb, []);
    const hidden = await op(hub.url, xaAdmin.token, SharingGroupDocument, { id: theirs.gid });
    const missing = await op(hub.url, xaAdmin.token, SharingGroupDocument, {
      id: toGlobalId("SharingGroup", crypto.randomUUID()),
    });
    const garbage = await op(hub.url, xaAdmin.token, SharingGroupDocument, { id: "not-an-id" });
    // A serial key on a uuid-keyed type must not reach the database as a bad uuid.
    const serial = await op(hub.url, xaAdmin.token, SharingGroupDocument, { id: toGlobalId("SharingGroup", 42) });
    const serialNode = await op(hub.url, xaAdmin.token, NodeByIdDocument, { id: toGlobalId("Organization", 42) });
    expect(serial.errors).toEqual(missing.errors);
    expect(serialNode.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(hidden.errors).toEqual(missing.errors);
    expect(garbage.errors).toEqual(missing.errors);
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("unexpected errors", () => {
  it("masks them with a reference id and no internals", async () => {
    const broken = await startHub();
    try {
      const org = await broken.world.org("MEMBER_STATE");
      const reader = await broken.world.account(org, "READER");
      await broken.database.db.execute(sql`alter table contacts rename to contacts_gone`);
      const r = await broken.gql<{ viewer: unknown }>(
        reader.token,
        "{ viewer { organization { contacts { name } } } }",
      );
      const e = r.errors?.[0];
      expect(e?.extensions?.code).toBe("INTERNAL_SERVER_ERROR");
      expect(e?.message).toMatch(/^Internal server error \(reference [0-9a-f-]{36}\)$/);
      expect(e?.extensions?.errorId).toBe(e?.message.slice(-37, -1));
      expect(JSON.stringify({ message: e?.message, extensions: e?.extensions })).not.toMatch(
        /contacts|relation|select/i,
      );
    } finally {
      await broken.dispose();
    }
  });
});
