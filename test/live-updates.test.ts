import { sql } from "drizzle-orm";
import { CloseCode, createClient, type Client } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { createApp, type App } from "../src/app";
import { testConfig, type Config } from "../src/config";
import { openDatabase, type Database } from "../src/db/client";
import { apiTokens } from "../src/modules/access/access.table";
import { AuthService } from "../src/modules/access/auth.service";
import type { Tlp } from "../src/modules/access/tlp";
import type { ViewerIdentity } from "../src/modules/access/viewer";
import { feeds } from "../src/modules/indicators/indicators.table";
import { ingest, type FeedRow } from "../src/modules/indicators/ingest.service";
import type { ParsedItem } from "../src/modules/indicators/ingest.types";
import { appendChanges, changesetInsert, Stream } from "../src/modules/realtime";
import { rowsOf } from "../src/shared/rows";
import { toGlobalId } from "../src/shared/ids";
import { eq } from "drizzle-orm";
import {
  createEmptyPostgresDatabase,
  createTestDatabase,
  gql,
  startHub,
  TARGET,
  World,
  type SeededAccount,
  type SeededOrg,
  type TestHub,
} from "./harness";

/** Long enough for a loaded machine; a test that waits this long has failed, it is not a timing. */
const PATIENCE_MS = 25_000;

// ---- writing the way ingest writes ------------------------------------------------------------

interface Item {
  value: string;
  type?: "IPV4" | "DOMAIN";
  tlp?: "CLEAR" | "GREEN" | "AMBER" | "AMBER_STRICT" | "RED";
  audienceOrgs?: string[];
  audienceGroups?: string[];
  confidence?: number | null;
  description?: string | null;
  revoked?: boolean;
}

interface TestFeed {
  id: string;
  gid: string;
  ownerOrgId: string;
  /** The feed's row and an analyst of its owner, as ingest takes them. */
  row: FeedRow;
  analyst: ViewerIdentity;
}

async function createFeed(database: Database, owner: SeededOrg): Promise<TestFeed> {
  const [row] = await database.db
    .insert(feeds)
    .values({ ownerOrgId: owner.id, name: `feed ${Math.random()}`, format: "CSV", defaultTlp: "GREEN" })
    .returning();
  if (!row) throw new Error("no feed");
  const account = await new World(database).account(owner, "ANALYST");
  const analyst = await new AuthService(database.db, 0).authenticate(`Bearer ${account.token}`);
  if (!analyst) throw new Error("no analyst");
  return { id: row.id, gid: toGlobalId("Feed", row.id), ownerOrgId: owner.id, row, analyst };
}

/**
 * Writes a feed's reports through the hub's own ingest (the engine behind the ingest mutation,
 * POST /ingest and the CLI, after parsing): items carry the marking a parser would give them.
 */
async function writeReports(database: Database, feed: TestFeed, items: Item[]): Promise<void> {
  async function* parsed(): AsyncIterable<ParsedItem> {
    for (const [n, i] of items.entries())
      yield {
        kind: "report",
        ref: `item ${n}`,
        value: i.value,
        type: i.type ?? (/^[0-9.]+$/.test(i.value) ? "IPV4" : "DOMAIN"),
        tlp: (i.tlp ?? "GREEN") as Tlp,
        audienceOrgIds: i.audienceOrgs ?? [],
        audienceGroupIds: i.audienceGroups ?? [],
        confidence: i.confidence === null ? undefined : (i.confidence ?? 50),
        description: i.description ?? undefined,
        revoked: i.revoked === true,
      };
  }
  const report = await ingest(database.db, feed.analyst, feed.row, parsed());
  if (report.rejected) throw new Error(`ingest rejected: ${JSON.stringify(report.rejections)}`);
}

// ---- subscribing ------------------------------------------------------------------------------

interface Ev {
  kind: "CREATED" | "UPDATED" | "REVOKED" | "REMOVED";
  cursor: string;
  id: string;
  indicator: {
    value: string;
    confidence: number | null;
    sourceCount: number;
    reports: { tlp: string; description?: string | null }[];
  } | null;
}

type GqlError = { message: string; extensions?: Record<string, unknown> };

const EVENT = `kind cursor id indicator { value confidence sourceCount reports { tlp } }`;
const SUBSCRIPTION = `subscription ($filter: IndicatorEventFilter, $after: String) {
  indicatorEvents(filter: $filter, after: $after) { ${EVENT} } }`;

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

