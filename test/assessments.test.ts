import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asc, eq, inArray, sql } from "drizzle-orm";
import { auditLog } from "../src/modules/audit";
import { assessmentRevisions, opinionRevisions } from "../src/modules/assessments";
import { idOf } from "../src/shared/ids";
import {
  AddOpinionDocument,
  AssessmentDocument,
  AssessmentScalesDocument,
  AssessmentsDocument,
  AssessmentsPageDocument,
  ConfirmAssessmentDocument,
  CreateAssessmentDocument,
  CreateFeedDocument,
  CreateIncidentDocument,
  CreateThreatActorDocument,
  IndicatorByValueDocument,
  IngestDocument,
  NodeByIdDocument,
  ReviseAssessmentDocument,
  ReviseOpinionDocument,
  WithdrawAssessmentDocument,
  type CreateAssessmentInput,
  type Tlp,
} from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let statements = 0;
/** Every statement the hub issued (token checks aside), in order. */
const queries: string[] = [];
let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let xc: SeededOrg;
let xaAnalyst: SeededAccount;
let xaReader: SeededAccount;
let xbAnalyst: SeededAccount;
let xbReader: SeededAccount;
let xcAnalyst: SeededAccount;
let xcReader: SeededAccount;
let partnerReader: SeededAccount;
let sandworm: string;
let redActor: string;

const REVIEW = "2030-01-01T00:00:00.000Z";
const MISSING = "QXNzZXNzbWVudDowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDA=";

/** A value the test needs, or a failure naming it. */
function must<T>(v: T | null | undefined, what = "value"): T {
  if (v == null) throw new Error(`expected ${what}`);
  return v;
}

/** The database's own message for a refused statement (drizzle wraps it as the cause). */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as Error & { cause?: Error };
    return err.cause?.message ?? err.message;
  }
  return "(not refused)";
}

beforeAll(async () => {
  hub = await startHub(
    {},
    {
      onQuery: (q) => {
        if (q.includes('"api_tokens"')) return;
        statements++;
        queries.push(q);
      },
    },
  );
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  xc = await hub.world.org("MEMBER_STATE");
  const partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xaReader = await hub.world.account(xa, "READER");
  xbAnalyst = await hub.world.account(xb, "ANALYST");
  xbReader = await hub.world.account(xb, "READER");
  xcAnalyst = await hub.world.account(xc, "ANALYST");
  xcReader = await hub.world.account(xc, "READER");
  partnerReader = await hub.world.account(partner, "READER");
  sandworm = await actor(xaAnalyst.token, "Sandworm Team", "GREEN");
  redActor = await actor(xaAnalyst.token, "XA internal cluster 7", "RED");
});
afterAll(() => hub?.dispose());

async function actor(token: string, name: string, tlp: Tlp) {
  const r = await op(hub.url, token, CreateThreatActorDocument, {
    input: { name: `${name} ${Math.random()}`, kind: "INTRUSION_SET", marking: { tlp } },
  });
  expect(r.errors).toBeUndefined();
  return r.data?.createThreatActor.id ?? "";
}

async function incident(token: string, tlp: Tlp) {
  const r = await op(hub.url, token, CreateIncidentDocument, {
    input: {
      title: "Power outage after a wiper",
      rsitClass: "malicious-code",
      rsitType: "infected-system",
      severity: "SEVERE",
      marking: { tlp },
    },
  });
  expect(r.errors).toBeUndefined();
  return r.data?.createIncident.id ?? "";
}

const input = (over: Partial<CreateAssessmentInput> = {}): CreateAssessmentInput => ({
  subject: { campaignName: "2016 Ukraine Electric Power Attack" },
  actorId: sandworm,
  likelihood: "LIKELY",
  analyticConfidence: "MODERATE",
  rationale: "Infrastructure overlaps with earlier operations of the same cluster.",
  nextReviewAt: REVIEW,
  marking: { tlp: "GREEN" },
  ...over,
});

async function create(token: string, over: Partial<CreateAssessmentInput> = {}) {
  const r = await op(hub.url, token, CreateAssessmentDocument, { input: input(over) });
  expect(r.errors).toBeUndefined();
  return must(r.data).createAssessment;
}

