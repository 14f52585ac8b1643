import { and, eq, sql } from "drizzle-orm";
import type { Db } from "./db/client";
import { AuthService } from "./modules/access";
import type { MarkingInput } from "./modules/access/access.input";
import type { ViewerIdentity } from "./modules/access/viewer";
import {
  addOpinion,
  confirmAssessment,
  createAssessment,
  reviseAssessment,
  reviseOpinion,
  TYPE as ASSESSMENT,
  withdrawAssessment,
} from "./modules/assessments/assessments.service";
import { createMutationRunner } from "./modules/audit";
import { createThreatActor } from "./modules/incidents/actors.service";
import { addTimelineEntry, createIncident, setIncidentIndicators } from "./modules/incidents/incidents.service";
import { incidents } from "./modules/incidents/incidents.table";
import { reports } from "./modules/indicators/indicators.table";
import { toGlobalId } from "./shared/ids";
import type { Logger } from "./shared/logger";
import { DEMO_ACTORS, DEMO_ASSESSMENTS, DEMO_INCIDENTS, type DemoMarking } from "../seeds/demo-cases";
import { demoId, demoToken } from "../seeds/demo-world";

const orgGid = (key: string) => toGlobalId("Organization", demoId(`org ${key}`));
const groupGid = (key: string) => toGlobalId("SharingGroup", demoId(`group ${key}`));
const marking = (m: DemoMarking): MarkingInput => ({
  tlp: m.tlp,
  audienceOrganizationIds: (m.orgs ?? []).map(orgGid),
  audienceGroupIds: (m.groups ?? []).map(groupGid),
});

/**
 * Loads the demo incidents, actors, assessments (with their revisions) and opinions from
 * seeds/demo-cases.ts through the hub's own services, each change made by the owning
 * organisation's analyst and audited as any mutation; after the demo feeds, so incidents can link
 * their owner's indicators. Runs once: it does nothing when the first demo incident exists.
 * Returns the number of assessments loaded.
 */
export async function seedDemoCases(db: Db, log: Logger): Promise<number> {
  const first = DEMO_INCIDENTS[0];
  if (!first) return 0;
  const [existing] = await db
    .select({ id: incidents.id })
    .from(incidents)
    .where(and(eq(incidents.ownerOrgId, demoId(`org ${first.org}`)), eq(incidents.title, first.title)))
    .limit(1);
  if (existing) return 0;
  const auth = new AuthService(db, 0);
  const analysts = new Map<string, ViewerIdentity>();
  const analyst = async (org: string) => {
    let v = analysts.get(org);
    if (!v) {
      const found = await auth.authenticate(`Bearer ${demoToken(`${org}-analyst`)}`);
      if (!found) throw new Error(`no demo analyst for ${org}`);
      analysts.set(org, (v = found));
    }
    return v;
  };
  const mutate = createMutationRunner(db, log);

  const actors = new Map<string, string>();
  for (const a of DEMO_ACTORS) {
    const v = await analyst(a.org);
    const made = await mutate(v, { operation: "createThreatActor" }, (tx) =>
      createThreatActor(tx, v, { ...a, stixId: null, marking: marking(a.marking) }),
    );
    actors.set(a.key, made.id);
  }

  const cases = new Map<string, string>();
  for (const i of DEMO_INCIDENTS) {
    const v = await analyst(i.org);
    const made = await mutate(v, { operation: "createIncident" }, (tx) =>
      createIncident(tx, v, { ...i, occurredAt: new Date(i.occurredAt), marking: marking(i.marking) }),
    );
    cases.set(i.key, made.id);
    for (const e of i.timeline)
      await mutate(v, { operation: "addTimelineEntry", targetIds: [made.id] }, (tx) =>
        addTimelineEntry(tx, v, made.id, { eventAt: new Date(e.at), summary: e.summary, marking: marking(e.marking) }),
      );
    if (i.linkIndicators) {
      const own = await db
        .selectDistinct({ id: reports.observableId })
        .from(reports)
        .where(and(eq(reports.ownerOrgId, v.organizationId), sql`${reports.revokedAt} is null`))
        .orderBy(reports.observableId)
        .limit(i.linkIndicators);
      const ids = own.map((r) => toGlobalId("Indicator", r.id));
      if (ids.length)
        await mutate(v, { operation: "linkIndicators", targetIds: [made.id, ...ids] }, (tx) =>
          setIncidentIndicators(tx, v, made.id, ids, true),
        );
    }
  }

  const day = 86_400_000;
  for (const a of DEMO_ASSESSMENTS) {
    const v = await analyst(a.org);
    const actorId = actors.get(a.actor) ?? "";
    const subject =
      "incident" in a.subject
        ? { incidentId: cases.get(a.subject.incident) ?? "" }
        : { campaignName: a.subject.campaign };
    const row = await mutate(
      v,
      { operation: "createAssessment", resultIds: (r: { id: string }) => [toGlobalId(ASSESSMENT.Assessment, r.id)] },
      (tx) =>
        createAssessment(tx, v, {
          subject,
          actorId,
          claimedState: a.claimedState ?? null,
          stateResponsibility: a.stateResponsibility ?? null,
          likelihood: a.likelihood,
          analyticConfidence: a.analyticConfidence,
          rationale: a.rationale,
          status: "PROVISIONAL",
          nextReviewAt: new Date(Date.now() + a.reviewInDays * day),
          marking: marking(a.marking),
          reason: "Initial assessment",
        }),
    );
    const id = toGlobalId(ASSESSMENT.Assessment, row.id);
    let revision = 1;
    for (const r of a.revisions) {
      const spec = { operation: `${r.action}Assessment`, targetIds: [id], resultIds: () => [] };
      const expected = revision;
      if (r.action === "revise") {
        const changes = {
          ...(r.likelihood ? { likelihood: r.likelihood } : {}),
          ...(r.rationale ? { rationale: r.rationale } : {}),
          ...(r.marking ? { marking: marking(r.marking) } : {}),
        };
        await mutate(v, spec, (tx) => reviseAssessment(tx, v, id, expected, changes, r.reason));
      } else if (r.action === "confirm")
        await mutate(v, spec, (tx) => confirmAssessment(tx, v, id, expected, r.reason));
      else await mutate(v, spec, (tx) => withdrawAssessment(tx, v, id, expected, r.reason));
      revision++;
    }
    for (const o of a.opinions) {
      const ov = await analyst(o.org);
      const made = await mutate(ov, { operation: "addOpinion", targetIds: [id], resultIds: () => [] }, (tx) =>
        addOpinion(tx, ov, id, {
          stance: o.stance,
          confidence: o.confidence ?? null,
          comment: o.comment,
          marking: marking(o.marking),
          reason: "Initial opinion",
        }),
      );
      const revisedTo = o.revisedTo;
      if (revisedTo) {
        const oid = toGlobalId(ASSESSMENT.Opinion, made.id);
        await mutate(ov, { operation: "reviseOpinion", targetIds: [oid], resultIds: () => [] }, (tx) =>
          reviseOpinion(tx, ov, oid, 1, { stance: revisedTo.stance }, revisedTo.reason),
        );
      }
    }
  }
  log.info({ incidents: cases.size, assessments: DEMO_ASSESSMENTS.length }, "demo incidents and assessments loaded");
  return DEMO_ASSESSMENTS.length;
}
