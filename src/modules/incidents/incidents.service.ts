import { and, asc, count, eq, gte, inArray, lt, sql, type SQL } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { badInput, forbidden, notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { Role } from "../access/access.enums";
import { resolveMarking } from "../access/marking.service";
import { followIncidentMarking } from "../assessments/assessments.service";
import { visibleTo } from "../access/tlp";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { visibleIndicatorIds } from "../indicators/indicators.service";
import { appendChanges, ChangeKind, prevMarkingOf, Stream } from "../realtime";
import {
  incidentIndicators,
  incidentRevisions,
  incidents,
  timelineEntries,
  type IncidentState,
} from "./incidents.table";
import { RevisionAction, revisionValues } from "../history";
import { TYPE, toIncident, toTimelineEntry } from "./incidents.mappers";
import type { CreateIncidentInput, IncidentFilter, TimelineEntryInput, UpdateIncidentInput } from "./incidents.input";
import type { Incident } from "./incidents.type";
import { checkRsit, rsitClassTerm, TAXONOMY } from "./taxonomy";

const COUNTRY = /^[A-Z]{2}$/;

function title(t: string): string {
  const v = t.trim();
  if (v.length < 1 || v.length > 300) throw badInput("input.title", "must be 1 to 300 characters");
  return v;
}

/** Sectors are free text, kept trimmed and lower case so that filters match whatever the case. */
function sectors(list: string[]): string[] {
  const out = new Set<string>();
  for (const s of list) {
    const v = s.trim().toLowerCase();
    if (v.length < 1 || v.length > 100) throw badInput("input.sectors", "each sector must be 1 to 100 characters");
    out.add(v);
  }
  return [...out];
}

function countries(list: string[]): string[] {
  const out = new Set<string>();
  for (const c of list) {
    const v = c.trim().toUpperCase();
    if (!COUNTRY.test(v)) throw badInput("input.countries", `not an ISO 3166-1 alpha-2 code: ${c}`);
    out.add(v);
  }
  return [...out];
}

/** occurred <= detected <= reported, where given. */
function checkTimes(t: { occurredAt: Date | null; detectedAt: Date | null; reportedAt: Date | null }) {
  if (t.occurredAt && t.detectedAt && t.detectedAt < t.occurredAt)
    throw badInput("input.detectedAt", "must not be before occurredAt");
  if (t.detectedAt && t.reportedAt && t.reportedAt < t.detectedAt)
    throw badInput("input.reportedAt", "must not be before detectedAt");
  if (t.occurredAt && t.reportedAt && t.reportedAt < t.occurredAt)
    throw badInput("input.reportedAt", "must not be before occurredAt");
}

/** Analysts create incidents for their own organisation; the marking is set in the same insert. */
export async function createIncident(tx: Tx, viewer: ViewerIdentity, input: CreateIncidentInput): Promise<Incident> {
  assertRole(viewer, Role.ANALYST);
  checkRsit(input.rsitClass, input.rsitType);
  const times = {
    occurredAt: input.occurredAt ?? null,
    detectedAt: input.detectedAt ?? null,
    reportedAt: input.reportedAt ?? null,
  };
  checkTimes(times);
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  const now = new Date();
  const [row] = await tx
    .insert(incidents)
    .values({
      ownerOrgId: viewer.organizationId,
      tlp: m.tlp,
      audienceOrgs: m.audienceOrgs,
      audienceGroups: m.audienceGroups,
      title: title(input.title),
      description: input.description,
      rsitClass: input.rsitClass,
      rsitType: input.rsitType,
      severity: input.severity,
      status: input.status,
      sectors: sectors(input.sectors),
      countries: countries(input.countries),
      ...times,
      createdBy: viewer.accountId,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await recordRevision(tx, viewer, row, RevisionAction.CREATE, "Created");
  await appendChanges(tx, Stream.INCIDENT, [
    { record: "incident", id: row.id, subject: row.id, kind: ChangeKind.CREATED },
  ]);
  return toIncident(row);
}

/** The state an incident row holds (what its latest revision records). */
function stateOf(r: typeof incidents.$inferSelect): IncidentState {
  return {
    title: r.title,
    description: r.description,
    rsitClass: r.rsitClass,
    rsitType: r.rsitType,
    severity: r.severity,
    status: r.status,
    sectors: r.sectors,
    countries: r.countries,
    occurredAt: r.occurredAt?.toISOString() ?? null,
    detectedAt: r.detectedAt?.toISOString() ?? null,
    reportedAt: r.reportedAt?.toISOString() ?? null,
    marking: { tlp: r.tlp, audienceOrgIds: r.audienceOrgs, audienceGroupIds: r.audienceGroups },
  };
}

/** Appends an incident's immutable revision: its whole state now, under its marking now. */
async function recordRevision(
  tx: Tx,
  viewer: ViewerIdentity,
  row: typeof incidents.$inferSelect,
  action: RevisionAction,
  reason: string,
) {
  await tx.insert(incidentRevisions).values({
    incidentId: row.id,
    ...revisionValues(viewer, row.ownerOrgId, row.revision, action, reason, stateOf(row), row.updatedAt),
  });
}

/**
 * The incident behind an id, locked, for a change by its owner's analysts. NOT_FOUND for an
 * incident the viewer may not see (as for a missing one); FORBIDDEN only for one it may see but
 * does not own, which reveals nothing it could not read already.
 */
async function ownIncident(tx: Tx, viewer: ViewerIdentity, globalId: string, field = "id") {
  const id = idOf(TYPE.Incident, globalId);
  const row = id
    ? (
        await tx
          .select()
          .from(incidents)
          .where(and(eq(incidents.id, id), visibleTo(viewer, incidents)))
          .for("update")
      )[0]
    : undefined;
  if (!row) throw field === "id" ? notFound("Incident") : badInput(field, "unknown incident");
  if (row.ownerOrgId !== viewer.organizationId)
    throw forbidden("Only analysts of the incident's owner organisation may change it");
  assertRole(viewer, Role.ANALYST);
  return row;
}

export async function updateIncident(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  input: UpdateIncidentInput,
  reasonText = "Updated",
): Promise<Incident> {
  const current = await ownIncident(tx, viewer, globalId);
  const reason = reasonText.trim();
  if (reason.length < 1 || reason.length > 2000) throw badInput("reason", "must be 1 to 2000 characters");
  if ((input.rsitClass == null) !== (input.rsitType == null))
    throw badInput(
      input.rsitClass == null ? "input.rsitClass" : "input.rsitType",
      "give rsitClass and rsitType together",
    );
  if (input.rsitClass != null && input.rsitType != null) checkRsit(input.rsitClass, input.rsitType);
  // An explicit null clears a time; an absent field leaves it.
  const times = {
    occurredAt: input.occurredAt === undefined ? current.occurredAt : input.occurredAt,
    detectedAt: input.detectedAt === undefined ? current.detectedAt : input.detectedAt,
    reportedAt: input.reportedAt === undefined ? current.reportedAt : input.reportedAt,
  };
  checkTimes(times);
  const m = input.marking ? await resolveMarking(tx, viewer, input.marking, "input.marking") : null;
  const [row] = await tx
    .update(incidents)
    .set({
      ...(input.title != null ? { title: title(input.title) } : {}),
      ...(input.description != null ? { description: input.description } : {}),
      ...(input.rsitClass != null && input.rsitType != null
        ? { rsitClass: input.rsitClass, rsitType: input.rsitType }
        : {}),
      ...(input.severity != null ? { severity: input.severity } : {}),
      ...(input.status != null ? { status: input.status } : {}),
      ...(input.sectors != null ? { sectors: sectors(input.sectors) } : {}),
      ...(input.countries != null ? { countries: countries(input.countries) } : {}),
      ...times,
      ...(m ? { tlp: m.tlp, audienceOrgs: m.audienceOrgs, audienceGroups: m.audienceGroups } : {}),
      revision: current.revision + 1,
      updatedAt: new Date(),
    })
    .where(eq(incidents.id, current.id))
    .returning();
  if (!row) throw new Error("update returned no row");
  await recordRevision(tx, viewer, row, RevisionAction.REVISE, reason);
  await appendChanges(tx, Stream.INCIDENT, [
    { record: "incident", id: row.id, subject: row.id, kind: ChangeKind.UPDATED, prev: prevMarkingOf(current) },
  ]);
  // Who may see an assessment about the incident depends on the incident's marking too.
  if (m) await followIncidentMarking(tx, row.id, prevMarkingOf(current));
  return toIncident(row);
}

/**
 * Adds a dated entry to an incident's timeline: by analysts of the incident's owner, who own the
 * entry too. Its own marking decides who sees it, among those who may see the incident.
 */
export async function addTimelineEntry(
  tx: Tx,
  viewer: ViewerIdentity,
  incidentGlobalId: string,
  input: TimelineEntryInput,
) {
  const incident = await ownIncident(tx, viewer, incidentGlobalId, "incidentId");
  const summary = input.summary.trim();
  if (summary.length < 1 || summary.length > 10_000) throw badInput("input.summary", "must be 1 to 10000 characters");
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  const [row] = await tx
    .insert(timelineEntries)
    .values({
      incidentId: incident.id,
      ownerOrgId: viewer.organizationId,
      tlp: m.tlp,
      audienceOrgs: m.audienceOrgs,
      audienceGroups: m.audienceGroups,
      eventAt: input.eventAt,
      summary,
      createdBy: viewer.accountId,
      createdAt: new Date(),
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  await tx.update(incidents).set({ updatedAt: new Date() }).where(eq(incidents.id, incident.id));
  await appendChanges(tx, Stream.INCIDENT, [
    { record: "timeline", id: row.id, subject: incident.id, kind: ChangeKind.CREATED },
  ]);
  return toTimelineEntry(row);
}

/**
 * The owner's analysts link indicators to an incident (or unlink them): indicators they may see,
 * at most 1,000 a call, one statement each way. Linking one already linked, or unlinking one that
 * is not, changes nothing. Who sees a link: whoever may see both the incident and the indicator.
 */
export async function setIncidentIndicators(
  tx: Tx,
  viewer: ViewerIdentity,
  incidentGlobalId: string,
  indicatorGlobalIds: readonly string[],
  link: boolean,
) {
  const incident = await ownIncident(tx, viewer, incidentGlobalId, "incidentId");
  if (indicatorGlobalIds.length > 1000) throw badInput("indicatorIds", "at most 1000 indicators a call");
  const ids = await visibleIndicatorIds(tx, viewer, indicatorGlobalIds, "indicatorIds");
  let changed: number[] = [];
  if (ids.length && link)
    changed = (
      await tx
        .insert(incidentIndicators)
        .values(
          ids.map((observableId) => ({
            incidentId: incident.id,
            observableId,
            addedBy: viewer.accountId,
            addedAt: new Date(),
          })),
        )
        .onConflictDoNothing()
        .returning({ id: incidentIndicators.observableId })
    ).map((r) => r.id);
  else if (ids.length)
    changed = (
      await tx
        .delete(incidentIndicators)
        .where(and(eq(incidentIndicators.incidentId, incident.id), inArray(incidentIndicators.observableId, ids)))
        .returning({ id: incidentIndicators.observableId })
    ).map((r) => r.id);
  if (changed.length) {
    await tx.update(incidents).set({ updatedAt: new Date() }).where(eq(incidents.id, incident.id));
    await appendChanges(
      tx,
      Stream.INCIDENT,
      changed.map((id) => ({
        record: "link",
        id,
        subject: incident.id,
        kind: link ? ChangeKind.CREATED : ChangeKind.REVOKED,
      })),
    );
  }
  const [row] = await tx.select().from(incidents).where(eq(incidents.id, incident.id));
  if (!row) throw new Error("incident vanished");
  return toIncident(row);
}

function filterSql(viewer: ViewerIdentity, f: IncidentFilter | null | undefined): SQL | undefined {
  const where: (SQL | undefined)[] = [visibleTo(viewer, incidents)];
  if (f?.rsitClasses?.length) {
    const bad = f.rsitClasses.find((c) => !rsitClassTerm(c));
    if (bad)
      throw badInput(
        "filter.rsitClasses",
        `unknown RSIT class ${JSON.stringify(bad)}; valid classes: ${TAXONOMY.classes.map((c) => c.value).join(", ")}`,
      );
    where.push(inArray(incidents.rsitClass, f.rsitClasses));
  }
  if (f?.severities?.length) where.push(inArray(incidents.severity, f.severities));
  if (f?.statuses?.length) where.push(inArray(incidents.status, f.statuses));
  if (f?.sector != null) where.push(sql`${f.sector.trim().toLowerCase()} = any(${incidents.sectors})`);
  if (f?.country != null) where.push(sql`${f.country.trim().toUpperCase()} = any(${incidents.countries})`);
  if (f?.ownerIds?.length) {
    const ids = f.ownerIds.map((g) => {
      const id = idOf("Organization", g);
      if (!id) throw badInput("filter.ownerIds", `unknown organisation ${g}`);
      return id;
    });
    where.push(inArray(incidents.ownerOrgId, ids));
  }
  if (f?.occurredFrom) where.push(gte(incidents.occurredAt, f.occurredFrom));
  if (f?.occurredTo) where.push(lt(incidents.occurredAt, f.occurredTo));
  return and(...where);
}

/** Incidents the viewer may see, oldest first; counts and filters see nothing else. */
export function listIncidents(
  db: Db,
  viewer: ViewerIdentity,
  filter: IncidentFilter | null | undefined,
  args: PageArgs,
  maxPageSize: number,
) {
  const where = filterSql(viewer, filter);
  return paginate({
    args,
    maxPageSize,
    orderBy: [incidents.createdAt, incidents.id],
    keyOf: (i: Incident) => [i.createdAt.toISOString(), i.dbId],
    fetch: async (after, limit) =>
      (
        await db
          .select()
          .from(incidents)
          .where(and(where, after))
          .orderBy(asc(incidents.createdAt), asc(incidents.id))
          .limit(limit)
      ).map(toIncident),
    count: async () => (await db.select({ n: count() }).from(incidents).where(where))[0]?.n ?? 0,
  });
}