const read = (token: string, id: string, asOf?: string) =>
  op(hub.url, token, AssessmentDocument, { id, ...(asOf ? { asOf } : {}) });

async function revise(token: string, id: string, expectedRevision: number, changes: object, reason = "new facts") {
  return op(hub.url, token, ReviseAssessmentDocument, { id, expectedRevision, changes, reason });
}

describe("assessment scales", () => {
  it("gives the estimative-language bands and the state-responsibility levels from the taxonomy files", async () => {
    const r = await op(hub.url, xaReader.token, AssessmentScalesDocument);
    expect(r.data?.assessmentScales.likelihoods).toEqual([
      { likelihood: "ALMOST_NO_CHANCE", value: "almost-no-chance", lowPercent: 1, highPercent: 5 },
      { likelihood: "VERY_UNLIKELY", value: "very-unlikely", lowPercent: 5, highPercent: 20 },
      { likelihood: "UNLIKELY", value: "unlikely", lowPercent: 20, highPercent: 45 },
      { likelihood: "ROUGHLY_EVEN_CHANCE", value: "roughly-even-chance", lowPercent: 45, highPercent: 55 },
      { likelihood: "LIKELY", value: "likely", lowPercent: 55, highPercent: 80 },
      { likelihood: "VERY_LIKELY", value: "very-likely", lowPercent: 80, highPercent: 95 },
      { likelihood: "ALMOST_CERTAIN", value: "almost-certain", lowPercent: 95, highPercent: 99 },
    ]);
    const levels = r.data?.assessmentScales.stateResponsibility.map((s) => s.value);
    expect(levels).toHaveLength(10);
    expect(levels).toContain("state-coordinated");
  });
});

