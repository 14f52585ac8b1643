import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asc, inArray } from "drizzle-orm";
import { randomUUID } from "node:crypto";
import { auditLog } from "../src/modules/audit";
import { toGlobalId } from "../src/shared/ids";
import {
  AddTimelineEntryDocument,
  CreateIncidentDocument,
  IncidentDocument,
  IncidentsDocument,
  IncidentsWithTimelinesDocument,
  IncidentTaxonomyDocument,
  IncidentRevisionsDocument,
  UpdateIncidentWithReasonDocument,
  NodeByIdDocument,
  UpdateIncidentDocument,
  type CreateIncidentInput,
} from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let statements = 0;
let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let xc: SeededOrg;
let xaAnalyst: SeededAccount;
let xaReader: SeededAccount;
let xbAnalyst: SeededAccount;
let xbReader: SeededAccount;
let xcReader: SeededAccount;
let partnerReader: SeededAccount;

beforeAll(async () => {
  // Token checks (re-run about once a second) are not the page's statements: they are left out.
  hub = await startHub({}, { onQuery: (q) => void (q.includes('"api_tokens"') || statements++) });
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  xc = await hub.world.org("MEMBER_STATE");
  const partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xaReader = await hub.world.account(xa, "READER");
  xbAnalyst = await hub.world.account(xb, "ANALYST");
  xbReader = await hub.world.account(xb, "READER");
  xcReader = await hub.world.account(xc, "READER");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

const base = (over: Partial<CreateIncidentInput> = {}): CreateIncidentInput => ({
  title: "Ransomware at a water utility",
  rsitClass: "malicious-code",
  rsitType: "infected-system",
  severity: "HIGH",
  sectors: ["Water"],
  countries: ["XA"],
  occurredAt: "2026-03-01T10:00:00.000Z",
  marking: { tlp: "GREEN" },
  ...over,
});

async function create(token: string, over: Partial<CreateIncidentInput> = {}) {
  const r = await op(hub.url, token, CreateIncidentDocument, { input: base(over) });
  expect(r.errors).toBeUndefined();
  return r.data?.createIncident.id ?? "";
}

describe("incident classification", () => {
  it("exposes the RSIT classes and the NCISS priority levels with their colours", async () => {
    const r = await op(hub.url, xaReader.token, IncidentTaxonomyDocument);
    const t = r.data?.incidentTaxonomy;
    expect(t?.classes.map((c) => c.value)).toContain("malicious-code");
    expect(t?.classes.find((c) => c.value === "malicious-code")?.types.map((x) => x.value)).toContain("c2-server");
    expect(t?.priorityLevels.map((l) => l.value)).toEqual([
      "baseline-negligible",
      "baseline-minor",
      "low",
      "medium",
      "high",
      "severe",
      "emergency",
    ]);
    expect(t?.priorityLevels.at(-1)).toEqual({
      severity: "EMERGENCY",
      value: "emergency",
      expanded: "Emergency",
      colour: "#000000",
      numericalValue: 100,
    });
  });

  it("stores an incident with its classification, and shows the severity's level and colour", async () => {
    const r = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
      input: base({ sectors: [" Water ", "water", "Energy"], countries: ["xa", "XB"] }),
    });
    expect(r.errors).toBeUndefined();
    expect(r.data?.createIncident).toMatchObject({
      rsitClass: "malicious-code",
      rsitType: "infected-system",
      severity: "HIGH",
      priorityLevel: { value: "high", expanded: "High", colour: "#FFC000", numericalValue: 85 },
      status: "OPEN",
      sectors: ["water", "energy"],
      countries: ["XA", "XB"],
      owner: { id: xa.gid },
    });
  });

  it("refuses an unknown RSIT class or type with the list of valid ones", async () => {
    const badClass = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
      input: base({ rsitClass: "cyberwar" }),
    });
    expect(badClass.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.rsitClass" });
    expect(badClass.errors?.[0]?.message).toMatch(/valid classes: .*abusive-content.*malicious-code.*vulnerable/);
    const badType = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
      input: base({ rsitType: "spam" }),
    });
    expect(badType.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.rsitType" });
    expect(badType.errors?.[0]?.message).toContain(
      "valid types: infected-system, c2-server, malware-distribution, malware-configuration",
    );
    const badFilter = await op(hub.url, xaReader.token, IncidentsDocument, { filter: { rsitClasses: ["nope"] } });
    expect(badFilter.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "filter.rsitClasses" });
    const badCountry = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
      input: base({ countries: ["Aldoria"] }),
    });
    expect(badCountry.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.countries" });
    const badTimes = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
      input: base({ detectedAt: "2026-02-01T00:00:00.000Z" }),
    });
    expect(badTimes.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.detectedAt" });
  });

  it("lets only analysts of the owner change an incident; others get FORBIDDEN or NOT_FOUND as they may see it", async () => {
    const green = await create(xaAnalyst.token);
    const changed = await op(hub.url, xaAnalyst.token, UpdateIncidentDocument, {
      id: green,
      input: { status: "CONTAINED", severity: "SEVERE", rsitClass: "intrusions", rsitType: "system-compromise" },
    });
    expect(changed.errors).toBeUndefined();
    expect(changed.data?.updateIncident).toMatchObject({
      status: "CONTAINED",
      severity: "SEVERE",
      rsitClass: "intrusions",
      priorityLevel: { colour: "#CC0033" },
    });
    const half = await op(hub.url, xaAnalyst.token, UpdateIncidentDocument, {
      id: green,
      input: { rsitClass: "fraud" },
    });
    expect(half.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const reader = await op(hub.url, xaReader.token, UpdateIncidentDocument, { id: green, input: { title: "x" } });
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const other = await op(hub.url, xbAnalyst.token, UpdateIncidentDocument, { id: green, input: { title: "x" } });
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const amber = await create(xaAnalyst.token, { marking: { tlp: "AMBER" } });
    const hidden = await op(hub.url, xbAnalyst.token, UpdateIncidentDocument, { id: amber, input: { title: "x" } });
    const missing = await op(hub.url, xbAnalyst.token, UpdateIncidentDocument, {
      id: toGlobalId("Incident", randomUUID()),
      input: { title: "x" },
    });
    expect(hidden.errors?.[0]).toMatchObject({
      message: missing.errors?.[0]?.message,
      extensions: { code: "NOT_FOUND" },
    });
  });
});

