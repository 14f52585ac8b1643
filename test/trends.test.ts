import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, asc, eq, sql } from "drizzle-orm";
import { auditLog } from "../src/modules/audit";
import { compactTrends } from "../src/modules/trends";
import { toGlobalId } from "../src/shared/ids";
import { rowsOf } from "../src/shared/rows";
import {
  CreateAssessmentDocument,
  CreateFeedDocument,
  CreateIncidentDocument,
  CreateThreatActorDocument,
  IndicatorByValueDocument,
  IngestDocument,
  OrganizationTrendsSettingsDocument,
  RevokeReportDocument,
  SetTrendsConsentDocument,
  SetTrendsScopeKDocument,
  TrendsDocument,
  UpdateIncidentDocument,
  WithdrawAssessmentDocument,
  ReviseAssessmentDocument,
  type CreateIncidentInput,
  type MarkingInput,
  type TrendsInput,
  type TrendsQuery,
} from "./generated/graphql";
import { op, startHub, TARGET, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;
let operator: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  operator = await hub.world.account(await hub.world.org("HUB_OPERATOR"), "READER");
});
afterAll(() => hub?.dispose());

interface Member {
  org: SeededOrg;
  analyst: SeededAccount;
  reader: SeededAccount;
  admin: SeededAccount;
}

interface Region {
  org: SeededOrg;
  analyst: SeededAccount;
  admin: SeededAccount;
  members: Member[];
}

/** A regional body of its own with `n` member states of their own, so tests never share counts. */
async function region(n: number): Promise<Region> {
  const org = await hub.world.org("REGIONAL_BODY");
  const members: Member[] = [];
  for (let i = 0; i < n; i++) {
    const m = await hub.world.org("MEMBER_STATE");
    await hub.world.membership(org, m);
    members.push({
      org: m,
      analyst: await hub.world.account(m, "ANALYST"),
      reader: await hub.world.account(m, "READER"),
      admin: await hub.world.account(m, "ADMIN"),
    });
  }
  return {
    org,
    analyst: await hub.world.account(org, "ANALYST"),
    admin: await hub.world.account(org, "ADMIN"),
    members,
  };
}

const member = (r: Region, i: number): Member => {
  const m = r.members[i];
  if (!m) throw new Error(`no member ${i}`);
  return m;
};

async function incident(token: string, over: Partial<CreateIncidentInput> = {}) {
  const r = await op(hub.url, token, CreateIncidentDocument, {
    input: {
      title: "Phishing wave",
      rsitClass: "fraud",
      rsitType: "phishing",
      severity: "MEDIUM",
      sectors: ["energy"],
      countries: ["XA"],
      occurredAt: "2021-03-03T10:00:00.000Z",
      marking: { tlp: "GREEN" },
      ...over,
    },
  });
  expect(r.errors).toBeUndefined();
  return r.data?.createIncident.id ?? "";
}

type TrendsAnswer = TrendsQuery["trends"];

async function trends(token: string, input: TrendsInput): Promise<TrendsAnswer> {
  const r = await op(hub.url, token, TrendsDocument, { input });
  expect(r.errors).toBeUndefined();
  if (!r.data) throw new Error("no data");
  return r.data.trends;
}

/** One bucket's cells as { key: [count, contributors] } with null for suppressed. */
const cellsOf = (t: TrendsAnswer, bucket = 0) =>
  Object.fromEntries(
    (t.buckets[bucket]?.cells ?? []).map((c) => [c.key.join("|"), c.suppressed ? null : [c.count, c.contributors]]),
  );

const weekOf = (from: string, scopeId: string, over: Partial<TrendsInput> = {}): TrendsInput => ({
  metric: "INCIDENTS",
  interval: "WEEK",
  from,
  to: new Date(new Date(from).getTime() + 7 * 86_400_000).toISOString(),
  scopeId,
  groupBy: [],
  ...over,
});

describe("suppression", () => {
  it("withholds a cell built from k-1 contributors and shows one built from k", async () => {
    const r = await region(3);
    // Week of 2021-03-01: two contributors (one with two incidents); week of 2021-03-08: three.
    await incident(member(r, 0).analyst.token, { occurredAt: "2021-03-02T10:00:00Z" });
    await incident(member(r, 0).analyst.token, { occurredAt: "2021-03-03T10:00:00Z" });
    await incident(member(r, 1).analyst.token, { occurredAt: "2021-03-04T10:00:00Z" });
    for (const i of [0, 1, 2]) await incident(member(r, i).analyst.token, { occurredAt: "2021-03-09T10:00:00Z" });
    const t = await trends(r.analyst.token, {
      ...weekOf("2021-03-01T00:00:00Z", r.org.gid),
      to: "2021-03-15T00:00:00Z",
    });
    expect(t.k).toBe(3);
    expect(t.buckets.map((b) => [b.start, b.end])).toEqual([
      ["2021-03-01T00:00:00.000Z", "2021-03-08T00:00:00.000Z"],
      ["2021-03-08T00:00:00.000Z", "2021-03-15T00:00:00.000Z"],
    ]);
    expect(t.buckets.map((b) => b.cells)).toEqual([
      [{ key: [], count: null, contributors: null, suppressed: true }],
      [{ key: [], count: 3, contributors: 3, suppressed: false }],
    ]);
  });

  it("answers a bucket with nothing in it exactly like one with fewer than k contributors", async () => {
    const r = await region(3);
    await incident(member(r, 0).analyst.token, { occurredAt: "2021-04-06T10:00:00Z" });
    const t = await trends(r.analyst.token, {
      ...weekOf("2021-04-05T00:00:00Z", r.org.gid),
      to: "2021-04-19T00:00:00Z",
    });
    expect(t.buckets[0]?.cells).toEqual(t.buckets[1]?.cells);
    expect(t.buckets[1]?.cells).toEqual([{ key: [], count: null, contributors: null, suppressed: true }]);
  });

  it("suppresses every cell of a scope with fewer than k member states, however much they contribute", async () => {
    const r = await region(2);
    for (let n = 0; n < 3; n++)
      for (const i of [0, 1])
        await incident(member(r, i).analyst.token, { occurredAt: "2021-05-04T10:00:00Z", severity: "HIGH" });
    const t = await trends(r.analyst.token, weekOf("2021-05-03T00:00:00Z", r.org.gid, { groupBy: ["SEVERITY"] }));
    const cells = t.buckets.flatMap((b) => b.cells);
    expect(cells).toHaveLength(7);
    expect(cells.every((c) => c.suppressed && c.count === null && c.contributors === null)).toBe(true);
  });

  it("lets a regional body raise k for its scope, never lower it, and only through its own admins", async () => {
    const r = await region(3);
    for (const i of [0, 1, 2]) await incident(member(r, i).analyst.token, { occurredAt: "2021-06-01T10:00:00Z" });
    const input = weekOf("2021-05-31T00:00:00Z", r.org.gid);
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [3, 3] });

    const lower = await op(hub.url, r.admin.token, SetTrendsScopeKDocument, { regionId: r.org.gid, k: 2 });
    expect(lower.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const byAnalyst = await op(hub.url, r.analyst.token, SetTrendsScopeKDocument, { regionId: r.org.gid, k: 4 });
    expect(byAnalyst.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const byMember = await op(hub.url, member(r, 0).admin.token, SetTrendsScopeKDocument, {
      regionId: r.org.gid,
      k: 4,
    });
    expect(byMember.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const raised = await op(hub.url, r.admin.token, SetTrendsScopeKDocument, { regionId: r.org.gid, k: 4 });
    expect(raised.data?.setTrendsScopeK).toEqual({ consent: "ALL_BUT_RED", scopeK: 4, defaultK: 3 });
    const t = await trends(member(r, 1).reader.token, input);
    expect(t.k).toBe(4);
    expect(cellsOf(t)).toEqual({ "": null });

    await op(hub.url, r.admin.token, SetTrendsScopeKDocument, { regionId: r.org.gid, k: null });
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [3, 3] });
  });
});

