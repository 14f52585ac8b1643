import { randomUUID } from "node:crypto";
import { and, asc, count, eq, inArray, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db, Tx } from "../../db/client";
import { badInput, conflict, forbidden, notFound } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { perViewer } from "../../shared/prepared";
import { Role } from "../access/access.enums";
import { organizations } from "../access/access.table";
import { resolveMarking, type ResolvedMarking } from "../access/marking.service";
import { visibleTo } from "../access/tlp";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { incidents, threatActors } from "../incidents/incidents.table";
import { visibleIndicatorIds } from "../indicators/indicators.service";
import { assessmentVisibleTo, opinionVisibleTo } from "./assessments.access";
import { AssessmentStatus, LIKELIHOODS, RevisionAction, SubjectKind, type Likelihood } from "./assessments.enums";
import type {
  AssessmentChangesInput,
  AssessmentFilter,
  CreateAssessmentInput,
  CreateOpinionInput,
  EvidenceInput,
  OpinionChangesInput,
} from "./assessments.input";
import {
  appendChanges,
  appendChangesFrom,
  ChangeKind,
  prevMarkingJson,
  prevMarkingOf,
  Stream,
  type PrevMarking,
} from "../realtime";
import { assessmentRevisions, assessments, opinionRevisions, opinions } from "./assessments.table";
import { diff, markingCols, revisionValues } from "../history";
import {
  SCALES,
  stateOfOpinion,
  stateOfRow,
  stateResponsibilityValue,
  type AssessmentRow,
  type AssessmentState,
  type OpinionRow,
  type OpinionState,
  type StoredMarking,
} from "./state";

export { stateOfOpinion, stateOfRow };

export const TYPE = { Assessment: "Assessment", Opinion: "Opinion" } as const;

export type { AssessmentRow, OpinionRow };

const COUNTRY = /^[A-Z]{2}$/;
const STIX_CAMPAIGN_ID = /^campaign--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const NOW = sql`clock_timestamp()`;

const stored = (m: ResolvedMarking): StoredMarking => ({
  tlp: m.tlp,
  audienceOrgIds: m.audienceOrgs,
  audienceGroupIds: m.audienceGroups,
});
function text(value: string, field: string, max: number, min = 1): string {
  const v = value.trim();
  if (v.length < min || v.length > max) throw badInput(field, `must be ${min} to ${max} characters`);
  return v;
}

/** The columns of `assessments` that mirror a state. */
const assessmentColumns = (s: AssessmentState) => ({
  ...markingCols(s.marking),
  actorId: s.actorId,
  claimedState: s.claimedState,
  stateResponsibility: s.stateResponsibility,
  likelihood: s.likelihood,
  analyticConfidence: s.analyticConfidence,
  rationale: s.rationale,
  evidenceIncidents: s.evidenceIncidentIds,
  evidenceIndicators: s.evidenceIndicatorIds,
  evidenceReferences: s.evidenceReferences,
  status: s.status,
  nextReviewAt: s.nextReviewAt ? new Date(s.nextReviewAt) : null,
});

/** An actor the viewer may see, or BAD_USER_INPUT naming the field (the same for a missing one). */
async function visibleActor(tx: Tx, viewer: ViewerIdentity, globalId: string, field: string) {
  const id = idOf("ThreatActor", globalId);
  const [row] = id
    ? await tx
        .select()
        .from(threatActors)
        .where(and(eq(threatActors.id, id), visibleTo(viewer, threatActors)))
    : [];
  if (!row) throw badInput(field, `unknown threat actor ${globalId}`);
  return row;
}

async function visibleIncidentIds(tx: Tx, viewer: ViewerIdentity, globalIds: readonly string[], field: string) {
  const ids = [...new Set(globalIds)].map((g) => {
    const id = idOf("Incident", g);
    if (!id) throw badInput(field, `unknown incident ${g}`);
    return id;
  });
  if (!ids.length) return [];
  const found = new Set(
    (
      await tx
        .select({ id: incidents.id })
        .from(incidents)
        .where(and(inArray(incidents.id, ids), visibleTo(viewer, incidents)))
    ).map((r) => r.id),
  );
  const missing = ids.find((id) => !found.has(id));
  if (missing) throw badInput(field, `unknown incident ${toGlobalId("Incident", missing)}`);
  return ids;
}