describe("creating an assessment", () => {
  it("records revision 1 with likelihood and analytic confidence apart, and the STIX confidence derived from both", async () => {
    const a = await create(xaAnalyst.token, {
      claimedState: "xz",
      stateResponsibility: "state-coordinated",
      evidence: { references: ["https://example.org/report"], incidentIds: [], indicatorIds: [] },
    });
    expect(a).toMatchObject({
      subjectKind: "CAMPAIGN",
      campaignName: "2016 Ukraine Electric Power Attack",
      actor: { id: sandworm },
      claimedState: "XZ",
      stateResponsibility: "state-coordinated",
      likelihood: "LIKELY",
      likelihoodBand: { value: "likely", lowPercent: 55, highPercent: 80 },
      analyticConfidence: "MODERATE",
      // middle of 55-80 is 67.5; moderate confidence draws it a quarter of the way to 50.
      stixConfidence: 63,
      status: "PROVISIONAL",
      nextReviewAt: REVIEW,
      overdue: false,
      owner: { id: xa.gid },
      evidence: { references: ["https://example.org/report"], incidents: [], indicators: [] },
      revision: 1,
      asOf: null,
    });
    expect(a.createdAt).toBe(a.updatedAt);
    const high = await create(xaAnalyst.token, { likelihood: "ALMOST_CERTAIN", analyticConfidence: "HIGH" });
    expect(high.stixConfidence).toBe(97);
    const low = await create(xaAnalyst.token, { likelihood: "ALMOST_NO_CHANCE", analyticConfidence: "LOW" });
    expect(low.stixConfidence).toBe(27);
  });

  it("accepts a state-responsibility level without the file's trailing stop, and stores the file's value", async () => {
    const a = await create(xaAnalyst.token, { claimedState: "XZ", stateResponsibility: "state-prohibited" });
    expect(a.stateResponsibility).toBe("state-prohibited.");
  });

  it("refuses bad input with the field named", async () => {
    const cases: [Partial<CreateAssessmentInput>, string, RegExp?][] = [
      [{ subject: {} }, "input.subject"],
      [{ subject: { campaignName: "x", incidentId: "SW5jaWRlbnQ6eA==" } }, "input.subject"],
      [{ stateResponsibility: "state-ordered" }, "input.stateResponsibility", /needs a claimedState/],
      [
        { claimedState: "XZ", stateResponsibility: "blamed" },
        "input.stateResponsibility",
        /valid levels: .*state-ordered/,
      ],
      [{ claimedState: "Atlantis" }, "input.claimedState"],
      [{ nextReviewAt: null }, "input.nextReviewAt"],
      [{ rationale: "  " }, "input.rationale"],
      [{ status: "WITHDRAWN" }, "input.status"],
      [{ subject: { campaignName: "c", campaignStixId: "campaign--nope" } }, "input.subject.campaignStixId"],
      [{ reason: "" }, "input.reason"],
    ];
    for (const [over, field, message] of cases) {
      const r = await op(hub.url, xaAnalyst.token, CreateAssessmentDocument, { input: input(over) });
      expect(r.errors?.[0]?.extensions, field).toMatchObject({ code: "BAD_USER_INPUT", field });
      if (message) expect(r.errors?.[0]?.message).toMatch(message);
    }
  });

  it("refuses an actor, incident or indicator the author may not see exactly as one that does not exist", async () => {
    const missingActor = await op(hub.url, xbAnalyst.token, CreateAssessmentDocument, {
      input: input({ actorId: "VGhyZWF0QWN0b3I6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw" }),
    });
    const hiddenActor = await op(hub.url, xbAnalyst.token, CreateAssessmentDocument, {
      input: input({ actorId: redActor }),
    });
    expect(hiddenActor.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.actorId" });
    expect(hiddenActor.errors?.[0]?.message.replace(redActor, "ID")).toBe(
      missingActor.errors?.[0]?.message.replace(/VGhy\S+/, "ID"),
    );
    const redIncident = await incident(xaAnalyst.token, "RED");
    const hiddenIncident = await op(hub.url, xbAnalyst.token, CreateAssessmentDocument, {
      input: input({ subject: { incidentId: redIncident } }),
    });
    expect(hiddenIncident.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.subject.incidentId",
    });
    const hiddenEvidence = await op(hub.url, xbAnalyst.token, CreateAssessmentDocument, {
      input: input({ evidence: { incidentIds: [redIncident], indicatorIds: [], references: [] } }),
    });
    expect(hiddenEvidence.errors?.[0]?.extensions).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "input.evidence.incidentIds",
    });
  });

  it("lets readers read but not assess", async () => {
    const r = await op(hub.url, xaReader.token, CreateAssessmentDocument, { input: input() });
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});