describe("what counts", () => {
  it("counts each consent setting as it says, at once, and only the organisation's admins change it", async () => {
    const r = await region(3);
    const [a, b, c] = [member(r, 0), member(r, 1), member(r, 2)];
    const at = { occurredAt: "2021-07-06T10:00:00Z" };
    await incident(a.analyst.token, at);
    await incident(b.analyst.token, at);
    await incident(c.analyst.token, { ...at, marking: { tlp: "CLEAR" } });
    await incident(c.analyst.token, { ...at, marking: { tlp: "AMBER" } });
    await incident(c.analyst.token, { ...at, marking: { tlp: "AMBER_STRICT" } });
    const input = weekOf("2021-07-05T00:00:00Z", r.org.gid);
    const set = (consent: "NONE" | "UP_TO_GREEN" | "ALL_BUT_RED", token = c.admin.token) =>
      op(hub.url, token, SetTrendsConsentDocument, { organizationId: c.org.gid, consent });

    // The default counts everything but RED.
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [5, 3] });
    expect((await set("UP_TO_GREEN")).data?.setTrendsConsent).toEqual({
      consent: "UP_TO_GREEN",
      scopeK: null,
      defaultK: 3,
    });
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [3, 3] });
    await set("NONE");
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": null });
    await set("ALL_BUT_RED");
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [5, 3] });

    for (const token of [c.analyst.token, a.admin.token, r.admin.token]) {
      const refused = await set("NONE", token);
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [5, 3] });
    // Every change and every refusal is on the audit log.
    const audited = await hub.database.db
      .select({ outcome: auditLog.outcome, detail: auditLog.detail })
      .from(auditLog)
      .where(and(eq(auditLog.operation, "setTrendsConsent"), sql`${c.org.gid} = any(${auditLog.targetIds})`))
      .orderBy(asc(auditLog.seq));
    expect(audited).toEqual([
      { outcome: "SUCCESS", detail: { consent: "UP_TO_GREEN" } },
      { outcome: "SUCCESS", detail: { consent: "NONE" } },
      { outcome: "SUCCESS", detail: { consent: "ALL_BUT_RED" } },
      { outcome: "FORBIDDEN", detail: { consent: "NONE" } },
      { outcome: "FORBIDDEN", detail: { consent: "NONE" } },
      { outcome: "FORBIDDEN", detail: { consent: "NONE" } },
    ]);
  });

  it("shows an organisation's settings to its own admins only", async () => {
    const r = await region(1);
    const m = member(r, 0);
    await op(hub.url, m.admin.token, SetTrendsConsentDocument, { organizationId: m.org.gid, consent: "UP_TO_GREEN" });
    const own = await op(hub.url, m.admin.token, OrganizationTrendsSettingsDocument, { id: m.org.gid });
    expect(own.data?.organization.trendsSettings).toEqual({ consent: "UP_TO_GREEN", scopeK: null, defaultK: 3 });
    for (const token of [m.reader.token, m.analyst.token, r.admin.token]) {
      const other = await op(hub.url, token, OrganizationTrendsSettingsDocument, { id: m.org.gid });
      expect(other.data?.organization.trendsSettings).toBeNull();
    }
    const regionOwn = await op(hub.url, r.admin.token, OrganizationTrendsSettingsDocument, { id: r.org.gid });
    expect(regionOwn.data?.organization.trendsSettings).toEqual({ consent: "ALL_BUT_RED", scopeK: 3, defaultK: 3 });
  });

  it("never counts RED: the answer is the same as if the RED record did not exist", async () => {
    const r = await region(3);
    const at = { occurredAt: "2021-08-03T10:00:00Z" };
    await incident(member(r, 0).analyst.token, at);
    await incident(member(r, 1).analyst.token, at);
    const input = weekOf("2021-08-02T00:00:00Z", r.org.gid);
    const before = await hub.gql(
      r.analyst.token,
      `query($i: TrendsInput!) { trends(input: $i) { k buckets { cells { key count contributors suppressed } } } }`,
      { i: input },
    );
    // A third contributor whose only record is RED (shared with the regional body itself).
    await incident(member(r, 2).analyst.token, {
      ...at,
      marking: { tlp: "RED", audienceOrganizationIds: [r.org.gid] },
    });
    const after = await hub.gql(
      r.analyst.token,
      `query($i: TrendsInput!) { trends(input: $i) { k buckets { cells { key count contributors suppressed } } } }`,
      { i: input },
    );
    // The bodies, not the responses: a Date header may tick between the two.
    expect({ data: after.data, errors: after.errors }).toEqual({ data: before.data, errors: before.errors });
    expect(before.data).toBeTruthy();
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": null });
    // With a third GREEN contributor the cell shows, and the RED incident is still not in it.
    await incident(member(r, 2).analyst.token, at);
    await incident(member(r, 0).analyst.token, { ...at, marking: { tlp: "RED" } });
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [3, 3] });
  });

  it("follows incident updates: a new severity or date moves the count, RED takes it out, and back", async () => {
    const r = await region(3);
    const at = { occurredAt: "2021-08-17T10:00:00Z", severity: "HIGH" as const };
    const ids: string[] = [];
    for (const m of r.members) ids.push(await incident(m.analyst.token, at));
    const input = weekOf("2021-08-16T00:00:00Z", r.org.gid, { to: "2021-08-30T00:00:00Z", groupBy: ["SEVERITY"] });
    const shown = async () =>
      (await trends(r.analyst.token, input)).buckets.map((b) =>
        b.cells.filter((c) => !c.suppressed).map((c) => [c.key[0], c.count, c.contributors]),
      );
    expect(await shown()).toEqual([[["HIGH", 3, 3]], []]);
    const update = async (i: number, input: Record<string, unknown>) => {
      const res = await op(hub.url, member(r, i).analyst.token, UpdateIncidentDocument, { id: ids[i] ?? "", input });
      expect(res.errors).toBeUndefined();
    };
    await update(0, { severity: "SEVERE" });
    expect(await shown()).toEqual([[], []]);
    await update(0, { severity: "HIGH", occurredAt: "2021-08-24T10:00:00Z" });
    expect(await shown()).toEqual([[], []]);
    await update(1, { occurredAt: "2021-08-24T10:00:00Z", detectedAt: "2021-08-24T11:00:00Z" });
    await update(2, { occurredAt: "2021-08-24T10:00:00Z", detectedAt: "2021-08-24T11:00:00Z" });
    expect(await shown()).toEqual([[], [["HIGH", 3, 3]]]);
    await update(2, { marking: { tlp: "RED" } });
    expect(await shown()).toEqual([[], []]);
    await update(2, { marking: { tlp: "AMBER" } });
    expect(await shown()).toEqual([[], [["HIGH", 3, 3]]]);
  });

  it("drops a revoked report from the counts", async () => {
    const r = await region(3);
    const values = ["198.51.100.1", "198.51.100.2"];
    for (const [i, m] of r.members.entries()) {
      const f = await op(hub.url, m.analyst.token, CreateFeedDocument, {
        input: { name: `trends feed ${i} ${Math.random()}`, format: "CSV", defaultMarking: { tlp: "GREEN" } },
      });
      const ingested = await op(hub.url, m.analyst.token, IngestDocument, {
        feedId: f.data?.createFeed.id ?? "",
        content: `value\n${values.join("\n")}\nrevoked-${i}.example\n`,
      });
      expect(ingested.data?.ingest.reports.created).toBe(3);
    }
    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate()));
    const input: TrendsInput = {
      metric: "INDICATORS",
      interval: "DAY",
      from: today.toISOString(),
      to: new Date(today.getTime() + 86_400_000).toISOString(),
      scopeId: r.org.gid,
      groupBy: ["INDICATOR_TYPE"],
    };
    const before = cellsOf(await trends(r.analyst.token, input));
    expect(before.IPV4).toEqual([6, 3]);
    expect(before.DOMAIN).toEqual([3, 3]);

    const m = member(r, 1);
    const ind = await op(hub.url, m.analyst.token, IndicatorByValueDocument, { value: "198.51.100.2" });
    const own = ind.data?.indicator?.reports.find((x) => x.owner.id === m.org.gid);
    const revoked = await op(hub.url, m.analyst.token, RevokeReportDocument, { id: own?.id ?? "" });
    expect(revoked.errors).toBeUndefined();
    const after = cellsOf(await trends(r.analyst.token, input));
    expect(after.IPV4).toEqual([5, 3]);
    expect(after.DOMAIN).toEqual([3, 3]);
  });
});