async function evidence(tx: Tx, viewer: ViewerIdentity, e: EvidenceInput | null | undefined, field: string) {
  const references = [...new Set((e?.references ?? []).map((r) => text(r, `${field}.references`, 2000)))];
  if (references.length > 100) throw badInput(`${field}.references`, "at most 100 references");
  if ((e?.incidentIds.length ?? 0) > 100) throw badInput(`${field}.incidentIds`, "at most 100 incidents");
  if ((e?.indicatorIds.length ?? 0) > 1000) throw badInput(`${field}.indicatorIds`, "at most 1000 indicators");
  return {
    evidenceIncidentIds: await visibleIncidentIds(tx, viewer, e?.incidentIds ?? [], `${field}.incidentIds`),
    evidenceIndicatorIds: await visibleIndicatorIds(tx, viewer, e?.indicatorIds ?? [], `${field}.indicatorIds`),
    evidenceReferences: references,
  };
}

function claimedStateOf(v: string | null | undefined, field: string): string | null {
  if (v == null) return null;
  const c = v.trim().toUpperCase();
  if (!COUNTRY.test(c)) throw badInput(field, `not an ISO 3166-1 alpha-2 code: ${v}`);
  return c;
}

function responsibilityOf(v: string | null | undefined, field: string): string | null {
  if (v == null) return null;
  const r = stateResponsibilityValue(v);
  if (!r)
    throw badInput(
      field,
      `unknown state-responsibility level ${JSON.stringify(v)}; valid levels: ${SCALES.stateResponsibility.map((l) => l.value).join(", ")}`,
    );
  return r;
}

/** The rules a state must keep whatever produced it. */
function checkState(s: AssessmentState, field: string): void {
  if (s.stateResponsibility && !s.claimedState)
    throw badInput(`${field}.stateResponsibility`, "a state-responsibility level needs a claimedState");
  if (s.status === AssessmentStatus.PROVISIONAL && !s.nextReviewAt)
    throw badInput(`${field}.nextReviewAt`, "a provisional assessment needs a next-review date");
}

export interface ImportOptions {
  /** The `relationship--<uuid>` the assessment came from, kept as its STIX id. */
  stixId?: string;
}

/**
 * Analysts record an assessment for their organisation: revision 1, with its marking, in the
 * same transaction. Everything it names (subject, actor, evidence) must be visible to its author.
 */