describe("listing incidents", () => {
  let org: SeededOrg;
  let analyst: SeededAccount;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    // An owner of its own, so the owner filter isolates this block's incidents.
    org = await hub.world.org("MEMBER_STATE");
    analyst = await hub.world.account(org, "ANALYST");
    ids.a = await create(analyst.token, {
      title: "a",
      severity: "LOW",
      sectors: ["energy"],
      countries: ["XA"],
      occurredAt: "2026-01-10T00:00:00.000Z",
    });
    ids.b = await create(analyst.token, {
      title: "b",
      rsitClass: "fraud",
      rsitType: "phishing",
      severity: "HIGH",
      sectors: ["finance"],
      countries: ["XB"],
      occurredAt: "2026-02-10T00:00:00.000Z",
    });
    ids.c = await create(analyst.token, {
      title: "c",
      severity: "HIGH",
      status: "RESOLVED",
      sectors: ["energy", "water"],
      countries: ["XA", "XB"],
      occurredAt: "2026-03-10T00:00:00.000Z",
    });
    ids.d = await create(analyst.token, {
      title: "d",
      severity: "EMERGENCY",
      occurredAt: null,
      sectors: [],
      countries: [],
    });
    ids.e = await create(analyst.token, { title: "e", marking: { tlp: "AMBER" } });
  });

  const titles = async (token: string, filter: Record<string, unknown>) => {
    const r = await op(hub.url, token, IncidentsDocument, { filter: { ownerIds: [org.gid], ...filter } });
    expect(r.errors).toBeUndefined();
    const edges = r.data?.incidents.edges ?? [];
    expect(r.data?.incidents.totalCount).toBe(edges.length);
    return edges.map((e) => e.node.title);
  };

  it("filters by class, severity, sector, country, status, time window and owner", async () => {
    expect(await titles(xbReader.token, {})).toEqual(["a", "b", "c", "d"]);
    expect(await titles(xbReader.token, { rsitClasses: ["fraud"] })).toEqual(["b"]);
    expect(await titles(xbReader.token, { severities: ["HIGH", "EMERGENCY"] })).toEqual(["b", "c", "d"]);
    expect(await titles(xbReader.token, { sector: "Energy" })).toEqual(["a", "c"]);
    expect(await titles(xbReader.token, { country: "xb" })).toEqual(["b", "c"]);
    expect(await titles(xbReader.token, { statuses: ["RESOLVED"] })).toEqual(["c"]);
    expect(
      await titles(xbReader.token, {
        occurredFrom: "2026-02-01T00:00:00.000Z",
        occurredTo: "2026-03-10T00:00:00.000Z",
      }),
    ).toEqual(["b"]);
    expect(await titles(xbReader.token, { ownerIds: [xb.gid] })).toEqual([]);
  });

  it("pages through them in a stable order with opaque cursors", async () => {
    const seen: string[] = [];
    let after: string | null | undefined;
    do {
      const r = await op(hub.url, analyst.token, IncidentsDocument, {
        filter: { ownerIds: [org.gid] },
        first: 2,
        after,
      });
      expect(r.data?.incidents.totalCount).toBe(5);
      seen.push(...(r.data?.incidents.edges.map((e) => e.node.title) ?? []));
      after = r.data?.incidents.pageInfo.hasNextPage ? r.data.incidents.pageInfo.endCursor : null;
    } while (after);
    expect(seen).toEqual(["a", "b", "c", "d", "e"]);
    const bad = await op(hub.url, analyst.token, IncidentsDocument, { after: "nonsense" });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("never counts or filters in an incident the viewer may not see", async () => {
    // The AMBER one is the owner's only: another state, whatever the filter, learns nothing of it.
    expect(await titles(analyst.token, { severities: ["HIGH"] })).toEqual(["b", "c", "e"]);
    expect(await titles(xbReader.token, { severities: ["HIGH"] })).toEqual(["b", "c"]);
    expect(await titles(xcReader.token, { sector: "water" })).toEqual(["c"]);
    // GREEN is not for partners.
    expect(await titles(partnerReader.token, {})).toEqual([]);
  });
});