describe("rollup rows", () => {
  const rollupRows = async (orgIds: string[]) =>
    rowsOf<{ n: number }>(
      await hub.database.db.execute(
        sql`select count(*)::int as n from trend_incident_rollup where org_id in (${sql.join(
          orgIds.map((id) => sql`${id}::uuid`),
          sql`, `,
        )})`,
      ),
    )[0]?.n ?? 0;

  it("merges each key's rows when compacted, and the answer stays the same", async () => {
    const r = await region(3);
    const ids: string[] = [];
    for (const m of r.members)
      for (let i = 0; i < 3; i++) ids.push(await incident(m.analyst.token, { occurredAt: "2021-10-12T10:00:00Z" }));
    const input = weekOf("2021-10-11T00:00:00Z", r.org.gid);
    const before = await trends(r.analyst.token, input);
    expect(cellsOf(before)).toEqual({ "": [9, 3] });
    const orgIds = r.members.map((m) => m.org.id);
    // One row per writing transaction: nine creations, nine rows of one key per organisation.
    expect(await rollupRows(orgIds)).toBe(9);
    // Other tests' rows in this database are merged too: at least these nine.
    expect(await compactTrends(hub.database.db)).toBeGreaterThanOrEqual(9);
    expect(await rollupRows(orgIds)).toBe(3);
    expect(await trends(r.analyst.token, input)).toEqual(before);
    // A key that sums to nothing goes away.
    await op(hub.url, member(r, 0).analyst.token, UpdateIncidentDocument, {
      id: ids[0] ?? "",
      input: { occurredAt: "2021-10-19T10:00:00Z" },
    });
    expect(await rollupRows(orgIds)).toBe(5);
    await compactTrends(hub.database.db);
    expect(await rollupRows(orgIds)).toBe(4);
    expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [8, 3] });
  });

  it.skipIf(TARGET === "pglite")(
    "never makes one writer wait for another's transaction (PostgreSQL: PGlite has one connection)",
    async () => {
      const r = await region(3);
      const a = member(r, 0);
      const at = "2021-10-26T10:00:00Z";
      let release: () => void = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let inserted: () => void = () => {};
      const hasInserted = new Promise<void>((resolve) => (inserted = resolve));
      // A transaction of Aldoria's that counts an incident in a key, and stays open.
      const open = hub.database.db.transaction(async (tx) => {
        await tx.execute(sql`insert into incidents (owner_org_id, tlp, title, rsit_class, rsit_type, severity,
          occurred_at, created_by) values (${a.org.id}::uuid, 'GREEN', 'held', 'fraud', 'phishing', 'MEDIUM',
          ${at}::timestamptz, ${a.analyst.id}::uuid)`);
        inserted();
        await held;
      });
      await hasInserted;
      // The same organisation, the same key, through the API: it commits while the other is open.
      await incident(a.analyst.token, { occurredAt: at, sectors: [], countries: [] });
      for (const m of [member(r, 1), member(r, 2)]) await incident(m.analyst.token, { occurredAt: at });
      const input = weekOf("2021-10-25T00:00:00Z", r.org.gid);
      expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [3, 3] });
      expect(await compactTrends(hub.database.db)).toBeGreaterThanOrEqual(0);
      release();
      await open;
      expect(cellsOf(await trends(r.analyst.token, input))).toEqual({ "": [4, 3] });
    },
  );
});