describe("revisions", () => {
  it("records each change as a revision with reason, author and old and new values", async () => {
    const a = await create(xaAnalyst.token);
    const r2 = await revise(
      xaAnalyst.token,
      a.id,
      1,
      { likelihood: "VERY_LIKELY", claimedState: "XZ" },
      "Second report",
    );
    expect(r2.errors).toBeUndefined();
    expect(r2.data?.reviseAssessment).toMatchObject({ likelihood: "VERY_LIKELY", claimedState: "XZ", revision: 2 });
    const confirmed = await op(hub.url, xaAnalyst.token, ConfirmAssessmentDocument, {
      id: a.id,
      expectedRevision: 2,
      reason: "Confirmed by forensic evidence",
    });
    expect(confirmed.data?.confirmAssessment).toMatchObject({ status: "CONFIRMED", nextReviewAt: null, revision: 3 });
    const r = await read(xaReader.token, a.id);
    const revs = r.data?.assessment.revisions ?? [];
    expect(revs.map((x) => [x.number, x.action, x.reason])).toEqual([
      [1, "CREATE", "Initial assessment"],
      [2, "REVISE", "Second report"],
      [3, "CONFIRM", "Confirmed by forensic evidence"],
    ]);
    expect(revs[1]?.changes).toEqual([
      { field: "claimedState", old: null, new: "XZ" },
      { field: "likelihood", old: "LIKELY", new: "VERY_LIKELY" },
    ]);
    expect(revs[2]?.changes).toEqual([
      { field: "status", old: "PROVISIONAL", new: "CONFIRMED" },
      { field: "nextReviewAt", old: REVIEW, new: null },
    ]);
    expect(revs[0]?.changes.map((c) => c.field)).toContain("rationale");
    expect(revs.every((x) => x.authorOrganization.id === xa.gid && x.author?.id === xaAnalyst.gid)).toBe(true);
    // Another organisation sees who made it, but not which account.
    const other = await read(xbReader.token, a.id);
    expect(other.data?.assessment.revisions[0]?.author).toBeNull();
    expect(other.data?.assessment.revisions[0]?.authorOrganization.id).toBe(xa.gid);
  });

  it("answers a stale expectedRevision with CONFLICT and the current revision", async () => {
    const a = await create(xaAnalyst.token);
    expect((await revise(xaAnalyst.token, a.id, 1, { rationale: "More detail." })).errors).toBeUndefined();
    const stale = await revise(xaAnalyst.token, a.id, 1, { likelihood: "UNLIKELY" });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentRevision: 2 });
    const nothing = await revise(xaAnalyst.token, a.id, 2, { rationale: "More detail." });
    expect(nothing.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "changes" });
    const noReason = await revise(xaAnalyst.token, a.id, 2, { likelihood: "UNLIKELY" }, " ");
    expect(noReason.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "reason" });
  });

  it("lets exactly one of two racing revisions of the same revision succeed", async () => {
    const a = await create(xaAnalyst.token);
    const [one, two] = await Promise.all([
      revise(xaAnalyst.token, a.id, 1, { likelihood: "UNLIKELY" }, "analyst one"),
      revise(xaAnalyst.token, a.id, 1, { likelihood: "VERY_LIKELY" }, "analyst two"),
    ]);
    const outcomes = [one, two].map((r) => r.errors?.[0]?.extensions?.code ?? "OK").sort();
    expect(outcomes).toEqual(["CONFLICT", "OK"]);
    const r = await read(xaAnalyst.token, a.id);
    expect(r.data?.assessment.revisions).toHaveLength(2);
  });

  it("lets only the owner's analysts change an assessment: FORBIDDEN for others who see it, NOT_FOUND for those who do not", async () => {
    const a = await create(xaAnalyst.token);
    const other = await revise(xbAnalyst.token, a.id, 1, { likelihood: "UNLIKELY" });
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const reader = await revise(xaReader.token, a.id, 1, { likelihood: "UNLIKELY" });
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const red = await create(xaAnalyst.token, { marking: { tlp: "RED" } });
    const hidden = await revise(xbAnalyst.token, red.id, 1, { likelihood: "UNLIKELY" });
    const missing = await revise(xbAnalyst.token, MISSING, 1, { likelihood: "UNLIKELY" });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(hidden.errors?.[0]?.message).toBe(missing.errors?.[0]?.message);
    const withdrawn = await op(hub.url, xaAnalyst.token, WithdrawAssessmentDocument, {
      id: a.id,
      expectedRevision: 1,
      reason: "The overlap was a shared hosting provider",
    });
    expect(withdrawn.data?.withdrawAssessment).toMatchObject({ status: "WITHDRAWN", revision: 2 });
    const again = await op(hub.url, xaAnalyst.token, WithdrawAssessmentDocument, {
      id: a.id,
      expectedRevision: 2,
      reason: "again",
    });
    expect(again.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("keeps revisions immutable in the database itself", async () => {
    const a = await create(xaAnalyst.token);
    const opinion = await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "AGREE", marking: { tlp: "GREEN" } },
    });
    expect(opinion.errors).toBeUndefined();
    const id = must(idOf("Assessment", a.id));
    const db = hub.database.db;
    expect(
      await refusal(
        db.update(assessmentRevisions).set({ reason: "rewritten" }).where(eq(assessmentRevisions.assessmentId, id)),
      ),
    ).toMatch(/revisions are immutable: UPDATE on assessment_revisions refused/);
    expect(await refusal(db.delete(assessmentRevisions).where(eq(assessmentRevisions.assessmentId, id)))).toMatch(
      /immutable: DELETE/,
    );
    expect(await refusal(db.execute(sql`truncate ${assessmentRevisions} cascade`))).toMatch(/immutable: TRUNCATE/);
    expect(
      await refusal(
        db
          .update(opinionRevisions)
          .set({ reason: "x" })
          .where(eq(opinionRevisions.opinionId, must(idOf("Opinion", must(opinion.data).addOpinion.id)))),
      ),
    ).toMatch(/immutable: UPDATE on opinion_revisions/);
    const rows = await db.select().from(assessmentRevisions).where(eq(assessmentRevisions.assessmentId, id));
    expect(rows.map((r) => r.reason)).toEqual(["Initial assessment"]);
  });

  it("reads an assessment as it stood at any past time", async () => {
    const a = await create(xaAnalyst.token);
    const t1 = new Date(Date.parse(a.createdAt) + 1).toISOString();
    const before = new Date(Date.parse(a.createdAt) - 1).toISOString();
    const r2 = await revise(xaAnalyst.token, a.id, 1, { likelihood: "ALMOST_CERTAIN", analyticConfidence: "HIGH" });
    const t2 = must(r2.data).reviseAssessment.updatedAt;
    expect((await read(xbReader.token, a.id, before)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const then = await read(xbReader.token, a.id, t1);
    expect(then.data?.assessment).toMatchObject({ likelihood: "LIKELY", stixConfidence: 63, revision: 1, asOf: t1 });
    expect(then.data?.assessment.revisions).toHaveLength(1);
    const now = await read(xbReader.token, a.id, t2);
    expect(now.data?.assessment).toMatchObject({ likelihood: "ALMOST_CERTAIN", stixConfidence: 97, revision: 2 });
    // Overdue is judged at the time asked for.
    const due = await create(xaAnalyst.token, { nextReviewAt: new Date(Date.now() + 60_000).toISOString() });
    expect(due.overdue).toBe(false);
    const later = new Date(Date.now() + 120_000).toISOString();
    expect((await read(xaReader.token, due.id, later)).data?.assessment.overdue).toBe(true);
  });
});