function connect(wsUrl: string, token: string): Client {
  const client = createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  clients.push(client);
  return client;
}

/** What one subscription received, with a way to wait for more. */
class Received {
  events: Ev[] = [];
  errors: GqlError[] = [];
  completed = false;
  closeCode: number | undefined;
  private listeners = new Set<() => void>();

  notify() {
    for (const l of this.listeners) l();
  }

  /** Resolves once `done(this)` holds; fails (showing what came) if it does not within PATIENCE_MS. */
  until(done: (r: Received) => boolean, what = "the expected events"): Promise<void> {
    if (done(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `did not get ${what}; got ${JSON.stringify(this.events.map(short))} ${JSON.stringify(this.errors)}`,
          ),
        );
      }, PATIENCE_MS);
      const check = () => {
        if (!done(this)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  untilValue(value: string, kind?: Ev["kind"]) {
    return this.until((r) => r.events.some((e) => e.indicator?.value === value && (!kind || e.kind === kind)), value);
  }
}

const short = (e: Ev) => `${e.kind}:${e.indicator?.value ?? e.id}`;

/** Subscribes and resolves once the server has the subscription (a first no-op round trip on the socket). */
async function subscribe(client: Client, variables: Record<string, unknown> = {}, query = SUBSCRIPTION) {
  const r = new Received();
  client.on("closed", (event) => {
    r.closeCode = (event as { code: number }).code;
    r.notify();
  });
  client.subscribe<{ indicatorEvents: Ev }>(
    { query, variables },
    {
      next: (result) => {
        if (result.data?.indicatorEvents) r.events.push(result.data.indicatorEvents);
        for (const e of result.errors ?? []) r.errors.push(e as GqlError);
        r.notify();
      },
      error: (e) => {
        if (Array.isArray(e)) r.errors.push(...(e as GqlError[]));
        r.completed = true;
        r.notify();
      },
      complete: () => {
        r.completed = true;
        r.notify();
      },
    },
  );
  // Operations on one socket are handled in order: once this query answers, the subscription is open.
  await new Promise<void>((resolve, reject) =>
    client.subscribe({ query: "{ __typename }" }, { next: () => {}, error: reject, complete: resolve }),
  );
  return r;
}

let n = 0;
const ip = () => `198.51.${Math.floor(++n / 250) % 250}.${(n % 250) + 1}`;
const domain = (tag = "x") => `${tag}-${++n}-${Math.random().toString(36).slice(2, 8)}.example`;

// ---- the hub most tests share -----------------------------------------------------------------

let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let partner: SeededOrg;
let xaAnalyst: SeededAccount;
let xaReader: SeededAccount;
let xbReader: SeededAccount;
let partnerReader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xaReader = await hub.world.account(xa, "READER");
  xbReader = await hub.world.account(xb, "READER");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

describe("indicatorEvents", () => {
  it("delivers a report committed after subscribing as CREATED, computed for the subscriber like the queries", async () => {
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xbReader.token));
    const value = domain("live");
    await writeReports(hub.database, feed, [{ value, confidence: 70 }]);
    await sub.untilValue(value);
    expect(sub.events).toHaveLength(1);
    expect(sub.events[0]).toMatchObject({
      kind: "CREATED",
      indicator: { value, confidence: 70, sourceCount: 1, reports: [{ tlp: "GREEN" }] },
    });
    const queried = await gql<{ indicator: { id: string } }>(
      hub.url,
      xbReader.token,
      `{ indicator(value: "${value}") { id } }`,
    );
    expect(sub.events[0]?.id).toBe(queried.data?.indicator.id);
  });

  it("follows a report through an update and its revocation (revokeReport), in order", async () => {
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xaReader.token));
    const value = domain("life");
    await writeReports(hub.database, feed, [{ value, confidence: 40 }]);
    await sub.untilValue(value);
    await writeReports(hub.database, feed, [{ value, confidence: 90 }]);
    await sub.until((r) => r.events.length >= 2, "the update");
    const reportId = (
      await gql<{ indicator: { reports: { id: string }[] } }>(
        hub.url,
        xaAnalyst.token,
        `{ indicator(value: "${value}") { reports { id } } }`,
      )
    ).data?.indicator.reports[0]?.id;
    const revoked = await gql(hub.url, xaAnalyst.token, `mutation ($id: ID!) { revokeReport(id: $id) { id } }`, {
      id: reportId,
    });
    expect(revoked.errors).toBeUndefined();
    await sub.until((r) => r.events.length >= 3, "three events");
    expect(sub.events.map(short)).toEqual([`CREATED:${value}`, `UPDATED:${value}`, expect.stringMatching(/^REVOKED:/)]);
    expect(sub.events[1]?.indicator?.confidence).toBe(90);
    expect(sub.events[2]).toMatchObject({ indicator: null, id: sub.events[0]?.id });
    // Revoking it again changes nothing, so nothing is delivered for it.
    await gql(hub.url, xaAnalyst.token, `mutation ($id: ID!) { revokeReport(id: $id) { id } }`, { id: reportId });
    const marker = domain("marker");
    await writeReports(hub.database, feed, [{ value: marker }]);
    await sub.untilValue(marker);
    expect(sub.events.map(short).slice(3)).toEqual([`CREATED:${marker}`]);
  });

  it("never tells an organisation about a RED report it may not see, nor its revocation, while the audience gets both", async () => {
    const feed = await createFeed(hub.database, xa);
    const audience = await subscribe(connect(hub.wsUrl, xbReader.token));
    const outsider = await subscribe(connect(hub.wsUrl, partnerReader.token));
    const secret = ip();
    await writeReports(hub.database, feed, [{ value: secret, tlp: "RED", audienceOrgs: [xb.id] }]);
    await audience.untilValue(secret);
    await writeReports(hub.database, feed, [{ value: secret, tlp: "RED", audienceOrgs: [xb.id], revoked: true }]);
    await audience.until((r) => r.events.length >= 2, "the revocation");
    const marker = domain("clear");
    await writeReports(hub.database, feed, [{ value: marker, tlp: "CLEAR" }]);
    await audience.untilValue(marker);
    await outsider.untilValue(marker);
    expect(audience.events.map(short)).toEqual([
      `CREATED:${secret}`,
      expect.stringMatching(/^REVOKED:/),
      `CREATED:${marker}`,
    ]);
    // The outsider's stream has no trace of the RED report: not its creation, not its revocation.
    expect(outsider.events.map(short)).toEqual([`CREATED:${marker}`]);
  });

  it("translates marking changes: visible now and not before is CREATED, visible before and not now is REMOVED (id only)", async () => {
    const feed = await createFeed(hub.database, xa);
    // The owner sees every step: each is delivered (so in a batch of its own) before the next.
    const owner = await subscribe(connect(hub.wsUrl, xaReader.token));
    const sub = await subscribe(connect(hub.wsUrl, xbReader.token));
    const value = domain("marking");
    const steps: Item[] = [
      { value, tlp: "AMBER" },
      { value, tlp: "GREEN" },
      { value, tlp: "GREEN", confidence: 99 },
      { value, tlp: "AMBER" },
      { value, tlp: "AMBER", confidence: 1 },
    ];
    for (const [i, step] of steps.entries()) {
      await writeReports(hub.database, feed, [step]);
      await owner.until((r) => r.events.length > i, `step ${i}`);
    }
    const marker = domain("marker");
    await writeReports(hub.database, feed, [{ value: marker }]);
    await sub.untilValue(marker);
    await owner.untilValue(marker);
    expect(owner.events.map((e) => e.kind)).toEqual(["CREATED", "UPDATED", "UPDATED", "UPDATED", "UPDATED", "CREATED"]);
    expect(sub.events.map((e) => e.kind)).toEqual(["CREATED", "UPDATED", "REMOVED", "CREATED"]);
    expect(sub.events[0]?.indicator).toMatchObject({ value, reports: [{ tlp: "GREEN" }] });
    expect(sub.events[1]?.indicator?.confidence).toBe(99);
    expect(sub.events[2]).toMatchObject({ id: sub.events[0]?.id, indicator: null });
  });

  it("says UPDATED, not REMOVED, when a report goes but the indicator stays visible through another", async () => {
    const [one, two] = [await createFeed(hub.database, xa), await createFeed(hub.database, xb)];
    const value = domain("two-sources");
    await writeReports(hub.database, one, [{ value }]);
    await writeReports(hub.database, two, [{ value }]);
    const sub = await subscribe(connect(hub.wsUrl, partnerReader.token));
    // Partners see GREEN only when named, CLEAR always.
    const steps: [TestFeed, Item][] = [
      [one, { value, tlp: "CLEAR" }],
      [two, { value, tlp: "CLEAR" }],
      [one, { value, tlp: "AMBER" }],
      [two, { value, tlp: "CLEAR", revoked: true }],
    ];
    for (const [i, [feed, step]] of steps.entries()) {
      await writeReports(hub.database, feed, [step]);
      await sub.until((r) => r.events.length > i, `step ${i}`);
    }
    expect(sub.events.map((e) => [e.kind, e.indicator?.sourceCount ?? null])).toEqual([
      ["CREATED", 1],
      ["UPDATED", 2],
      ["UPDATED", 1],
      ["REVOKED", null],
    ]);
  });

  it("may skip what came and went between two deliveries, but never ends in the wrong state", async () => {
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xbReader.token));
    const [gone, kept] = [domain("gone"), domain("kept")];
    // Committed back to back: whether they are delivered in one batch or two is up to timing.
    await writeReports(hub.database, feed, [{ value: gone }, { value: kept }]);
    await writeReports(hub.database, feed, [{ value: gone, revoked: true }]);
    await writeReports(hub.database, feed, [{ value: kept, confidence: 77 }]);
    await sub.until((r) => r.events.some((e) => e.kind === "UPDATED" && e.indicator?.confidence === 77), "the update");
    // Applied in order as upserts (CREATED, UPDATED) and deletes (REVOKED, REMOVED), the events
    // leave exactly what a query now shows.
    const state = new Map<string, number | null>();
    for (const e of sub.events)
      if (e.indicator) state.set(e.id, e.indicator.confidence);
      else state.delete(e.id);
    expect([...state.values()]).toEqual([77]);
    expect(sub.events.at(-1)?.kind).toBe("UPDATED");
    expect(sub.events.filter((e) => e.kind === "REVOKED")).toHaveLength(1);
  });

  it("applies the filter: types, minimum confidence, feeds, owners and TLP", async () => {
    const [mine, theirs] = [await createFeed(hub.database, xa), await createFeed(hub.database, xb)];
    const client = connect(hub.wsUrl, xaReader.token);
    const confident = await subscribe(client, { filter: { minConfidence: 80 } });
    const domains = await subscribe(client, { filter: { types: ["DOMAIN"] } });
    const fromTheirs = await subscribe(client, { filter: { feedIds: [theirs.gid] } });
    const byThem = await subscribe(client, { filter: { ownerIds: [toGlobalId("Organization", xb.id)] } });
    const clear = await subscribe(client, { filter: { tlps: ["CLEAR"] } });
    const [a, b, c, d] = [domain("a"), ip(), domain("c"), domain("d")];
    await writeReports(hub.database, mine, [
      { value: a, confidence: 90 },
      { value: b, confidence: 10 },
    ]);
    await writeReports(hub.database, theirs, [{ value: c, confidence: 50 }]);
    await writeReports(hub.database, theirs, [{ value: d, confidence: 85, tlp: "CLEAR" }]);
    for (const s of [confident, domains, fromTheirs, byThem, clear]) await s.untilValue(d);
    const values = (s: Received) => s.events.map((e) => e.indicator?.value);
    expect(values(confident)).toEqual([a, d]);
    expect(values(domains)).toEqual([a, c, d]);
    expect(values(fromTheirs)).toEqual([c, d]);
    expect(values(byThem)).toEqual([c, d]);
    expect(values(clear)).toEqual([d]);
  });

  it("delivers a sighting as a change to its indicator, which the sighting alone makes visible", async () => {
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xbReader.token));
    const value = domain("sighted");
    await hub.database.db.transaction(async (tx) => {
      await tx.execute(
        sql`insert into observables (type, value, stix_id) values ('DOMAIN', ${value}, 'test--sighted')`,
      );
      const [row] = rowsOf<{ id: number; observable_id: number }>(
        await tx.execute(sql`
          insert into sightings (observable_id, feed_id, owner_org_id, tlp, count)
          select id, ${feed.id}::uuid, ${xa.id}::uuid, 'GREEN', 3 from observables where value = ${value}
          returning id, observable_id`),
      );
      await appendChanges(tx, Stream.INDICATOR, [
        { record: "sighting", id: Number(row?.id), subject: Number(row?.observable_id), kind: "CREATED" },
      ]);
    });
    await sub.untilValue(value);
    expect(sub.events[0]).toMatchObject({ kind: "CREATED", indicator: { value, sourceCount: 1, reports: [] } });
  });

  it("applies a change of sharing-group membership to what arrives next", async () => {
    const xaAdmin = await hub.world.account(xa, "ADMIN");
    const group = await hub.world.group(xa, []);
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xbReader.token));
    const [before, after] = [domain("before"), domain("after")];
    await writeReports(hub.database, feed, [{ value: before, tlp: "AMBER", audienceGroups: [group.id] }]);
    const joined = await gql(
      hub.url,
      xaAdmin.token,
      `mutation ($id: ID!, $input: UpdateSharingGroupInput!) { updateSharingGroup(id: $id, input: $input) { id } }`,
      { id: group.gid, input: { memberIds: [xb.gid] } },
    );
    expect(joined.errors).toBeUndefined();
    await writeReports(hub.database, feed, [{ value: after, tlp: "AMBER", audienceGroups: [group.id] }]);
    await sub.untilValue(after);
    expect(sub.events.map(short)).toEqual([`CREATED:${after}`]);
  });

  it("resumes after a disconnect: replays exactly the 1,000 missed events in order, then goes on live", async () => {
    const feed = await createFeed(hub.database, xa);
    const first = connect(hub.wsUrl, xbReader.token);
    const before = await subscribe(first);
    const seen = domain("seen");
    await writeReports(hub.database, feed, [{ value: seen }]);
    await before.untilValue(seen);
    const cursor = before.events.at(-1)?.cursor;
    await first.dispose();

    const missed = Array.from({ length: 1000 }, () => domain("missed"));
    for (let i = 0; i < missed.length; i += 100)
      await writeReports(
        hub.database,
        feed,
        missed.slice(i, i + 100).map((value) => ({ value })),
      );
    // Other organisations' invisible work in between changes nothing.
    const hidden = await createFeed(hub.database, partner);
    await writeReports(hub.database, hidden, [{ value: domain("hidden"), tlp: "AMBER" }]);

    const after = await subscribe(connect(hub.wsUrl, xbReader.token), { after: cursor });
    await after.until((r) => r.events.length >= 1000, "the 1,000 missed events");
    const live = domain("live");
    await writeReports(hub.database, feed, [{ value: live }]);
    await after.untilValue(live);
    expect(after.events.map((e) => e.indicator?.value)).toEqual([...missed, live]);
    expect(after.events.every((e) => e.kind === "CREATED")).toBe(true);
    const cursors = after.events.map((e) => e.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(after.errors).toEqual([]);
  });

  it("refuses a cursor the log no longer goes back to, telling the client to re-sync with a query", async () => {
    const feed = await createFeed(hub.database, xa);
    const sub = await subscribe(connect(hub.wsUrl, xaReader.token));
    const value = domain("old");
    await writeReports(hub.database, feed, [{ value }]);
    await sub.untilValue(value);
    const cursor = sub.events.at(-1)?.cursor;
    // Everything committed until now is past retention.
    expect(await hub.app.services.events.prune(new Date(Date.now() + 1000 * 3_600_000))).toBeGreaterThan(0);
    const resumed = await subscribe(connect(hub.wsUrl, xaReader.token), { after: cursor });
    await resumed.until((r) => r.completed, "the end of the subscription");
    expect(resumed.events).toEqual([]);
    expect(resumed.errors[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "after",
      reason: "CURSOR_EXPIRED",
    });
    expect(resumed.errors[0]?.message).toMatch(/re-sync with a query/i);
  });

  it("refuses a cursor it never issued", async () => {
    const bad = await subscribe(connect(hub.wsUrl, xaReader.token), { after: "bm90LWEtY3Vyc29y" });
    await bad.until((r) => r.completed);
    expect(bad.errors[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
    const future = Buffer.from(JSON.stringify(["event", 9_000_000_000, 0])).toString("base64url");
    const ahead = await subscribe(connect(hub.wsUrl, xaReader.token), { after: future });
    await ahead.until((r) => r.completed);
    expect(ahead.errors[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("answers a subscription sent over HTTP with an error pointing to the WebSocket", async () => {
    const r = await gql(hub.url, xaReader.token, "subscription { indicatorEvents { kind } }");
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(r.errors?.[0]?.message).toMatch(/WebSocket/);
  });

  it("closes every idle socket of a token with 4403 once it is revoked elsewhere, and only those", async () => {
    const reader = await hub.world.account(xb, "READER");
    const other = await hub.world.account(xb, "READER");
    // Three sockets share the token (as a sensor fleet does); one socket has a token of its own.
    const subs = await Promise.all([1, 2, 3].map(() => subscribe(connect(hub.wsUrl, reader.token))));
    const bystander = await subscribe(connect(hub.wsUrl, other.token));
    // Revoked straight in the database, as another node would: no cache here is told.
    await hub.database.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, reader.tokenId));
    for (const sub of subs) {
      await sub.until((r) => r.closeCode !== undefined, "the socket to close");
      expect(sub.closeCode).toBe(CloseCode.Forbidden);
    }
    // The other token's socket still delivers.
    const feed = await createFeed(hub.database, xa);
    const value = domain("bystander");
    await writeReports(hub.database, feed, [{ value }]);
    await bystander.untilValue(value, "CREATED");
    expect(bystander.closeCode).toBeUndefined();
  });

  it("closes the socket with 4403 once the token expires", async () => {
    const reader = await hub.world.account(xb, "READER", { expiresAt: new Date(Date.now() + 1500) });
    const sub = await subscribe(connect(hub.wsUrl, reader.token));
    await sub.until((r) => r.closeCode !== undefined, "the socket to close");
    expect(sub.closeCode).toBe(CloseCode.Forbidden);
  });
});

// ---- one check per batch and identity ----------------------------------------------------------

describe("authorisation at delivery, batched", () => {
  let counted: TestHub;
  const statements: string[] = [];
  beforeAll(async () => {
    // Token checks are per token (cached for a second), not per event: they are left out.
    counted = await startHub({}, { onQuery: (q) => void (q.includes('"api_tokens"') || statements.push(q)) });
  });
  afterAll(() => counted?.dispose());

  it("checks a batch once per distinct set of rights, whatever the number of subscribers and events", async () => {
    const [one, two] = [await counted.world.org("MEMBER_STATE"), await counted.world.org("MEMBER_STATE")];
    const feed = await createFeed(counted.database, one);
    // What the write itself costs: the same ingest of 50 new values, before anyone subscribed.
    const warm = await createFeed(counted.database, two);
    const idle = statements.length;
    await writeReports(
      counted.database,
      warm,
      Array.from({ length: 50 }, () => ({ value: domain("warm") })),
    );
    const writeCost = statements.length - idle;
    const subs: Received[] = [];
    for (const org of [one, two])
      for (let i = 0; i < 5; i++) {
        const reader = await counted.world.account(org, "READER");
        const filter = i % 2 ? { minConfidence: 10 } : null;
        subs.push(await subscribe(connect(counted.wsUrl, reader.token), { filter }));
      }
    const values = Array.from({ length: 50 }, () => domain("batch"));
    const before = statements.length;
    await writeReports(
      counted.database,
      feed,
      values.map((value) => ({ value })),
    );
    for (const s of subs) await s.until((r) => r.events.length >= values.length, "the batch");
    const used = statements.slice(before);
    // 10 subscribers x 50 events = 500 deliveries; one visibility statement per organisation.
    expect(used.filter((q) => q.includes("'observable', observables.id")).length).toBe(2);
    expect(used.length - writeCost).toBeLessThan(15);
  });
});

// ---- a subscriber that stops reading ----------------------------------------------------------

/** A bare graphql-transport-ws client over `ws`, to stop reading the socket at will. */
async function rawSubscription(wsUrl: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const socket = new WebSocket(wsUrl, "graphql-transport-ws");
  const messages: { type: string; id?: string; payload?: unknown }[] = [];
  let onMessage: () => void = () => {};
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as { type: string });
    onMessage();
  });
  const waitFor = (pred: () => boolean, what: string) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what}`)), PATIENCE_MS);
      const check = () => {
        if (pred()) {
          clearTimeout(timer);
          onMessage = () => {};
          resolve();
        }
      };
      onMessage = check;
      check();
    });
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await waitFor(() => messages.some((m) => m.type === "connection_ack"), "connection_ack");
  socket.send(JSON.stringify({ type: "subscribe", id: "1", payload: { query, variables } }));
  socket.send(JSON.stringify({ type: "subscribe", id: "2", payload: { query: "{ __typename }" } }));
  await waitFor(() => messages.some((m) => m.id === "2" && m.type === "complete"), "the subscription to start");
  return { socket, messages, waitFor };
}

describe("a subscriber that stops reading", () => {
  let small: TestHub;
  beforeAll(async () => {
    small = await startHub({ EVENT_BUFFER_SIZE: 100 });
  });
  afterAll(() => small?.dispose());

  it("is told it fell behind, with the cursor to resume from, and closed, while another subscriber still receives", async () => {
    const org = await small.world.org("MEMBER_STATE");
    const slowReader = await small.world.account(org, "READER");
    const fastReader = await small.world.account(org, "READER");
    const feed = await createFeed(small.database, org);
    const big = "z".repeat(32 * 1024);
    const slow = await rawSubscription(
      small.wsUrl,
      slowReader.token,
      `subscription { indicatorEvents { kind cursor indicator { value reports { description } } } }`,
    );
    // The fast one takes only domains, so the big IP events never slow it down.
    const fast = await subscribe(connect(small.wsUrl, fastReader.token), { filter: { types: ["DOMAIN"] } });
    slow.socket.pause();
    // ~20 MB of events: more than the socket buffers hold, so the slow subscriber stops pulling.
    const bulk = Array.from({ length: 600 }, () => ({ value: ip(), description: big }));
    for (let i = 0; i < bulk.length; i += 50) await writeReports(small.database, feed, bulk.slice(i, i + 50));
    const after = Array.from({ length: 300 }, () => ({ value: domain("after") }));
    for (let i = 0; i < after.length; i += 50) await writeReports(small.database, feed, after.slice(i, i + 50));
    await fast.until((r) => r.events.length >= after.length, "every domain");
    expect(fast.events.map((e) => e.indicator?.value)).toEqual(after.map((a) => a.value));

    slow.socket.resume();
    await slow.waitFor(() => slow.messages.some((m) => m.id === "1" && m.type === "complete"), "the end of it");
    const mine = slow.messages.filter((m) => m.id === "1" && m.type === "next");
    const last = mine.at(-1)?.payload as { errors?: GqlError[] };
    expect(last.errors?.[0]?.extensions).toMatchObject({ code: "FELL_BEHIND" });
    const events = mine.slice(0, -1).map((m) => (m.payload as { data: { indicatorEvents: Ev } }).data.indicatorEvents);
    expect(events.length).toBeGreaterThan(0);
    expect(events.length).toBeLessThan(bulk.length + after.length);
    // The cursor to resume from is that of the last event it got.
    expect(last.errors?.[0]?.extensions?.resumeAfter).toBe(events.at(-1)?.cursor);
    slow.socket.close();

    // Resuming from it delivers the rest, in order, with nothing lost and nothing twice.
    const resumed = await subscribe(connect(small.wsUrl, slowReader.token), {
      after: last.errors?.[0]?.extensions?.resumeAfter,
    });
    const expected = [...bulk, ...after].map((b) => b.value);
    await resumed.until((r) => r.events.length >= expected.length - events.length, "the rest");
    expect([...events, ...resumed.events].map((e) => e.indicator?.value)).toEqual(expected);
  });
});

describe("a subscription without a cursor", () => {
  it("starts after everything committed before it, even what the hub has not read yet", async () => {
    const tdb = await createTestDatabase();
    // Its notifications lost and its poll an hour away, the hub reads the log only when a
    // subscriber asks for more: it trails the log until then.
    const deaf: Database = { ...tdb.database, listen: () => Promise.resolve(() => Promise.resolve()) };
    const app = await createApp(testConfig({ PORT: 0, LOG_LEVEL: "silent", EVENT_POLL_MS: 3_600_000 }), {
      database: deaf,
    });
    try {
      const wsUrl = `${app.url.replace(/^http/, "ws")}/graphql`;
      const world = new World(tdb.database);
      const org = await world.org("MEMBER_STATE");
      const reader = await world.account(org, "READER");
      const feed = await createFeed(tdb.database, org);
      const first = await subscribe(connect(wsUrl, reader.token));
      const before = domain("before");
      await writeReports(tdb.database, feed, [{ value: before }]);
      const second = await subscribe(connect(wsUrl, reader.token));
      const after = domain("after");
      await writeReports(tdb.database, feed, [{ value: after }]);
      // A new subscriber waiting for its first event makes the hub read on.
      await subscribe(connect(wsUrl, reader.token));
      await first.untilValue(after);
      await second.untilValue(after);
      expect(first.events.map(short)).toEqual([`CREATED:${before}`, `CREATED:${after}`]);
      expect(second.events.map(short)).toEqual([`CREATED:${after}`]);
    } finally {
      await Promise.all(clients.splice(0).map((c) => c.dispose()));
      await app.dispose();
      await tdb.dispose();
    }
  });
});

// ---- several hub processes on one PostgreSQL --------------------------------------------------

describe.runIf(TARGET === "postgres")("several hub nodes on one PostgreSQL", () => {
  let scratch: { url: string; drop(): Promise<void> };
  const nodes: { app: App; database: Database }[] = [];
  let world: World;

  beforeAll(async () => {
    scratch = await createEmptyPostgresDatabase("hub_nodes");
    const config: Config = testConfig({ PORT: 0, LOG_LEVEL: "silent" });
    for (let i = 0; i < 2; i++) {
      // Each node has its own pool and its own LISTEN connection, as separate processes would.
      const database = await openDatabase({ url: scratch.url, poolMax: 4 });
      nodes.push({ app: await createApp(config, { database }), database });
    }
    world = new World((nodes[0] as { database: Database }).database);
  });
  afterAll(async () => {
    for (const n of nodes.splice(0)) {
      await n.app.dispose();
      await n.database.close();
    }
    await scratch?.drop();
  });

  it("delivers on one node, in order, what was committed through the other", async () => {
    const [one, two] = nodes as [{ app: App; database: Database }, { app: App; database: Database }];
    const org = await world.org("MEMBER_STATE");
    const analyst = await world.account(org, "ANALYST");
    const reader = await world.account(await world.org("MEMBER_STATE"), "READER");
    const feed = await createFeed(two.database, org);
    const sub = await subscribe(connect(`${one.app.url.replace(/^http/, "ws")}/graphql`, reader.token));
    const values = Array.from({ length: 20 }, () => domain("node"));
    for (const value of values) await writeReports(two.database, feed, [{ value }]);
    const reportId = (
      await gql<{ indicator: { reports: { id: string }[] } }>(
        two.app.url,
        analyst.token,
        `{ indicator(value: "${values[0]}") { reports { id } } }`,
      )
    ).data?.indicator.reports[0]?.id;
    const revoked = await gql(two.app.url, analyst.token, `mutation ($id: ID!) { revokeReport(id: $id) { id } }`, {
      id: reportId,
    });
    expect(revoked.errors).toBeUndefined();
    await sub.until((r) => r.events.length >= values.length + 1, "every change");
    expect(sub.events.map(short)).toEqual([...values.map((v) => `CREATED:${v}`), expect.stringMatching(/^REVOKED:/)]);
  });

  it("numbers changesets in commit order, whichever transaction appended first", async () => {
    const [one, two] = nodes as [{ app: App; database: Database }, { app: App; database: Database }];
    const org = await world.org("MEMBER_STATE");
    const reader = await world.account(org, "READER");
    const feed = await createFeed(one.database, org);
    const sub = await subscribe(connect(`${one.app.url.replace(/^http/, "ws")}/graphql`, reader.token));
    const [early, late] = [domain("early"), domain("late")];
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let appended: () => void = () => {};
    const hasAppended = new Promise<void>((resolve) => (appended = resolve));
    // The first transaction appends, then waits; the second appends and commits before it.
    const first = one.database.db.transaction(async (tx) => {
      await tx.execute(sql`insert into observables (type, value, stix_id) values ('DOMAIN', ${early}, 'test--early')`);
      const [o] = rowsOf<{ id: number }>(await tx.execute(sql`select id from observables where value = ${early}`));
      const [r] = rowsOf<{ id: number }>(
        await tx.execute(sql`insert into reports (observable_id, feed_id, owner_org_id, tlp)
          values (${o?.id}, ${feed.id}::uuid, ${org.id}::uuid, 'GREEN') returning id`),
      );
      await tx.execute(
        changesetInsert(
          Stream.INDICATOR,
          sql`select 'report' as record, ${r?.id}::bigint as id, ${o?.id}::bigint as subject, 'CREATED' as kind, null::jsonb as prev`,
        ),
      );
      appended();
      await held;
    });
    await hasAppended;
    await writeReports(two.database, feed, [{ value: late }]);
    await sub.untilValue(late);
    release();
    await first;
    await sub.untilValue(early);
    expect(sub.events.map(short)).toEqual([`CREATED:${late}`, `CREATED:${early}`]);
    const [a, b] = sub.events.map((e) => JSON.parse(Buffer.from(e.cursor, "base64url").toString()) as [string, number]);
    expect((a as [string, number])[1]).toBeLessThan((b as [string, number])[1]);
  });
});