describe("grouping", () => {
  it("groups incidents by RSIT class, severity, sector and affected country, each and together", async () => {
    const r = await region(4);
    const at = { occurredAt: "2021-09-07T10:00:00Z" };
    for (const i of [0, 1, 2]) {
      await incident(member(r, i).analyst.token, {
        ...at,
        rsitClass: "malicious-code",
        rsitType: "infected-system",
        severity: "HIGH",
        sectors: ["Energy", "health"],
        countries: ["XA", "XB"],
      });
    }
    // Only the fourth member uses "water" and "XC": those values never reach k, so never appear.
    await incident(member(r, 3).analyst.token, { ...at, sectors: ["water"], countries: ["XC"] });
    await incident(member(r, 3).analyst.token, { ...at, sectors: [], countries: [] });
    const input = (groupBy: TrendsInput["groupBy"]) => weekOf("2021-09-06T00:00:00Z", r.org.gid, { groupBy });

    expect(cellsOf(await trends(r.analyst.token, input([])))).toEqual({ "": [5, 4] });
    const byClass = await trends(r.analyst.token, input(["RSIT_CLASS"]));
    expect(byClass.axes[0]?.values).toContain("fraud");
    expect(cellsOf(byClass)["malicious-code"]).toEqual([3, 3]);
    expect(cellsOf(byClass).fraud).toBeNull();
    expect(Object.values(cellsOf(byClass)).filter((c) => c !== null)).toHaveLength(1);

    const bySeverity = await trends(r.analyst.token, input(["SEVERITY"]));
    expect(bySeverity.axes[0]?.values).toEqual([
      "BASELINE_NEGLIGIBLE",
      "BASELINE_MINOR",
      "LOW",
      "MEDIUM",
      "HIGH",
      "SEVERE",
      "EMERGENCY",
    ]);
    expect(cellsOf(bySeverity)).toMatchObject({ HIGH: [3, 3], MEDIUM: null, LOW: null });

    const bySector = await trends(r.analyst.token, input(["SECTOR"]));
    expect(bySector.axes).toEqual([
      { dimension: "SECTOR", values: ["energy", "health"], labels: ["energy", "health"] },
    ]);
    expect(cellsOf(bySector)).toEqual({ energy: [3, 3], health: [3, 3] });

    const byCountry = await trends(r.analyst.token, input(["COUNTRY"]));
    expect(byCountry.axes).toEqual([{ dimension: "COUNTRY", values: ["XA", "XB"], labels: ["XA", "XB"] }]);
    expect(cellsOf(byCountry)).toEqual({ XA: [3, 3], XB: [3, 3] });

    const both = await trends(r.analyst.token, input(["SEVERITY", "SECTOR"]));
    expect(both.buckets[0]?.cells).toHaveLength(14);
    expect(Object.entries(cellsOf(both)).filter(([, v]) => v !== null)).toEqual([
      ["HIGH|energy", [3, 3]],
      ["HIGH|health", [3, 3]],
    ]);
  });

  it("groups indicators and sightings by type and by the contributor's country, which one organisation never passes", async () => {
    const r = await region(3);
    const day = "2021-10-05";
    // Seeded straight into the tables (the triggers under test fill the rollups either way).
    await hub.database.db.execute(sql`
      with o as (
        insert into observables (type, value, stix_id)
        select t.type::observable_type, t.value, 'x--' || t.value
        from (values ('IPV4', '203.0.113.${sql.raw(String(Math.floor(Math.random() * 200)))}'), ('DOMAIN', ${`g-${r.org.id}.example`})) t(type, value)
        on conflict (type, value) do update set value = excluded.value
        returning id, type)
      , f as (
        insert into feeds (owner_org_id, name, format, default_tlp)
        select m.id, 'rollup ' || m.id, 'CSV', 'GREEN' from organizations m
        where m.id in (${sql.join(
          r.members.map((m) => sql`${m.org.id}::uuid`),
          sql`, `,
        )})
        returning id, owner_org_id)
      , rep as (
        insert into reports (observable_id, feed_id, owner_org_id, tlp, created_at)
        select o.id, f.id, f.owner_org_id, 'GREEN', ${`${day}T12:00:00Z`}::timestamptz from o cross join f
        returning id)
      insert into sightings (observable_id, feed_id, owner_org_id, tlp, created_at)
      select o.id, f.id, f.owner_org_id, 'AMBER', ${`${day}T23:59:59.999Z`}::timestamptz from o cross join f
      where o.type = 'DOMAIN'`);
    const input = (metric: "INDICATORS" | "SIGHTINGS", groupBy: TrendsInput["groupBy"]): TrendsInput => ({
      metric,
      interval: "DAY",
      from: `${day}T00:00:00Z`,
      to: "2021-10-06T00:00:00Z",
      scopeId: r.org.gid,
      groupBy,
    });
    const reportsByType = await trends(r.analyst.token, input("INDICATORS", ["INDICATOR_TYPE"]));
    expect(Object.entries(cellsOf(reportsByType)).filter(([, v]) => v !== null)).toEqual([
      ["IPV4", [3, 3]],
      ["DOMAIN", [3, 3]],
    ]);
    const sightingsByType = await trends(r.analyst.token, input("SIGHTINGS", ["INDICATOR_TYPE"]));
    expect(Object.entries(cellsOf(sightingsByType)).filter(([, v]) => v !== null)).toEqual([["DOMAIN", [3, 3]]]);

    const byCountry = await trends(r.analyst.token, input("INDICATORS", ["COUNTRY"]));
    const codes = rowsOf<{ country_code: string }>(
      await hub.database.db.execute(
        sql`select country_code from organizations where id in (${sql.join(
          r.members.map((m) => sql`${m.org.id}::uuid`),
          sql`, `,
        )}) order by 1`,
      ),
    ).map((x) => x.country_code);
    expect(byCountry.axes).toEqual([{ dimension: "COUNTRY", values: codes, labels: codes }]);
    expect(byCountry.buckets[0]?.cells.every((c) => c.suppressed)).toBe(true);

    const both = await trends(r.analyst.token, input("INDICATORS", ["INDICATOR_TYPE", "COUNTRY"]));
    expect(both.buckets[0]?.cells.every((c) => c.suppressed)).toBe(true);
    expect(both.buckets[0]?.cells).toHaveLength((reportsByType.axes[0]?.values.length ?? 0) * codes.length);
  });

  it("refuses a dimension the metric does not have, or one named twice", async () => {
    const r = await region(1);
    for (const [metric, groupBy] of [
      ["INDICATORS", ["SECTOR"]],
      ["INCIDENTS", ["INDICATOR_TYPE"]],
      ["INCIDENTS", ["SECTOR", "SECTOR"]],
    ] as const) {
      const res = await op(hub.url, r.analyst.token, TrendsDocument, {
        input: weekOf("2021-09-06T00:00:00Z", r.org.gid, { metric, groupBy: [...groupBy] }),
      });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.groupBy" });
    }
  });
});