describe("who may see an incident", () => {
  it("answers an invisible incident exactly like a missing one, by id and through node(id)", async () => {
    const amber = await create(xaAnalyst.token, { marking: { tlp: "AMBER", audienceOrganizationIds: [xc.gid] } });
    const missing = toGlobalId("Incident", randomUUID());
    const seen = await op(hub.url, xcReader.token, IncidentDocument, { id: amber });
    expect(seen.data?.incident.id).toBe(amber);
    const hidden = await op(hub.url, xbReader.token, IncidentDocument, { id: amber });
    const none = await op(hub.url, xbReader.token, IncidentDocument, { id: missing });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect({ ...hidden, headers: null }).toEqual({ ...none, headers: null });
    const hiddenNode = await op(hub.url, xbReader.token, NodeByIdDocument, { id: amber });
    const noneNode = await op(hub.url, xbReader.token, NodeByIdDocument, { id: missing });
    expect({ ...hiddenNode, headers: null }).toEqual({ ...noneNode, headers: null });
    const visibleNode = await op(hub.url, xcReader.token, NodeByIdDocument, { id: amber });
    expect(visibleNode.data?.node).toEqual({ id: amber, __typename: "Incident" });
  });
});

describe("the timeline", () => {
  it("lists entries in event order, each as its own marking allows", async () => {
    const incident = await create(xaAnalyst.token, {
      marking: { tlp: "AMBER", audienceOrganizationIds: [xb.gid, xc.gid] },
    });
    const add = async (eventAt: string, summary: string, marking: Record<string, unknown>) => {
      const r = await op(hub.url, xaAnalyst.token, AddTimelineEntryDocument, {
        incidentId: incident,
        input: { eventAt, summary, marking: marking as never },
      });
      expect(r.errors).toBeUndefined();
      return r.data?.addTimelineEntry.id ?? "";
    };
    await add("2026-03-03T09:00:00.000Z", "contained", { tlp: "AMBER", audienceOrganizationIds: [xb.gid, xc.gid] });
    const red = await add("2026-03-01T08:00:00.000Z", "first beacon seen", {
      tlp: "RED",
      audienceOrganizationIds: [xb.gid],
    });
    await add("2026-03-02T12:30:00.000Z", "ransom note", { tlp: "GREEN" });
    const owner = await op(hub.url, xaReader.token, IncidentDocument, { id: incident });
    expect(owner.data?.incident.timeline.map((e) => e.summary)).toEqual([
      "first beacon seen",
      "ransom note",
      "contained",
    ]);
    const xbView = await op(hub.url, xbReader.token, IncidentDocument, { id: incident });
    expect(xbView.data?.incident.timeline.map((e) => e.summary)).toEqual([
      "first beacon seen",
      "ransom note",
      "contained",
    ]);
    // xc is in the incident's audience but not in the RED entry's: no trace of it.
    const xcView = await op(hub.url, xcReader.token, IncidentDocument, { id: incident });
    expect(xcView.data?.incident.timeline.map((e) => e.summary)).toEqual(["ransom note", "contained"]);
    const missing = toGlobalId("TimelineEntry", randomUUID());
    const hiddenNode = await op(hub.url, xcReader.token, NodeByIdDocument, { id: red });
    const noneNode = await op(hub.url, xcReader.token, NodeByIdDocument, { id: missing });
    expect(hiddenNode.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect({ ...hiddenNode, headers: null }).toEqual({ ...noneNode, headers: null });
    expect((await op(hub.url, xbReader.token, NodeByIdDocument, { id: red })).data?.node?.__typename).toBe(
      "TimelineEntry",
    );
  });

  it("hides a CLEAR entry of an incident the viewer may not see", async () => {
    const incident = await create(xaAnalyst.token, { marking: { tlp: "AMBER" } });
    const r = await op(hub.url, xaAnalyst.token, AddTimelineEntryDocument, {
      incidentId: incident,
      input: { eventAt: "2026-03-01T00:00:00.000Z", summary: "public note", marking: { tlp: "CLEAR" } },
    });
    const entry = r.data?.addTimelineEntry.id ?? "";
    expect((await op(hub.url, xaReader.token, NodeByIdDocument, { id: entry })).data?.node?.id).toBe(entry);
    const hidden = await op(hub.url, xbReader.token, NodeByIdDocument, { id: entry });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("takes entries only from analysts of the incident's owner", async () => {
    const green = await create(xaAnalyst.token);
    const input = { eventAt: "2026-03-01T00:00:00.000Z", summary: "x", marking: { tlp: "GREEN" as const } };
    const other = await op(hub.url, xbAnalyst.token, AddTimelineEntryDocument, { incidentId: green, input });
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const amber = await create(xaAnalyst.token, { marking: { tlp: "AMBER" } });
    const hidden = await op(hub.url, xbAnalyst.token, AddTimelineEntryDocument, { incidentId: amber, input });
    expect(hidden.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "incidentId" });
    const missing = await op(hub.url, xbAnalyst.token, AddTimelineEntryDocument, {
      incidentId: toGlobalId("Incident", randomUUID()),
      input,
    });
    expect(hidden.errors?.[0]?.message).toBe(missing.errors?.[0]?.message);
  });

  it("loads the timelines of a page of incidents in one statement, whatever the page size", async () => {
    const org = await hub.world.org("MEMBER_STATE");
    const analyst = await hub.world.account(org, "ANALYST");
    for (let i = 0; i < 12; i++) {
      const id = await create(analyst.token, { title: `bulk ${i}`, marking: { tlp: "AMBER" } });
      await op(hub.url, analyst.token, AddTimelineEntryDocument, {
        incidentId: id,
        input: { eventAt: "2026-03-01T00:00:00.000Z", summary: `entry ${i}`, marking: { tlp: "AMBER" } },
      });
    }
    const count = async (first: number) => {
      const before = statements;
      const r = await op(hub.url, analyst.token, IncidentsWithTimelinesDocument, {
        filter: { ownerIds: [org.gid] },
        first,
      });
      expect(r.errors).toBeUndefined();
      expect(r.data?.incidents.edges.filter((e) => e.node.timeline.length === 1)).toHaveLength(Math.min(first, 12));
      return statements - before;
    };
    expect(await count(2)).toBe(await count(12));
  });
});

describe("revisions", () => {
  it("records every change, a change of marking too, and shows each viewer only the revisions it may see", async () => {
    const id = await create(xaAnalyst.token, { marking: { tlp: "RED" }, title: "Quiet breach" });
    const change = async (input: object, reason: string) => {
      const r = await op(hub.url, xaAnalyst.token, UpdateIncidentWithReasonDocument, { id, input, reason });
      expect(r.errors).toBeUndefined();
    };
    await change({ severity: "SEVERE", countries: ["XA", "XQ"] }, "Second site hit");
    await change({ marking: { tlp: "GREEN" }, countries: ["XA"] }, "Released to the community");
    await change({ status: "CONTAINED" }, "Contained");
    const own = await op(hub.url, xaReader.token, IncidentRevisionsDocument, { id });
    const revs = own.data?.incident.revisions ?? [];
    expect(revs.map((r) => [r.number, r.action, r.reason, r.marking.tlp])).toEqual([
      [1, "CREATE", "Created", "RED"],
      [2, "REVISE", "Second site hit", "RED"],
      [3, "REVISE", "Released to the community", "GREEN"],
      [4, "REVISE", "Contained", "GREEN"],
    ]);
    expect(revs[1]?.changes).toEqual([
      { field: "severity", old: "HIGH", new: "SEVERE" },
      { field: "countries", old: ["XA"], new: ["XA", "XQ"] },
    ]);
    expect(revs[2]?.changes.map((c) => c.field)).toEqual(["countries", "marking"]);
    // Another member state sees the history from the release on, as if it began there.
    const other = await op(hub.url, xbReader.token, IncidentRevisionsDocument, { id });
    const seen = other.data?.incident.revisions ?? [];
    expect(seen.map((r) => [r.number, r.action, r.reason])).toEqual([
      [1, "CREATE", "Released to the community"],
      [2, "REVISE", "Contained"],
    ]);
    expect(seen[0]?.changes.every((c) => c.old === null)).toBe(true);
    expect(JSON.stringify(seen)).not.toMatch(/XQ|RED|SEVERE"?,"new":"HIGH|Second site/);
    expect(seen[1]?.changes).toEqual([{ field: "status", old: "OPEN", new: "CONTAINED" }]);
  });
});

describe("audit", () => {
  it("records every incident mutation, refused attempts with their code", async () => {
    const id = await create(xbAnalyst.token, { marking: { tlp: "AMBER" } });
    await op(hub.url, xbAnalyst.token, UpdateIncidentDocument, { id, input: { status: "CLOSED" } });
    await op(hub.url, xbAnalyst.token, AddTimelineEntryDocument, {
      incidentId: id,
      input: { eventAt: "2026-03-01T00:00:00.000Z", summary: "closed", marking: { tlp: "AMBER" } },
    });
    await op(hub.url, xaAnalyst.token, UpdateIncidentDocument, { id, input: { status: "OPEN" } });
    const entries = await hub.database.db
      .select()
      .from(auditLog)
      .where(inArray(auditLog.operation, ["createIncident", "updateIncident", "addTimelineEntry"]))
      .orderBy(asc(auditLog.seq));
    const about = entries.filter((e) => e.targetIds.includes(id));
    expect(about.map((e) => [e.operation, e.outcome, e.organizationId])).toEqual([
      ["createIncident", "SUCCESS", xb.id],
      ["updateIncident", "SUCCESS", xb.id],
      ["addTimelineEntry", "SUCCESS", xb.id],
      ["updateIncident", "NOT_FOUND", xa.id],
    ]);
    expect(about[1]?.detail).toEqual({ changed: ["status"] });
  });
});