export async function createAssessment(
  tx: Tx,
  viewer: ViewerIdentity,
  input: CreateAssessmentInput,
  opts: ImportOptions = {},
): Promise<AssessmentRow> {
  assertRole(viewer, Role.ANALYST);
  const s = input.subject;
  const given = [s.incidentId, s.campaignName, s.intrusionSetId].filter((v) => v != null).length;
  if (given !== 1) throw badInput("input.subject", "give exactly one of incidentId, campaignName and intrusionSetId");
  let subject: Pick<
    AssessmentRow,
    "subjectKind" | "subjectIncidentId" | "subjectActorId" | "subjectName" | "subjectStixId"
  >;
  if (s.incidentId != null) {
    const [id = null] = await visibleIncidentIds(tx, viewer, [s.incidentId], "input.subject.incidentId");
    subject = {
      subjectKind: SubjectKind.INCIDENT,
      subjectIncidentId: id,
      subjectActorId: null,
      subjectName: null,
      subjectStixId: null,
    };
  } else if (s.campaignName != null) {
    if (s.campaignStixId != null && !STIX_CAMPAIGN_ID.test(s.campaignStixId))
      throw badInput("input.subject.campaignStixId", "must be campaign--<uuid>");
    subject = {
      subjectKind: SubjectKind.CAMPAIGN,
      subjectIncidentId: null,
      subjectActorId: null,
      subjectName: text(s.campaignName, "input.subject.campaignName", 300),
      subjectStixId: s.campaignStixId ?? null,
    };
  } else {
    const set = await visibleActor(tx, viewer, s.intrusionSetId ?? "", "input.subject.intrusionSetId");
    if (set.kind !== "INTRUSION_SET") throw badInput("input.subject.intrusionSetId", "is not an intrusion set");
    subject = {
      subjectKind: SubjectKind.INTRUSION_SET,
      subjectIncidentId: null,
      subjectActorId: set.id,
      subjectName: null,
      subjectStixId: null,
    };
  }
  const actor = await visibleActor(tx, viewer, input.actorId, "input.actorId");
  if (actor.id === subject.subjectActorId)
    throw badInput("input.actorId", "an intrusion set is not attributed to itself");
  if (input.status === AssessmentStatus.WITHDRAWN)
    throw badInput("input.status", "an assessment starts PROVISIONAL or CONFIRMED");
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  const state: AssessmentState = {
    actorId: actor.id,
    claimedState: claimedStateOf(input.claimedState, "input.claimedState"),
    stateResponsibility: responsibilityOf(input.stateResponsibility, "input.stateResponsibility"),
    likelihood: input.likelihood,
    analyticConfidence: input.analyticConfidence,
    rationale: text(input.rationale, "input.rationale", 20_000),
    ...(await evidence(tx, viewer, input.evidence, "input.evidence")),
    status: input.status,
    nextReviewAt: input.status === AssessmentStatus.PROVISIONAL ? (input.nextReviewAt?.toISOString() ?? null) : null,
    marking: stored(m),
  };
  checkState(state, "input");
  const reason = text(input.reason, "input.reason", 2000);
  const [row] = await tx
    .insert(assessments)
    .values({
      ownerOrgId: viewer.organizationId,
      ...subject,
      ...assessmentColumns(state),
      revision: 1,
      stixId: opts.stixId ?? `relationship--${randomUUID()}`,
      createdBy: viewer.accountId,
      createdAt: NOW,
      updatedAt: NOW,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await tx.insert(assessmentRevisions).values({
    assessmentId: row.id,
    ...revisionValues(viewer, row.ownerOrgId, 1, RevisionAction.CREATE, reason, state, row.createdAt),
  });
  await appendChanges(tx, Stream.ASSESSMENT, [
    { record: "assessment", id: row.id, subject: row.id, kind: ChangeKind.CREATED },
  ]);
  return row;
}

/**
 * The assessment behind an id, locked, for a change by its owner's analysts. NOT_FOUND when the
 * viewer may not see it (as for a missing one); FORBIDDEN for one it sees but does not own;
 * CONFLICT, with the current revision number, when `expectedRevision` is stale.
 */
async function ownAssessment(tx: Tx, viewer: ViewerIdentity, globalId: string, expectedRevision: number) {
  const id = idOf(TYPE.Assessment, globalId);
  const [row] = id
    ? await tx
        .select()
        .from(assessments)
        .where(and(eq(assessments.id, id), assessmentVisibleTo(viewer)))
        .for("update", { of: assessments })
    : [];
  if (!row) throw notFound("Assessment");
  if (row.ownerOrgId !== viewer.organizationId)
    throw forbidden("Only analysts of the assessment's owner organisation may change it; others add an opinion");
  assertRole(viewer, Role.ANALYST);
  if (row.revision !== expectedRevision)
    throw conflict(
      `The assessment is at revision ${row.revision}, not ${expectedRevision}: read it again and reapply your change`,
      { currentRevision: row.revision },
    );
  return row;
}

/** Appends a revision: the new state on the assessment row and, immutable, in the history. */
async function appendRevision(
  tx: Tx,
  viewer: ViewerIdentity,
  current: AssessmentRow,
  next: AssessmentState,
  action: RevisionAction,
  reasonText: string,
): Promise<AssessmentRow> {
  const reason = text(reasonText, "reason", 2000);
  if (!diff(stateOfRow(current), next).length) throw badInput("changes", "nothing would change");
  checkState(next, "changes");
  const [row] = await tx
    .update(assessments)
    .set({ ...assessmentColumns(next), revision: current.revision + 1, updatedAt: NOW })
    .where(eq(assessments.id, current.id))
    .returning();
  if (!row) throw new Error("update returned no row");
  await tx.insert(assessmentRevisions).values({
    assessmentId: row.id,
    ...revisionValues(viewer, row.ownerOrgId, row.revision, action, reason, next, row.updatedAt),
  });
  await appendChanges(tx, Stream.ASSESSMENT, [
    { record: "assessment", id: row.id, subject: row.id, kind: ChangeKind.UPDATED, prev: prevMarkingOf(current) },
  ]);
  return row;
}

/**
 * In the transaction that changes an incident's marking: a change of each assessment about the
 * incident, whose `prev` also holds the markings the assessment's visibility needed before (the
 * incident's as it was, its actor's), so that a subscriber who gains or loses an assessment through
 * its incident is told (CREATED, REMOVED) as for a change of the assessment's own marking. Actors'
 * markings never change (there is no update of an actor), so only incidents need this.
 */
export async function followIncidentMarking(tx: Tx, incidentId: string, before: PrevMarking): Promise<void> {
  await appendChangesFrom(
    tx,
    Stream.ASSESSMENT,
    sql`select 'assessment' as record, a.id, a.id as subject, ${ChangeKind.UPDATED}::text as kind,
          ${prevMarkingJson("a", sql`true`)}
            || jsonb_build_object('deps', jsonb_build_array(${JSON.stringify({ ...before, live: true })}::jsonb,
                 ${prevMarkingJson("act", sql`true`)})) as prev
        from ${assessments} a join ${threatActors} act on act.id = a.actor_id
        where a.subject_incident_id = ${incidentId}
        order by a.created_at, a.id`,
  );
}

export async function reviseAssessment(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  expectedRevision: number,
  c: AssessmentChangesInput,
  reason: string,
): Promise<AssessmentRow> {
  const row = await ownAssessment(tx, viewer, globalId, expectedRevision);
  const cur = stateOfRow(row);
  if (c.likelihood === null || c.analyticConfidence === null || c.rationale === null || c.actorId === null)
    throw badInput("changes", "actorId, likelihood, analyticConfidence and rationale cannot be cleared");
  const actorId = c.actorId != null ? (await visibleActor(tx, viewer, c.actorId, "changes.actorId")).id : cur.actorId;
  if (actorId === row.subjectActorId) throw badInput("changes.actorId", "an intrusion set is not attributed to itself");
  const next: AssessmentState = {
    ...cur,
    actorId,
    ...(c.claimedState !== undefined ? { claimedState: claimedStateOf(c.claimedState, "changes.claimedState") } : {}),
    ...(c.stateResponsibility !== undefined
      ? { stateResponsibility: responsibilityOf(c.stateResponsibility, "changes.stateResponsibility") }
      : {}),
    ...(c.likelihood != null ? { likelihood: c.likelihood } : {}),
    ...(c.analyticConfidence != null ? { analyticConfidence: c.analyticConfidence } : {}),
    ...(c.rationale != null ? { rationale: text(c.rationale, "changes.rationale", 20_000) } : {}),
    ...(c.evidence != null ? await evidence(tx, viewer, c.evidence, "changes.evidence") : {}),
    ...(c.nextReviewAt !== undefined ? { nextReviewAt: c.nextReviewAt?.toISOString() ?? null } : {}),
    ...(c.marking ? { marking: stored(await resolveMarking(tx, viewer, c.marking, "changes.marking")) } : {}),
  };
  if (next.status !== AssessmentStatus.PROVISIONAL && c.nextReviewAt != null)
    throw badInput("changes.nextReviewAt", `a ${next.status.toLowerCase()} assessment has no review date`);
  return appendRevision(tx, viewer, row, next, RevisionAction.REVISE, reason);
}

export async function confirmAssessment(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  expectedRevision: number,
  reason: string,
): Promise<AssessmentRow> {
  const row = await ownAssessment(tx, viewer, globalId, expectedRevision);
  if (row.status !== AssessmentStatus.PROVISIONAL)
    throw badInput("id", `only a provisional assessment can be confirmed; this one is ${row.status}`);
  const next = { ...stateOfRow(row), status: AssessmentStatus.CONFIRMED, nextReviewAt: null };
  return appendRevision(tx, viewer, row, next, RevisionAction.CONFIRM, reason);
}

export async function withdrawAssessment(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  expectedRevision: number,
  reason: string,
): Promise<AssessmentRow> {
  const row = await ownAssessment(tx, viewer, globalId, expectedRevision);
  if (row.status === AssessmentStatus.WITHDRAWN) throw badInput("id", "the assessment is already withdrawn");
  const next = { ...stateOfRow(row), status: AssessmentStatus.WITHDRAWN, nextReviewAt: null };
  return appendRevision(tx, viewer, row, next, RevisionAction.WITHDRAW, reason);
}

function opinionConfidence(v: number | null | undefined, field: string): number | null {
  if (v == null) return null;
  if (!Number.isInteger(v) || v < 0 || v > 100) throw badInput(field, "must be an integer from 0 to 100");
  return v;
}

/**
 * Another organisation's analysts give their opinion of an assessment they may see: one opinion
 * per organisation (revised, not repeated); the owner revises its assessment instead.
 */
export async function addOpinion(
  tx: Tx,
  viewer: ViewerIdentity,
  assessmentGlobalId: string,
  input: CreateOpinionInput,
): Promise<OpinionRow> {
  const id = idOf(TYPE.Assessment, assessmentGlobalId);
  const [a] = id
    ? await tx
        .select({ id: assessments.id, ownerOrgId: assessments.ownerOrgId })
        .from(assessments)
        .where(and(eq(assessments.id, id), assessmentVisibleTo(viewer)))
    : [];
  if (!a) throw notFound("Assessment");
  if (a.ownerOrgId === viewer.organizationId)
    throw forbidden("The assessment's owner revises the assessment itself; opinions are for other organisations");
  assertRole(viewer, Role.ANALYST);
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  const state: OpinionState = {
    stance: input.stance,
    confidence: opinionConfidence(input.confidence, "input.confidence"),
    comment: text(input.comment, "input.comment", 10_000, 0),
    marking: stored(m),
  };
  const reason = text(input.reason, "input.reason", 2000);
  // One opinion per organisation and assessment: concurrent first opinions wait for each other.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`opinion:${a.id}:${viewer.organizationId}`}))`);
  const [mine] = await tx
    .select({ id: opinions.id })
    .from(opinions)
    .where(and(eq(opinions.assessmentId, a.id), eq(opinions.ownerOrgId, viewer.organizationId)));
  if (mine) {
    const existingId = toGlobalId(TYPE.Opinion, mine.id);
    throw conflict(`Your organisation already has an opinion of this assessment (${existingId}): revise it`, {
      existingId,
    });
  }
  const [row] = await tx
    .insert(opinions)
    .values({
      assessmentId: a.id,
      ownerOrgId: viewer.organizationId,
      ...markingCols(state.marking),
      stance: state.stance,
      confidence: state.confidence,
      comment: state.comment,
      revision: 1,
      stixId: `opinion--${randomUUID()}`,
      createdBy: viewer.accountId,
      createdAt: NOW,
      updatedAt: NOW,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await tx.insert(opinionRevisions).values({
    opinionId: row.id,
    ...revisionValues(viewer, row.ownerOrgId, 1, RevisionAction.CREATE, reason, state, row.createdAt),
  });
  await appendChanges(tx, Stream.ASSESSMENT, [
    { record: "opinion", id: row.id, subject: a.id, kind: ChangeKind.CREATED },
  ]);
  return row;
}

export async function reviseOpinion(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  expectedRevision: number,
  c: OpinionChangesInput,
  reasonText: string,
): Promise<OpinionRow> {
  const id = idOf(TYPE.Opinion, globalId);
  const [row] = id
    ? await tx
        .select()
        .from(opinions)
        .where(and(eq(opinions.id, id), opinionVisibleTo(viewer)))
        .for("update", { of: opinions })
    : [];
  if (!row) throw notFound("Opinion");
  if (row.ownerOrgId !== viewer.organizationId)
    throw forbidden("Only analysts of the opinion's owner organisation may change it");
  assertRole(viewer, Role.ANALYST);
  if (row.revision !== expectedRevision)
    throw conflict(`The opinion is at revision ${row.revision}, not ${expectedRevision}`, {
      currentRevision: row.revision,
    });
  if (c.stance === null) throw badInput("changes.stance", "cannot be cleared");
  const cur = stateOfOpinion(row);
  const next: OpinionState = {
    ...cur,
    ...(c.stance != null ? { stance: c.stance } : {}),
    ...(c.confidence !== undefined ? { confidence: opinionConfidence(c.confidence, "changes.confidence") } : {}),
    ...(c.comment != null ? { comment: text(c.comment, "changes.comment", 10_000, 0) } : {}),
    ...(c.marking ? { marking: stored(await resolveMarking(tx, viewer, c.marking, "changes.marking")) } : {}),
  };
  const reason = text(reasonText, "reason", 2000);
  if (!diff(cur, next).length) throw badInput("changes", "nothing would change");
  const [updated] = await tx
    .update(opinions)
    .set({
      ...markingCols(next.marking),
      stance: next.stance,
      confidence: next.confidence,
      comment: next.comment,
      revision: row.revision + 1,
      updatedAt: NOW,
    })
    .where(eq(opinions.id, row.id))
    .returning();
  if (!updated) throw new Error("update returned no row");
  await tx.insert(opinionRevisions).values({
    opinionId: row.id,
    ...revisionValues(viewer, row.ownerOrgId, updated.revision, RevisionAction.REVISE, reason, next, updated.updatedAt),
  });
  await appendChanges(tx, Stream.ASSESSMENT, [
    { record: "opinion", id: row.id, subject: row.assessmentId, kind: ChangeKind.UPDATED, prev: prevMarkingOf(row) },
  ]);
  return updated;
}

const atLeast = (l: Likelihood) => LIKELIHOODS.slice(LIKELIHOODS.indexOf(l));

function filterSql(viewer: ViewerIdentity, f: AssessmentFilter | null | undefined): SQL | undefined {
  const where: (SQL | undefined)[] = [assessmentVisibleTo(viewer)];
  const uuid = (type: string, g: string, field: string) => {
    const id = idOf(type, g);
    if (!id) throw badInput(field, `unknown ${type === "ThreatActor" ? "threat actor" : type.toLowerCase()} ${g}`);
    return id;
  };
  // An actor or incident the viewer may not see filters to nothing: `assessmentVisibleTo` already
  // requires both to be visible, so the filter cannot reveal them.
  if (f?.actorId != null) where.push(eq(assessments.actorId, uuid("ThreatActor", f.actorId, "filter.actorId")));
  if (f?.incidentId != null)
    where.push(eq(assessments.subjectIncidentId, uuid("Incident", f.incidentId, "filter.incidentId")));
  if (f?.subjectKind != null) where.push(eq(assessments.subjectKind, f.subjectKind));
  if (f?.campaignName != null)
    where.push(sql`lower(${assessments.subjectName}) = ${f.campaignName.trim().toLowerCase()}`);
  if (f?.statuses?.length) where.push(inArray(assessments.status, f.statuses));
  if (f?.claimedState != null) where.push(eq(assessments.claimedState, f.claimedState.trim().toUpperCase()));
  if (f?.minLikelihood != null) where.push(inArray(assessments.likelihood, atLeast(f.minLikelihood)));
  if (f?.overdue != null) {
    const overdue = sql`(${assessments.status} = 'PROVISIONAL' and ${assessments.nextReviewAt} < now())`;
    where.push(f.overdue ? overdue : sql`not ${overdue}`);
  }
  if (f?.ownerIds?.length)
    where.push(
      inArray(
        assessments.ownerOrgId,
        f.ownerIds.map((g) => uuid("Organization", g, "filter.ownerIds")),
      ),
    );
  return and(...where);
}

const listActor = alias(threatActors, "listed_actor");

/**
 * Assessments the viewer may see, oldest first; counts and filters see nothing else. Each comes
 * with its actor and owner organisation (a visible assessment's actor is visible: the access rule
 * requires it), which a page nearly always shows, so the loaders can start with them.
 */
export function listAssessments(
  db: Db,
  viewer: ViewerIdentity,
  filter: AssessmentFilter | null | undefined,
  args: PageArgs,
  maxPageSize: number,
) {
  const where = filterSql(viewer, filter);
  return paginate({
    args,
    maxPageSize,
    orderBy: [assessments.createdAt, assessments.id],
    keyOf: (r: { assessment: AssessmentRow }) => [r.assessment.createdAt.toISOString(), r.assessment.id],
    fetch: (after, limit) =>
      db
        .select({ assessment: assessments, actor: listActor, owner: organizations })
        .from(assessments)
        .innerJoin(listActor, eq(listActor.id, assessments.actorId))
        .innerJoin(organizations, eq(organizations.id, assessments.ownerOrgId))
        .where(and(where, after))
        .orderBy(asc(assessments.createdAt), asc(assessments.id))
        .limit(limit),
    count: async () => (await db.select({ n: count() }).from(assessments).where(where))[0]?.n ?? 0,
  });
}

/**
 * The revision in force at `asOf`, and the assessment row, when the viewer may see both the
 * assessment as it is now and that revision; null otherwise (before the first revision, or under a
 * marking the viewer was not given), so an as-of read shows nothing a current read would not.
 * The same statement brings what an as-of read is usually asked for besides: the actor the
 * revision names (null when the viewer may not see it), the owner organisation, and the viewer's
 * history up to that revision (how many revisions it may see, the first one's time), so that one
 * statement answers a whole as-of read.
 */
export async function assessmentAsOf(db: Db, viewer: ViewerIdentity, globalId: string, asOf: Date) {
  const id = idOf(TYPE.Assessment, globalId);
  if (!id) return null;
  const [hit] = await asOfStatements.assessment(db, viewer).execute({ id, asOf: asOf.toISOString() });
  return hit ?? null;
}

const asOfActor = alias(threatActors, "as_of_actor");
const seen = alias(assessmentRevisions, "seen_revision");

/** The as-of reads, prepared once per viewer (see `perViewer`); the id and the time are parameters. */
const asOfStatements = {
  assessment: perViewer((db: Db, viewer: ViewerIdentity) => {
    // The viewer's history up to the revision in force: its length and first time, in one pass.
    const history = db
      .select({
        count: sql<number>`count(*)::int`.mapWith(Number).as("visible_revisions"),
        firstAt: sql<Date>`min(${seen.recordedAt})`.mapWith(assessmentRevisions.recordedAt).as("first_visible_at"),
      })
      .from(seen)
      .where(
        and(
          eq(seen.assessmentId, assessments.id),
          sql`${seen.number} <= ${assessmentRevisions.number}`,
          visibleTo(viewer, seen),
        ),
      )
      .as("seen_history");
    return db
      .select({
        // Only what an as-of answer reads: the columns that never change, and the revision's
        // state, number and time (drizzle maps each selected value, ~6 % of the read's CPU).
        assessment: {
          id: assessments.id,
          ownerOrgId: assessments.ownerOrgId,
          subjectIncidentId: assessments.subjectIncidentId,
          subjectActorId: assessments.subjectActorId,
          subjectKind: assessments.subjectKind,
          subjectName: assessments.subjectName,
          subjectStixId: assessments.subjectStixId,
          stixId: assessments.stixId,
        },
        revision: {
          number: assessmentRevisions.number,
          state: assessmentRevisions.state,
          recordedAt: assessmentRevisions.recordedAt,
        },
        actor: asOfActor,
        owner: organizations,
        visibleRevisions: history.count,
        firstVisibleAt: history.firstAt,
      })
      .from(assessments)
      .innerJoin(
        assessmentRevisions,
        sql`${assessmentRevisions.id} = (select r.id from ${assessmentRevisions} r where r.assessment_id = ${assessments.id} and r.recorded_at <= ${sql.placeholder("asOf")}::timestamptz order by r.number desc limit 1)`,
      )
      .innerJoin(organizations, eq(organizations.id, assessments.ownerOrgId))
      .leftJoin(
        asOfActor,
        and(eq(asOfActor.id, sql`(${assessmentRevisions.state} ->> 'actorId')::uuid`), visibleTo(viewer, asOfActor)),
      )
      .crossJoinLateral(history)
      .where(
        and(
          eq(assessments.id, sql.placeholder("id")),
          assessmentVisibleTo(viewer),
          visibleTo(viewer, assessmentRevisions),
        ),
      )
      .prepare("assessment_as_of");
  }),
  opinions: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select({ opinion: opinions, revision: opinionRevisions })
      .from(opinions)
      .innerJoin(
        opinionRevisions,
        sql`${opinionRevisions.id} = (select r.id from ${opinionRevisions} r where r.opinion_id = ${opinions.id} and r.recorded_at <= ${sql.placeholder("asOf")}::timestamptz order by r.number desc limit 1)`,
      )
      .where(
        and(
          eq(opinions.assessmentId, sql.placeholder("assessmentId")),
          visibleTo(viewer, opinions),
          visibleTo(viewer, opinionRevisions),
        ),
      )
      .orderBy(asc(opinions.createdAt), asc(opinions.id))
      .prepare("opinions_as_of"),
  ),
};

/**
 * The opinions of an assessment as they stood at `asOf`: each one's revision in force then, when
 * the viewer may see that revision and the opinion as it is now (as for assessments).
 */
export async function opinionsAsOf(db: Db, viewer: ViewerIdentity, assessmentDbId: string, asOf: Date) {
  return asOfStatements.opinions(db, viewer).execute({ assessmentId: assessmentDbId, asOf: asOf.toISOString() });
}