describe("grouping by threat actor", () => {
  const at = { occurredAt: "2023-03-07T10:00:00Z" };
  const week = (scopeId: string, over: Partial<TrendsInput> = {}) =>
    weekOf("2023-03-06T00:00:00Z", scopeId, { groupBy: ["THREAT_ACTOR"], ...over });

  async function actor(token: string, name: string, marking: MarkingInput = { tlp: "GREEN" }) {
    const r = await op(hub.url, token, CreateThreatActorDocument, {
      input: { name: `${name} ${Math.random()}`, kind: "THREAT_ACTOR", marking },
    });
    expect(r.errors).toBeUndefined();
    const a = r.data?.createThreatActor;
    if (!a) throw new Error("no actor");
    return { id: a.id, name: a.name };
  }

  /** An assessment of `token`'s organisation attributing the incident to the actor. */
  async function attribute(
    token: string,
    incidentId: string,
    actorId: string,
    marking: MarkingInput = { tlp: "GREEN" },
  ) {
    const r = await op(hub.url, token, CreateAssessmentDocument, {
      input: {
        subject: { incidentId },
        actorId,
        likelihood: "LIKELY",
        analyticConfidence: "MODERATE",
        rationale: "Same loader and infrastructure as the actor's earlier operations.",
        nextReviewAt: "2030-01-01T00:00:00.000Z",
        marking,
      },
    });
    expect(r.errors).toBeUndefined();
    const a = r.data?.createAssessment;
    if (!a) throw new Error("no assessment");
    return { id: a.id, revision: a.revision };
  }

  /** The cells shown in a bucket, by key (actors by name, null as "-"). */
  const shownOf = (t: TrendsAnswer, bucket = 0) => {
    const axis = t.axes.find((a) => a.dimension === "THREAT_ACTOR");
    const label = (v: string | null) => {
      const i = axis ? axis.values.indexOf(v) : -1;
      return v === null ? "-" : ((i >= 0 ? axis?.labels[i] : null) ?? v);
    };
    return Object.fromEntries(
      (t.buckets[bucket]?.cells ?? [])
        .filter((c) => !c.suppressed)
        .map((c) => [
          c.key.map((v, i) => (t.groupBy[i] === "THREAT_ACTOR" ? label(v) : v)).join("|"),
          [c.count, c.contributors],
        ]),
    );
  };

  it("lists an actor with its global id and name, shows its cell from k contributors, withholds it at k-1, and counts the unattributed under null", async () => {
    const r = await region(3);
    const apt = await actor(member(r, 0).analyst.token, "Trend Bear");
    // Week of 2023-03-06: three members' incidents attributed to the actor by their own analysts,
    // and one unattributed incident each. Week of 2023-03-13: two members' attributed incidents.
    for (const m of r.members) {
      await attribute(m.analyst.token, await incident(m.analyst.token, at), apt.id);
      await incident(m.analyst.token, at);
    }
    for (const i of [0, 1])
      await attribute(
        member(r, i).analyst.token,
        await incident(member(r, i).analyst.token, { occurredAt: "2023-03-14T10:00:00Z" }),
        apt.id,
      );
    const t = await trends(r.analyst.token, week(r.org.gid, { to: "2023-03-20T00:00:00Z" }));
    expect(t.axes).toEqual([{ dimension: "THREAT_ACTOR", values: [apt.id, null], labels: [apt.name, null] }]);
    expect(t.buckets.map((b) => b.cells)).toEqual([
      [
        { key: [apt.id], count: 3, contributors: 3, suppressed: false },
        { key: [null], count: 3, contributors: 3, suppressed: false },
      ],
      [
        { key: [apt.id], count: null, contributors: null, suppressed: true },
        { key: [null], count: null, contributors: null, suppressed: true },
      ],
    ]);
    // Grouped with another dimension, and ungrouped: each incident once.
    const bySeverity = await trends(r.analyst.token, week(r.org.gid, { groupBy: ["SEVERITY", "THREAT_ACTOR"] }));
    expect(shownOf(bySeverity)).toEqual({ [`MEDIUM|${apt.name}`]: [3, 3], "MEDIUM|-": [3, 3] });
    expect(cellsOf(await trends(r.analyst.token, week(r.org.gid, { groupBy: [] })))).toEqual({ "": [6, 3] });
    // Compacting the rollups changes nothing.
    await compactTrends(hub.database.db);
    expect(await trends(r.analyst.token, week(r.org.gid, { to: "2023-03-20T00:00:00Z" }))).toEqual(t);
  });

  it("needs k organisations to have made the attributions, and counts an incident once under an actor however many name it", async () => {
    const r = await region(3);
    const apt = await actor(member(r, 0).analyst.token, "Lone Wolf");
    const ids: string[] = [];
    for (const m of r.members) ids.push(await incident(m.analyst.token, at));
    // One organisation attributes all three members' (GREEN) incidents: three incident owners, one assessor.
    for (const id of ids) await attribute(member(r, 0).analyst.token, id, apt.id);
    const alone = await trends(r.analyst.token, week(r.org.gid));
    expect(alone.axes[0]?.values).toEqual([]);
    expect(alone.buckets[0]?.cells).toEqual([]);
    // The next week each attributes its own: the actor is listed (three assessors over the window),
    // yet the first week's cell, all of one organisation's making, stays withheld.
    for (const m of r.members)
      await attribute(m.analyst.token, await incident(m.analyst.token, { occurredAt: "2023-03-14T10:00:00Z" }), apt.id);
    const twoWeeks = week(r.org.gid, { to: "2023-03-20T00:00:00Z" });
    const listed = await trends(r.analyst.token, twoWeeks);
    expect(listed.axes[0]?.values).toEqual([apt.id]);
    expect([shownOf(listed, 0), shownOf(listed, 1)]).toEqual([{}, { [apt.name]: [3, 3] }]);
    // The other two agree about their own first-week incidents: three assessors, still three incidents.
    await attribute(member(r, 1).analyst.token, ids[1] ?? "", apt.id);
    await attribute(member(r, 2).analyst.token, ids[2] ?? "", apt.id, { tlp: "AMBER" });
    const agreed = await trends(r.analyst.token, twoWeeks);
    expect([shownOf(agreed, 0), shownOf(agreed, 1)]).toEqual([{ [apt.name]: [3, 3] }, { [apt.name]: [3, 3] }]);
  });

  it("stops counting a withdrawn assessment, and moves the count when a revision names another actor", async () => {
    const r = await region(3);
    const first = await actor(member(r, 0).analyst.token, "First Panda");
    const second = await actor(member(r, 1).analyst.token, "Second Panda");
    const made: { id: string; revision: number }[] = [];
    for (const m of r.members) {
      made.push(await attribute(m.analyst.token, await incident(m.analyst.token, at), first.id));
      await attribute(m.analyst.token, await incident(m.analyst.token, at), second.id);
      await incident(m.analyst.token, at);
    }
    const ask = () => trends(r.analyst.token, week(r.org.gid));
    expect(shownOf(await ask())).toEqual({ [first.name]: [3, 3], [second.name]: [3, 3], "-": [3, 3] });

    const m0 = member(r, 0);
    const moved = await op(hub.url, m0.analyst.token, ReviseAssessmentDocument, {
      id: made[0]?.id ?? "",
      expectedRevision: 1,
      changes: { actorId: second.id },
      reason: "the loader is the other cluster's",
    });
    expect(moved.errors).toBeUndefined();
    // The first actor keeps two assessors: it leaves the axis; the second gains the incident.
    const afterMove = await ask();
    expect(afterMove.axes[0]?.labels).toEqual([second.name, null]);
    expect(shownOf(afterMove)).toEqual({ [second.name]: [4, 3], "-": [3, 3] });

    const m2 = member(r, 2);
    await op(hub.url, m0.analyst.token, ReviseAssessmentDocument, {
      id: made[0]?.id ?? "",
      expectedRevision: 2,
      changes: { actorId: first.id },
      reason: "back",
    });
    expect(shownOf(await ask())).toEqual({ [first.name]: [3, 3], [second.name]: [3, 3], "-": [3, 3] });
    const withdrawn = await op(hub.url, m2.analyst.token, WithdrawAssessmentDocument, {
      id: made[2]?.id ?? "",
      expectedRevision: 1,
      reason: "not supported any more",
    });
    expect(withdrawn.errors).toBeUndefined();
    // Its incident has no countable attribution left: it counts under null.
    expect(shownOf(await ask())).toEqual({ [second.name]: [3, 3], "-": [4, 3] });
  });

  it("never counts a RED assessment, and counts others only as their owner's consent allows", async () => {
    const r = await region(3);
    const apt = await actor(member(r, 0).analyst.token, "Crimson Owl");
    const ids: string[] = [];
    for (const m of r.members) ids.push(await incident(m.analyst.token, at));
    await attribute(member(r, 0).analyst.token, ids[0] ?? "", apt.id);
    await attribute(member(r, 1).analyst.token, ids[1] ?? "", apt.id);
    const query = `query($i: TrendsInput!) { trends(input: $i) { k axes { dimension values labels } buckets { cells { key count contributors suppressed } } } }`;
    const before = await hub.gql(r.analyst.token, query, { i: week(r.org.gid) });
    // The third organisation's assessment is RED (shared with the regional body itself).
    const red = await attribute(member(r, 2).analyst.token, ids[2] ?? "", apt.id, {
      tlp: "RED",
      audienceOrganizationIds: [r.org.gid],
    });
    const after = await hub.gql(r.analyst.token, query, { i: week(r.org.gid) });
    expect({ data: after.data, errors: after.errors }).toEqual({ data: before.data, errors: before.errors });
    expect(JSON.stringify(after.data)).not.toContain(apt.id);
    // Released as AMBER it counts, unless its owner counts only up to GREEN.
    const released = await op(hub.url, member(r, 2).analyst.token, ReviseAssessmentDocument, {
      id: red.id,
      expectedRevision: red.revision,
      changes: { marking: { tlp: "AMBER" } },
      reason: "released",
    });
    expect(released.errors).toBeUndefined();
    expect(shownOf(await trends(r.analyst.token, week(r.org.gid)))).toEqual({ [apt.name]: [3, 3] });
    await op(hub.url, member(r, 2).admin.token, SetTrendsConsentDocument, {
      organizationId: member(r, 2).org.gid,
      consent: "UP_TO_GREEN",
    });
    expect(shownOf(await trends(r.analyst.token, week(r.org.gid)))).toEqual({});
  });

  it("never shows a RED actor, nor one whose owner's consent excludes its marking, and answers every viewer alike", async () => {
    const r = await region(3);
    const [m0, m1, m2] = [member(r, 0), member(r, 1), member(r, 2)];
    const audience = { audienceOrganizationIds: [m1.org.gid, m2.org.gid] };
    const red = await actor(m0.analyst.token, "Internal cluster 9", { tlp: "RED", ...audience });
    const amber = await actor(m0.analyst.token, "Amber Heron", { tlp: "AMBER", ...audience });
    const ask = async () => trends(r.analyst.token, week(r.org.gid));
    for (const m of r.members) await incident(m.analyst.token, at);
    const before = await ask();
    // Every member attributes an incident to the RED actor: it counts like an unattributed one.
    for (const m of r.members) await attribute(m.analyst.token, await incident(m.analyst.token, at), red.id);
    for (const m of r.members) await attribute(m.analyst.token, await incident(m.analyst.token, at), amber.id);
    const t = await ask();
    expect(t.axes[0]?.values).toEqual([amber.id, null]);
    expect(JSON.stringify(t)).not.toContain(red.id);
    expect(JSON.stringify(t)).not.toContain(red.name);
    expect(shownOf(t)).toEqual({ [amber.name]: [3, 3], "-": [6, 3] });
    expect(shownOf(before)).toEqual({ "-": [3, 3] });
    // The AMBER actor's name is in the answer for everyone allowed to ask, whether or not they may
    // see the actor itself (its owner consented to AMBER being counted): byte-identical answers.
    const body = JSON.stringify({
      query: `query($i: TrendsInput!) { trends(input: $i) { axes { dimension values labels } buckets { cells { key count contributors suppressed } } } }`,
      variables: { i: week(r.org.gid) },
    });
    const answers: string[] = [];
    for (const token of [m0.reader.token, m1.reader.token, r.analyst.token, operator.token]) {
      const res = await fetch(`${hub.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
      answers.push(await res.text());
    }
    expect(answers[0]).toContain(amber.name);
    for (const a of answers) expect(a).toBe(answers[0]);
    // The actor's owner counts only up to GREEN: the AMBER actor goes, its incidents count under null.
    await op(hub.url, m0.admin.token, SetTrendsConsentDocument, { organizationId: m0.org.gid, consent: "UP_TO_GREEN" });
    const limited = await ask();
    expect(limited.axes[0]?.values).toEqual([null]);
    expect(shownOf(limited)).toEqual({ "-": [9, 3] });
  });

  it("follows the incident: a new date moves its attributed count, RED takes it out, and back", async () => {
    const r = await region(3);
    const apt = await actor(member(r, 0).analyst.token, "Moving Target");
    const ids: string[] = [];
    for (const m of r.members) {
      const id = await incident(m.analyst.token, at);
      ids.push(id);
      await attribute(m.analyst.token, id, apt.id);
    }
    const input = week(r.org.gid, { to: "2023-03-20T00:00:00Z" });
    const shown = async () => {
      const t = await trends(r.analyst.token, input);
      return [shownOf(t, 0), shownOf(t, 1)];
    };
    expect(await shown()).toEqual([{ [apt.name]: [3, 3] }, {}]);
    const update = async (i: number, change: Record<string, unknown>) => {
      const res = await op(hub.url, member(r, i).analyst.token, UpdateIncidentDocument, {
        id: ids[i] ?? "",
        input: change,
      });
      expect(res.errors).toBeUndefined();
    };
    for (const i of [0, 1, 2]) await update(i, { occurredAt: "2023-03-15T10:00:00Z" });
    expect(await shown()).toEqual([{}, { [apt.name]: [3, 3] }]);
    await update(1, { marking: { tlp: "RED" } });
    const hidden = await trends(r.analyst.token, input);
    expect(hidden.axes[0]?.values).toEqual([]);
    await update(1, { marking: { tlp: "AMBER" } });
    expect(await shown()).toEqual([{}, { [apt.name]: [3, 3] }]);
  });

  it("keeps the rollup equal to a recount from the incidents and assessments, through set-based changes of many at once", async () => {
    const r = await region(3);
    const first = await actor(member(r, 0).analyst.token, "Recount One");
    const second = await actor(member(r, 0).analyst.token, "Recount Two");
    const ids: string[] = [];
    for (const m of r.members) {
      const id = await incident(m.analyst.token, at);
      ids.push(id);
      await attribute(m.analyst.token, id, first.id, { tlp: "AMBER" });
      await attribute(m.analyst.token, id, second.id);
      // Two assessments of one organisation naming one actor: GREEN and AMBER.
      await attribute(m.analyst.token, id, first.id);
      await attribute(member(r, 0).analyst.token, id, second.id, { tlp: "AMBER" });
    }
    const orgIds = sql.join(
      r.members.map((m) => sql`${m.org.id}::uuid`),
      sql`, `,
    );
    // One statement moving every assessment of these members naming the first actor to the second,
    // then one withdrawing half of all their assessments, then one marking the rest RED and back.
    const db = hub.database.db;
    await db.execute(sql`update assessments set actor_id = (select id from threat_actors where name = ${second.name})
      where owner_org_id in (${orgIds}) and actor_id = (select id from threat_actors where name = ${first.name})`);
    await db.execute(sql`update assessments set status = 'WITHDRAWN'
      where owner_org_id in (${orgIds}) and id in (select id from assessments where owner_org_id in (${orgIds}) order by id limit 6)`);
    await db.execute(
      sql`update assessments set tlp = 'RED' where owner_org_id in (${orgIds}) and status <> 'WITHDRAWN'`,
    );
    await db.execute(sql`update assessments set tlp = 'GREEN' where owner_org_id in (${orgIds}) and tlp = 'RED'`);
    const [check] = rowsOf<{ missing: number; extra: number; total: number; attributed: number }>(
      await db.execute(sql`
        with rolled as (
          select day, org_id, amber, rsit_class, severity::text as severity, sectors, countries, attributions, sum(n)::int as n
          from trend_incident_rollup group by 1, 2, 3, 4, 5, 6, 7, 8 having sum(n) <> 0
        ), recount as (
          select k.day, k.org_id, k.amber, k.rsit_class, k.severity::text as severity, k.sectors, k.countries,
                 trend_incident_attributions(i.id) as attributions, count(*)::int as n
          from incidents i cross join lateral trend_incident_key(i) k where i.tlp <> 'RED'
          group by 1, 2, 3, 4, 5, 6, 7, 8
        )
        select (select count(*) from (select * from rolled except select * from recount) x)::int as missing,
               (select count(*) from (select * from recount except select * from rolled) y)::int as extra,
               (select count(*) from recount)::int as total,
               (select count(*) from recount where org_id in (${orgIds}) and cardinality(attributions) > 0)::int as attributed`),
    );
    expect(check).toEqual({ missing: 0, extra: 0, total: expect.any(Number), attributed: expect.any(Number) });
    expect(check?.total).toBeGreaterThan(20);
    expect(check?.attributed).toBeGreaterThan(0);
  });
});

describe("buckets", () => {
  it("puts records in UTC buckets: days at UTC midnight, ISO weeks from Monday, months from the 1st", async () => {
    const r = await region(3);
    for (const m of r.members) {
      // Sunday 2022-01-30, last moment of January (UTC), and the same instant written with an offset.
      await incident(m.analyst.token, { occurredAt: "2022-01-30T23:59:59.999Z" });
      await incident(m.analyst.token, { occurredAt: "2022-01-31T00:30:00+01:00" });
      // Monday 2022-01-31 00:00 UTC, and February's first moment.
      await incident(m.analyst.token, { occurredAt: "2022-01-31T00:00:00.000Z" });
      await incident(m.analyst.token, { occurredAt: "2022-02-01T00:00:00.000Z" });
    }
    const counts = (t: TrendsAnswer) => t.buckets.map((b) => [b.start.slice(0, 10), b.cells[0]?.count ?? null]);
    const ask = (interval: "DAY" | "WEEK" | "MONTH", from: string, to: string) =>
      trends(r.analyst.token, { metric: "INCIDENTS", interval, from, to, scopeId: r.org.gid, groupBy: [] });
    expect(counts(await ask("DAY", "2022-01-30T00:00:00Z", "2022-02-02T00:00:00Z"))).toEqual([
      ["2022-01-30", 6],
      ["2022-01-31", 3],
      ["2022-02-01", 3],
    ]);
    expect(counts(await ask("WEEK", "2022-01-24T00:00:00Z", "2022-02-07T00:00:00Z"))).toEqual([
      ["2022-01-24", 6],
      ["2022-01-31", 6],
    ]);
    expect(counts(await ask("MONTH", "2022-01-01T00:00:00Z", "2022-03-01T00:00:00Z"))).toEqual([
      ["2022-01-01", 9],
      ["2022-02-01", 3],
    ]);
  });

  it("refuses a window whose ends are not bucket edges, that is empty, or that holds too many buckets", async () => {
    const r = await region(1);
    const bad = async (input: Partial<TrendsInput>, field: string) => {
      const res = await op(hub.url, r.analyst.token, TrendsDocument, {
        input: { ...weekOf("2022-01-03T00:00:00Z", r.org.gid), ...input },
      });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field });
    };
    await bad({ from: "2022-01-04T00:00:00Z" }, "input.from"); // a Tuesday
    await bad({ from: "2022-01-03T01:00:00Z" }, "input.from");
    await bad({ to: "2022-01-03T00:00:00Z" }, "input.to");
    await bad({ interval: "MONTH", from: "2022-01-03T00:00:00Z" }, "input.from");
    await bad({ interval: "DAY", from: "2020-01-01T00:00:00Z", to: "2022-01-01T00:00:00Z" }, "input.to");
    await bad(
      {
        interval: "DAY",
        from: "2021-01-01T00:00:00Z",
        to: "2022-01-01T00:00:00Z",
        groupBy: ["RSIT_CLASS", "SEVERITY"],
      },
      "input.groupBy",
    );
  });
});

describe("who may ask", () => {
  it("answers the regional body, its member states and the operator, and FORBIDDEN to everyone else alike", async () => {
    const r = await region(2);
    const other = await region(1);
    const partner = await hub.world.account(await hub.world.org("PARTNER"), "ADMIN");
    const input = weekOf("2021-11-01T00:00:00Z", r.org.gid);
    for (const token of [r.analyst.token, member(r, 0).reader.token, operator.token])
      expect((await op(hub.url, token, TrendsDocument, { input })).errors).toBeUndefined();
    const refusals: unknown[] = [];
    for (const [token, scopeId] of [
      [other.analyst.token, r.org.gid],
      [member(other, 0).reader.token, r.org.gid],
      [partner.token, r.org.gid],
      [member(r, 0).reader.token, null],
      [r.analyst.token, null],
      [member(r, 0).reader.token, member(r, 0).org.gid],
      [member(r, 0).reader.token, toGlobalId("Organization", "00000000-0000-4000-8000-000000000000")],
      [member(r, 0).reader.token, "not an id"],
    ] as const) {
      const res = await op(hub.url, token, TrendsDocument, { input: { ...input, scopeId } });
      expect(res.data).toBeNull();
      refusals.push(res.errors);
    }
    expect(refusals.every((e) => JSON.stringify(e) === JSON.stringify(refusals[0]))).toBe(true);
    expect(JSON.stringify(refusals[0])).toContain('"code":"FORBIDDEN"');
    const hubWide = await op(hub.url, operator.token, TrendsDocument, { input: { ...input, scopeId: null } });
    expect(hubWide.data?.trends.scopeId).toBeNull();
    const notRegion = await op(hub.url, operator.token, TrendsDocument, {
      input: { ...input, scopeId: member(r, 0).org.gid },
    });
    expect(notRegion.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.scopeId" });
  });

  it("gives every permitted viewer of a scope a byte-identical answer, whatever each may see", async () => {
    const r = await region(3);
    const [a, b, c] = [member(r, 0), member(r, 1), member(r, 2)];
    const at = { occurredAt: "2021-12-07T10:00:00Z" };
    // Records each viewer sees differently: AMBER for b only, AMBER_STRICT for the region only, RED for a.
    await incident(a.analyst.token, { ...at, marking: { tlp: "AMBER", audienceOrganizationIds: [b.org.gid] } });
    await incident(b.analyst.token, { ...at, marking: { tlp: "AMBER_STRICT", audienceOrganizationIds: [r.org.gid] } });
    await incident(c.analyst.token, { ...at, marking: { tlp: "RED", audienceOrganizationIds: [a.org.gid] } });
    await incident(c.analyst.token, { ...at, severity: "HIGH" });
    await incident(b.analyst.token, { ...at, severity: "HIGH" });
    await incident(a.analyst.token, { ...at, severity: "HIGH", sectors: ["energy", "telecom"] });
    const body = JSON.stringify({
      query: `query($i: TrendsInput!) { trends(input: $i) { metric interval from to scopeId k groupBy axes { dimension values } buckets { start end cells { key count contributors suppressed } } } }`,
      variables: {
        i: weekOf("2021-11-29T00:00:00Z", r.org.gid, { to: "2021-12-13T00:00:00Z", groupBy: ["SEVERITY", "SECTOR"] }),
      },
    });
    const answers = [];
    for (const token of [a.reader.token, b.reader.token, c.admin.token, r.analyst.token, operator.token]) {
      const res = await fetch(`${hub.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body,
      });
      expect(res.status).toBe(200);
      answers.push(await res.text());
    }
    expect(answers[0]).toContain('"contributors":3');
    for (const a2 of answers) expect(a2).toBe(answers[0]);
  });
});