describe("who sees what of an assessment", () => {
  it("shows community readers of an assessment first shared RED then released GREEN only the GREEN revisions, with no trace of the earlier ones", async () => {
    const a = await create(xaAnalyst.token, {
      marking: { tlp: "RED", audienceOrganizationIds: [xb.gid] },
      claimedState: "XZ",
      stateResponsibility: "state-ordered",
    });
    const rev2 = await revise(xaAnalyst.token, a.id, 1, { likelihood: "VERY_LIKELY" }, "Second source (RED)");
    const redTime = must(rev2.data).reviseAssessment.updatedAt;
    const released = await revise(
      xaAnalyst.token,
      a.id,
      2,
      { marking: { tlp: "GREEN" }, claimedState: null, stateResponsibility: null },
      "Released to the community",
    );
    expect(released.errors).toBeUndefined();
    const more = await revise(xaAnalyst.token, a.id, 3, { likelihood: "ALMOST_CERTAIN" }, "Third source");
    expect(more.errors).toBeUndefined();

    const community = must((await read(xcReader.token, a.id)).data).assessment;
    expect(community.revision).toBe(2);
    expect(community.revisions.map((r) => [r.number, r.action, r.reason, r.marking.tlp])).toEqual([
      [1, "CREATE", "Released to the community", "GREEN"],
      [2, "REVISE", "Third source", "GREEN"],
    ]);
    const first = must(community.revisions[0]);
    expect(first.changes.every((c) => c.old === null)).toBe(true);
    expect(first.changes.find((c) => c.field === "likelihood")).toEqual({
      field: "likelihood",
      old: null,
      new: "VERY_LIKELY",
    });
    expect(JSON.stringify(community)).not.toMatch(/XZ|state-ordered|RED|Second source/);
    expect(community.createdAt).toBe(first.recordedAt);
    // As of a time when it was RED, it did not exist for them.
    expect((await read(xcReader.token, a.id, redTime)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");

    // The named audience and the owner see the whole history.
    const audience = must((await read(xbReader.token, a.id)).data).assessment;
    expect(audience.revisions.map((r) => r.number)).toEqual([1, 2, 3, 4]);
    expect(audience.revisions[2]?.changes).toContainEqual({ field: "claimedState", old: "XZ", new: null });
    const owner = must((await read(xaReader.token, a.id)).data).assessment;
    expect(owner.revision).toBe(4);
    expect((await read(xbReader.token, a.id, redTime)).data?.assessment).toMatchObject({
      likelihood: "VERY_LIKELY",
      claimedState: "XZ",
      revision: 2,
    });
  });

  it("hides an assessment whose subject incident or actor the viewer may not see, in every read", async () => {
    const amberIncident = await incident(xaAnalyst.token, "AMBER");
    const onHidden = await create(xaAnalyst.token, { subject: { incidentId: amberIncident } });
    expect(onHidden.subjectIncident?.id).toBe(amberIncident);
    const byHidden = await create(xaAnalyst.token, { actorId: redActor });
    for (const id of [onHidden.id, byHidden.id]) {
      const r = await read(xbReader.token, id);
      expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
      const hiddenNode = await op(hub.url, xbReader.token, NodeByIdDocument, { id });
      const missingNode = await op(hub.url, xbReader.token, NodeByIdDocument, { id: MISSING });
      expect({ ...hiddenNode, headers: null }).toEqual({ ...missingNode, headers: null });
      expect((await op(hub.url, xaReader.token, NodeByIdDocument, { id })).data?.node).toEqual({
        id,
        __typename: "Assessment",
      });
    }
    const xaAll = await op(hub.url, xaReader.token, AssessmentsDocument, { first: 500 });
    const xbAll = await op(hub.url, xbReader.token, AssessmentsDocument, { first: 500 });
    const xbIds = xbAll.data?.assessments.edges.map((e) => e.node.id) ?? [];
    expect(xbIds).not.toContain(onHidden.id);
    expect(xbIds).not.toContain(byHidden.id);
    expect(xbAll.data?.assessments.totalCount).toBe(xbIds.length);
    expect(must(xaAll.data).assessments.totalCount).toBeGreaterThan(must(xbAll.data).assessments.totalCount);
    // Filtering by the hidden actor or incident finds nothing, as for an unknown one.
    for (const filter of [{ actorId: redActor }, { incidentId: amberIncident }]) {
      const r = await op(hub.url, xbReader.token, AssessmentsDocument, { filter });
      expect(r.data?.assessments.totalCount).toBe(0);
      const own = await op(hub.url, xaReader.token, AssessmentsDocument, { filter });
      expect(own.data?.assessments.totalCount).toBe(1);
    }
  });

  it("keeps GREEN assessments from partners outside the audience", async () => {
    const a = await create(xaAnalyst.token);
    expect((await read(partnerReader.token, a.id)).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const r = await op(hub.url, partnerReader.token, AssessmentsDocument, { first: 50 });
    expect(r.data?.assessments.totalCount).toBe(0);
  });

  it("shows evidence the viewer may see and leaves the rest out", async () => {
    const greenIncident = await incident(xaAnalyst.token, "GREEN");
    const amberIncident = await incident(xaAnalyst.token, "AMBER");
    const feed = await op(hub.url, xaAnalyst.token, CreateFeedDocument, {
      input: { name: `evidence ${Math.random()}`, format: "CSV", defaultMarking: { tlp: "AMBER" } },
    });
    const ingested = await op(hub.url, xaAnalyst.token, IngestDocument, {
      feedId: must(feed.data).createFeed.id,
      content: "198.51.100.77\n",
    });
    expect(ingested.errors).toBeUndefined();
    const ind = await op(hub.url, xaReader.token, IndicatorByValueDocument, { value: "198.51.100.77" });
    const indicatorId = must(must(ind.data).indicator).id;
    const a = await create(xaAnalyst.token, {
      evidence: { incidentIds: [greenIncident, amberIncident], indicatorIds: [indicatorId], references: [] },
    });
    expect(a.evidence.incidents.map((i) => i.id).sort()).toEqual([greenIncident, amberIncident].sort());
    expect(a.evidence.indicators.map((i) => i.value)).toEqual(["198.51.100.77"]);
    const other = must((await read(xbReader.token, a.id)).data).assessment;
    expect(other.evidence).toEqual({ references: [], incidents: [{ id: greenIncident }], indicators: [] });
    const created = must(other.revisions[0]).changes;
    expect(created.find((c) => c.field === "evidenceIncidents")?.new).toEqual([greenIncident]);
    expect(created.find((c) => c.field === "evidenceIndicators")?.new).toEqual([]);
  });

  it("filters by status, likelihood, state, overdue and owner", async () => {
    const actor = await actor_(xbAnalyst.token);
    const due = await create(xbAnalyst.token, {
      actorId: actor,
      likelihood: "ALMOST_CERTAIN",
      nextReviewAt: "2020-01-01T00:00:00.000Z",
      claimedState: "XQ",
    });
    const unlikely = await create(xbAnalyst.token, { actorId: actor, likelihood: "UNLIKELY" });
    const ids = async (filter: object) =>
      (
        await op(hub.url, xcReader.token, AssessmentsDocument, { filter: { actorId: actor, ...filter } })
      ).data?.assessments.edges
        .map((e) => e.node.id)
        .sort();
    expect(await ids({})).toEqual([due.id, unlikely.id].sort());
    expect(await ids({ overdue: true })).toEqual([due.id]);
    expect(await ids({ overdue: false })).toEqual([unlikely.id]);
    expect(await ids({ minLikelihood: "LIKELY" })).toEqual([due.id]);
    expect(await ids({ claimedState: "xq" })).toEqual([due.id]);
    expect(await ids({ statuses: ["CONFIRMED"] })).toEqual([]);
    expect(await ids({ ownerIds: [xa.gid] })).toEqual([]);
    expect(await ids({ subjectKind: "CAMPAIGN", campaignName: "2016 ukraine electric power attack" })).toEqual(
      [due.id, unlikely.id].sort(),
    );
  });
});

async function actor_(token: string) {
  return actor(token, "Filter test actor", "GREEN");
}

describe("opinions", () => {
  it("lets other organisations give one opinion each, revisable with history, and summarises what the viewer may see", async () => {
    const a = await create(xaAnalyst.token);
    const own = await op(hub.url, xaAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "AGREE", marking: { tlp: "GREEN" } },
    });
    expect(own.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const xbOpinion = await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "AGREE", confidence: 70, comment: "Matches our telemetry", marking: { tlp: "GREEN" } },
    });
    expect(xbOpinion.data?.addOpinion).toMatchObject({ stance: "AGREE", confidence: 70, revision: 1 });
    const twice = await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "DISAGREE", marking: { tlp: "GREEN" } },
    });
    expect(twice.errors?.[0]?.extensions).toMatchObject({
      code: "CONFLICT",
      existingId: xbOpinion.data?.addOpinion.id,
    });
    const xcOpinion = await op(hub.url, xcAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "STRONGLY_DISAGREE", comment: "We attribute it elsewhere", marking: { tlp: "RED" } },
    });
    expect(xcOpinion.errors).toBeUndefined();

    // xb sees its own and not xc's RED one: in the list and in the summary.
    const seenByXb = must((await read(xbReader.token, a.id)).data).assessment;
    expect(seenByXb.opinions.map((o) => o.owner.id)).toEqual([xb.gid]);
    expect(seenByXb.opinionSummary).toMatchObject({ count: 1, meanAgreement: 1 });
    expect(seenByXb.opinionSummary.stances.find((s) => s.stance === "STRONGLY_DISAGREE")?.count).toBe(0);
    const seenByXc = must((await read(xcReader.token, a.id)).data).assessment;
    expect(seenByXc.opinionSummary).toMatchObject({ count: 2, meanAgreement: -0.5 });
    // The assessment's owner sees neither the RED opinion nor a trace of it.
    const seenByOwner = must((await read(xaReader.token, a.id)).data).assessment;
    expect(seenByOwner.opinions).toHaveLength(1);
    expect(JSON.stringify(seenByOwner)).not.toContain("elsewhere");

    const id = must(xbOpinion.data).addOpinion.id;
    const stale = await op(hub.url, xbAnalyst.token, ReviseOpinionDocument, {
      id,
      expectedRevision: 2,
      changes: { stance: "NEUTRAL" },
      reason: "x",
    });
    expect(stale.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", currentRevision: 1 });
    const notMine = await op(hub.url, xcAnalyst.token, ReviseOpinionDocument, {
      id,
      expectedRevision: 1,
      changes: { stance: "NEUTRAL" },
      reason: "x",
    });
    expect(notMine.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const revised = await op(hub.url, xbAnalyst.token, ReviseOpinionDocument, {
      id,
      expectedRevision: 1,
      changes: { stance: "NEUTRAL", confidence: null },
      reason: "The telemetry match was a false positive",
    });
    expect(revised.data?.reviseOpinion).toMatchObject({ stance: "NEUTRAL", revision: 2 });
    expect(revised.data?.reviseOpinion.revisions[1]?.changes).toEqual([
      { field: "stance", old: "AGREE", new: "NEUTRAL" },
      { field: "confidence", old: 70, new: null },
    ]);
    const after = must((await read(xcReader.token, a.id)).data).assessment;
    expect(after.opinionSummary).toMatchObject({ count: 2, meanAgreement: -1 });
  });

  it("hides opinions of an assessment the viewer may not see, and refuses to add one (NOT_FOUND)", async () => {
    const red = await create(xaAnalyst.token, { marking: { tlp: "RED" } });
    const r = await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
      assessmentId: red.id,
      input: { stance: "AGREE", marking: { tlp: "GREEN" } },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});

