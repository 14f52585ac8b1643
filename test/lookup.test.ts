import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Context } from "../src/context";
import { AuthService } from "../src/modules/access/auth.service";
import type { ViewerIdentity } from "../src/modules/access/viewer";
import { IndicatorResolver } from "../src/modules/indicators/indicator.resolver";
import { feeds, observables, reports } from "../src/modules/indicators/indicators.table";
import { lookup } from "../src/modules/indicators/indicators.service";
import { rowsOf } from "../src/modules/indicators/ingest.service";
import { createTestDatabase, TARGET, World, type TestDatabase } from "./harness";

// lookup() runs as a prepared statement: its text must not change from one request to the next
// (values and the viewer are bound parameters), or PostgreSQL would parse and plan it every time.
let tdb: TestDatabase;
const texts: string[] = [];
let viewer: ViewerIdentity;
let otherViewer: ViewerIdentity;
/** Of the same kind as the two above, in two sharing groups and in none. */
let twoGroupViewer: ViewerIdentity;
let loneViewer: ViewerIdentity;

beforeAll(async () => {
  tdb = await createTestDatabase({ onQuery: (q) => void (q.includes("jsonb_to_recordset") && texts.push(q)) });
  const { db } = tdb.database;
  const world = new World(tdb.database);
  const owner = await world.org("MEMBER_STATE");
  const reader = await world.org("MEMBER_STATE");
  const other = await world.org("MEMBER_STATE");
  const twoGroups = await world.org("MEMBER_STATE");
  const lone = await world.org("MEMBER_STATE");
  const group = await world.group(owner, [reader, twoGroups]);
  const otherGroup = await world.group(owner, [other, twoGroups]);
  const auth = new AuthService(db, 0);
  const viewerOf = async (org: typeof reader) =>
    (await auth.authenticate(`Bearer ${(await world.account(org, "READER")).token}`)) as ViewerIdentity;
  viewer = await viewerOf(reader);
  otherViewer = await viewerOf(other);
  twoGroupViewer = await viewerOf(twoGroups);
  loneViewer = await viewerOf(lone);
  expect(viewer.groupIds).toEqual([group.id]);
  expect(otherViewer.groupIds).toEqual([otherGroup.id]);
  expect([...twoGroupViewer.groupIds].sort()).toEqual([group.id, otherGroup.id].sort());
  expect(loneViewer.groupIds).toEqual([]);
  const [feed] = await db
    .insert(feeds)
    .values({ ownerOrgId: owner.id, name: "prepared", format: "CSV", defaultTlp: "AMBER" })
    .returning();
  const obs = await db
    .insert(observables)
    .values([
      { type: "IPV4", value: "198.51.100.7", stixId: "indicator--00000000-0000-4000-8000-000000000001" },
      { type: "DOMAIN", value: "prepared.example", stixId: "indicator--00000000-0000-4000-8000-000000000002" },
    ])
    .returning();
  await db.insert(reports).values(
    obs.map((o) => ({
      observableId: o.id,
      feedId: feed?.id ?? "",
      ownerOrgId: owner.id,
      tlp: "AMBER" as const,
      audienceGroups: [group.id],
      confidence: 70,
    })),
  );
});
afterAll(() => tdb?.dispose());

describe("lookup as a prepared statement", () => {
  it("sends the same text whatever the values and whoever of one kind asks, in any number of groups", async () => {
    texts.length = 0;
    const { db } = tdb.database;
    const [a] = await lookup(db, viewer, ["198.51.100.7"]);
    const [b] = await lookup(db, viewer, ["prepared.example"]);
    const [c] = await lookup(db, otherViewer, ["198.51.100.7"]);
    const [d] = await lookup(db, twoGroupViewer, ["198.51.100.7"]);
    const [e] = await lookup(db, loneViewer, ["198.51.100.7"]);
    expect(a?.indicator?.confidence).toBe(70);
    expect(b?.indicator?.value).toBe("prepared.example");
    expect(c?.indicator).toBeNull();
    expect(d?.indicator?.confidence).toBe(70);
    expect(e?.indicator).toBeNull();
    expect(texts).toHaveLength(5);
    expect(new Set(texts).size).toBe(1);
    expect(texts[0]).not.toContain(viewer.organizationId);
    expect(texts[0]).not.toContain("198.51.100.7");
  });

  it.runIf(TARGET === "postgres")("is parsed once per connection and then only bound and executed", async () => {
    // In one transaction every statement runs on one connection, whose prepared statements PostgreSQL lists.
    const prepared = await tdb.database.db.transaction(async (tx) => {
      for (const value of ["198.51.100.7", "prepared.example", "198.51.100.8"]) await lookup(tx, viewer, [value]);
      for (const v of [twoGroupViewer, loneViewer]) await lookup(tx, v, ["198.51.100.7"]);
      return rowsOf<{ n: number }>(
        await tx.execute(sql`select count(*)::int as n from pg_prepared_statements
          where not from_sql and statement like '%jsonb_to_recordset%'`),
      );
    });
    expect(prepared[0]?.n).toBe(1);
  });
});

describe("indicator(value)", () => {
  it("answers what the viewer may see, null for the rest, and the reason for a value it cannot read", async () => {
    const resolver = new IndicatorResolver();
    const ctx = (v: ViewerIdentity) => ({ viewer: v, services: { db: tdb.database.db } }) as unknown as Context;
    expect((await resolver.indicator("prepared[.]example", null, ctx(viewer)))?.confidence).toBe(70);
    expect(await resolver.indicator("prepared.example", null, ctx(otherViewer))).toBeNull();
    await expect(resolver.indicator("10.1.1", null, ctx(viewer))).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "value" },
    });
    await expect(resolver.indicator("10.1.1", "IPV4", ctx(viewer))).rejects.toThrow(/dotted-quad/);
  });
});