describe("reading many", () => {
  it("issues the same number of statements for a page of 5 and of 40 assessments with revisions and opinions", async () => {
    const many = await actor(xcAnalyst.token, "Page test actor", "GREEN");
    for (let i = 0; i < 40; i++) {
      const a = await create(xcAnalyst.token, { actorId: many });
      await revise(xcAnalyst.token, a.id, 1, { likelihood: "VERY_LIKELY" });
      await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
        assessmentId: a.id,
        input: { stance: "AGREE", marking: { tlp: "GREEN" } },
      });
    }
    const count = async (first: number) => {
      const before = statements;
      const r = await op(hub.url, xcReader.token, AssessmentsPageDocument, { first, filter: { actorId: many } });
      expect(r.errors).toBeUndefined();
      expect(r.data?.assessments.edges).toHaveLength(first);
      return statements - before;
    };
    await count(5);
    expect(await count(40)).toBe(await count(5));
  });

  it("counts the assessments only when totalCount is asked for", async () => {
    const counts = async (query: string) => {
      const from = queries.length;
      const r = await hub.gql(xcReader.token, query);
      expect(r.errors).toBeUndefined();
      return queries.slice(from).filter((q) => /select count\(\*\) from "assessments"/.test(q)).length;
    };
    expect(await counts("{ assessments(first: 3) { edges { node { id } } } }")).toBe(0);
    expect(await counts("{ assessments(first: 3) { totalCount edges { node { id } } } }")).toBe(1);
  });
});

describe("audit", () => {
  it("audits every assessment and opinion mutation, refused ones too", async () => {
    const a = await create(xaAnalyst.token);
    await revise(xaAnalyst.token, a.id, 1, { likelihood: "UNLIKELY" });
    await revise(xaAnalyst.token, a.id, 1, { likelihood: "LIKELY" });
    await op(hub.url, xbAnalyst.token, AddOpinionDocument, {
      assessmentId: a.id,
      input: { stance: "AGREE", marking: { tlp: "GREEN" } },
    });
    const entries = await hub.database.db
      .select()
      .from(auditLog)
      .where(inArray(auditLog.operation, ["createAssessment", "reviseAssessment", "addOpinion"]))
      .orderBy(asc(auditLog.seq));
    const about = entries.filter((e) => e.targetIds.includes(a.id));
    expect(about.map((e) => [e.operation, e.outcome])).toEqual([
      ["createAssessment", "SUCCESS"],
      ["reviseAssessment", "SUCCESS"],
      ["reviseAssessment", "CONFLICT"],
      ["addOpinion", "SUCCESS"],
    ]);
    expect(about[1]?.detail).toEqual({ changed: ["likelihood"] });
  });
});
