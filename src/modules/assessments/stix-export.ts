import { and, asc, gt, inArray, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { visibleTo, type Tlp } from "../access/tlp";
import { incidents, threatActors } from "../incidents/incidents.table";
import { incidentStixId, withIncident } from "../incidents/stix-export";
import { HUB_STIX_NAMESPACE, identityId, stixTimestamp, TLP2_MARKING_ID, uuidv5 } from "../indicators/stix";
import { strictestTlp } from "../indicators/parsers/common";
import type { StixExportScope } from "../indicators/stix-export-scope";
import { assessmentVisibleTo } from "./assessments.access";
import { AssessmentStatus, SubjectKind } from "./assessments.enums";
import { assessments, opinions } from "./assessments.table";
import { EVIDENCE_SOURCE, likelihoodBand, stixConfidence, type AssessmentRow } from "./state";

const BATCH = 500;

type ActorRow = typeof threatActors.$inferSelect;

const STIX_TYPE = { INTRUSION_SET: "intrusion-set", THREAT_ACTOR: "threat-actor" } as const;

/** An actor's STIX id: the one it came with when of its kind, else derived from the hub's id. */
function actorStixId(a: ActorRow): string {
  const type = STIX_TYPE[a.kind];
  return a.stixId?.startsWith(`${type}--`) ? a.stixId : `${type}--${uuidv5(`actor:${a.id}`, HUB_STIX_NAMESPACE)}`;
}

/** A campaign's STIX id: the one it came with, else one derived from its owner and name. */
const campaignStixId = (a: AssessmentRow) =>
  a.subjectStixId ??
  `campaign--${uuidv5(`campaign:${a.ownerOrgId}:${(a.subjectName ?? "").toLowerCase()}`, HUB_STIX_NAMESPACE)}`;

const later = (created: string, t: Date | null | undefined) => {
  const m = t ? stixTimestamp(t) : created;
  return m < created ? created : m;
};

function actorObject(a: ActorRow): object {
  const created = stixTimestamp(a.createdAt);
  return {
    type: STIX_TYPE[a.kind],
    spec_version: "2.1",
    id: actorStixId(a),
    created_by_ref: identityId(a.ownerOrgId),
    created,
    modified: later(created, a.revokedAt),
    name: a.name,
    ...(a.description ? { description: a.description } : {}),
    ...(a.aliases.length ? { aliases: a.aliases } : {}),
    ...(a.revokedAt ? { revoked: true } : {}),
    object_marking_refs: [TLP2_MARKING_ID[a.tlp as Tlp]],
  };
}

/** The taxonomy's spelling of an enum value: ROUGHLY_EVEN_CHANCE -> roughly-even-chance. */
const taxonomyValue = (v: string) => v.toLowerCase().replaceAll("_", "-");

/**
 * A free evidence reference as a STIX external reference of source `evidence`: an http(s) URL as
 * `url`, any other text as `description` (the import reads both back as the same text).
 */
function evidenceReference(ref: string): object {
  const isUrl = /^https?:\/\/\S+$/i.test(ref) && URL.canParse(ref);
  return isUrl ? { source_name: EVIDENCE_SOURCE, url: ref } : { source_name: EVIDENCE_SOURCE, description: ref };
}

/**
 * An assessment as a STIX `attributed-to` relationship from its subject (campaign, intrusion set
 * or incident) to its actor: `confidence` the STIX confidence derived from likelihood and analytic
 * confidence (`stixConfidence`), both also given as `x_hub_likelihood` / `x_hub_analytic_confidence`
 * (so an import elsewhere keeps them exactly), the rationale as description, the free evidence
 * references as `external_references`, `revoked` when withdrawn. (Evidence incidents and indicators
 * are records of their own, with their own markings, and do not go in.)
 */
function relationshipObject(a: AssessmentRow, source: string, target: string): object {
  const created = stixTimestamp(a.createdAt);
  return {
    type: "relationship",
    spec_version: "2.1",
    id: a.stixId,
    created_by_ref: identityId(a.ownerOrgId),
    created,
    modified: later(created, a.updatedAt),
    relationship_type: "attributed-to",
    source_ref: source,
    target_ref: target,
    description: a.rationale,
    confidence: stixConfidence(a.likelihood, a.analyticConfidence),
    x_hub_likelihood: likelihoodBand(a.likelihood).value,
    x_hub_analytic_confidence: taxonomyValue(a.analyticConfidence),
    x_hub_status: taxonomyValue(a.status),
    ...(a.claimedState ? { x_hub_claimed_state: a.claimedState } : {}),
    ...(a.stateResponsibility ? { x_hub_state_responsibility: a.stateResponsibility } : {}),
    ...(a.evidenceReferences.length ? { external_references: a.evidenceReferences.map(evidenceReference) } : {}),
    ...(a.status === AssessmentStatus.WITHDRAWN ? { revoked: true } : {}),
    object_marking_refs: [TLP2_MARKING_ID[a.tlp as Tlp]],
  };
}

const actor = alias(threatActors, "export_actor");
const subjectActor = alias(threatActors, "export_subject_actor");
const subjectIncident = alias(incidents, "export_subject_incident");

/**
 * With onward sharing, an assessment goes out only when it, its actor and its subject are all
 * CLEAR, GREEN or AMBER: the relationship would otherwise carry (or point at) something that may
 * not be passed on.
 */
function onward(levels: Tlp[]): SQL {
  const lv = sql.join(
    levels.map((l) => sql`${l}`),
    sql`, `,
  );
  return sql`(${inArray(assessments.tlp, levels)}
    and exists (select 1 from ${threatActors} ${sql.identifier("export_actor")} where ${actor.id} = ${assessments.actorId} and ${actor.tlp} in (${lv}))
    and (${assessments.subjectActorId} is null or exists (select 1 from ${threatActors} ${sql.identifier("export_subject_actor")} where ${subjectActor.id} = ${assessments.subjectActorId} and ${subjectActor.tlp} in (${lv})))
    and (${assessments.subjectIncidentId} is null or exists (select 1 from ${incidents} ${sql.identifier("export_subject_incident")} where ${subjectIncident.id} = ${assessments.subjectIncidentId} and ${subjectIncident.tlp} in (${lv}))))`;
}

/**
 * The assessments the viewer may see (`assessmentVisibleTo`: the assessment, its actor and its
 * subject), at most `limit`, as STIX: for each the objects it refers to (campaign, intrusion set or
 * incident, actor), the relationship, and the opinions of it the viewer may see as `opinion`
 * objects; with the owners' identities and the TLP 2.0 marking definitions. In keyset batches, a
 * few statements each.
 */
export async function* assessmentStixObjects(scope: StixExportScope, limit: number): AsyncIterable<object> {
  const { db, viewer, levels } = scope;
  let after: string | null = null;
  let emitted = 0;
  while (emitted < limit) {
    const batch = await db
      .select()
      .from(assessments)
      .where(
        and(
          assessmentVisibleTo(viewer),
          levels ? onward(levels) : undefined,
          after ? gt(assessments.id, after) : undefined,
        ),
      )
      .orderBy(asc(assessments.id))
      .limit(Math.min(BATCH, limit - emitted));
    if (!batch.length) return;
    after = batch.at(-1)?.id ?? after;
    emitted += batch.length;

    // Actors and incidents named are visible to the viewer (assessmentVisibleTo requires it).
    const actorIds = [...new Set(batch.flatMap((a) => [a.actorId, ...(a.subjectActorId ? [a.subjectActorId] : [])]))];
    const incidentIds = [...new Set(batch.flatMap((a) => (a.subjectIncidentId ? [a.subjectIncidentId] : [])))];
    const [actors, subjects, opinionRows] = await Promise.all([
      db
        .select()
        .from(threatActors)
        .where(and(inArray(threatActors.id, actorIds), visibleTo(viewer, threatActors))),
      incidentIds.length
        ? db
            .select()
            .from(incidents)
            .where(and(inArray(incidents.id, incidentIds), visibleTo(viewer, incidents)))
        : Promise.resolve([]),
      db
        .select()
        .from(opinions)
        .where(
          and(
            inArray(
              opinions.assessmentId,
              batch.map((a) => a.id),
            ),
            visibleTo(viewer, opinions),
            levels ? inArray(opinions.tlp, levels) : undefined,
          ),
        )
        .orderBy(asc(opinions.createdAt), asc(opinions.id)),
    ]);
    const actorById = new Map(actors.map((a) => [a.id, a]));
    const incidentById = new Map(subjects.map((i) => [i.id, i]));
    yield* scope.identities([
      ...batch.map((a) => a.ownerOrgId),
      ...actors.map((a) => a.ownerOrgId),
      ...opinionRows.map((o) => o.ownerOrgId),
    ]);

    for (const a of batch) {
      const target = actorById.get(a.actorId);
      if (!target) continue;
      let source: string;
      if (a.subjectKind === SubjectKind.CAMPAIGN) {
        source = campaignStixId(a);
        if (scope.once(source)) {
          yield* scope.marking(a.tlp as Tlp);
          const created = stixTimestamp(a.createdAt);
          yield {
            type: "campaign",
            spec_version: "2.1",
            id: source,
            created_by_ref: identityId(a.ownerOrgId),
            created,
            modified: created,
            name: a.subjectName ?? source,
            object_marking_refs: [TLP2_MARKING_ID[a.tlp as Tlp]],
          };
        }
      } else if (a.subjectKind === SubjectKind.INCIDENT) {
        const incident = a.subjectIncidentId ? incidentById.get(a.subjectIncidentId) : undefined;
        if (!incident) continue;
        yield* withIncident(scope, incident);
        source = incidentStixId(incident.id);
      } else {
        const set = a.subjectActorId ? actorById.get(a.subjectActorId) : undefined;
        if (!set) continue;
        source = actorStixId(set);
        if (scope.once(source)) {
          yield* scope.marking(set.tlp as Tlp);
          yield actorObject(set);
        }
      }
      const targetId = actorStixId(target);
      if (scope.once(targetId)) {
        yield* scope.marking(target.tlp as Tlp);
        yield actorObject(target);
      }
      yield* scope.marking(a.tlp as Tlp);
      yield relationshipObject(a, source, targetId);
      for (const o of opinionRows) {
        if (o.assessmentId !== a.id) continue;
        yield* scope.marking(o.tlp as Tlp);
        const created = stixTimestamp(o.createdAt);
        yield {
          type: "opinion",
          spec_version: "2.1",
          id: o.stixId,
          created_by_ref: identityId(o.ownerOrgId),
          created,
          modified: later(created, o.updatedAt),
          opinion: taxonomyValue(o.stance),
          ...(o.comment ? { explanation: o.comment } : {}),
          ...(o.confidence !== null ? { confidence: o.confidence } : {}),
          object_refs: [a.stixId],
          object_marking_refs: [TLP2_MARKING_ID[o.tlp as Tlp]],
        };
      }
    }
    yield* replacements(scope, actors);
  }
}

/**
 * For the retired actors among `actors` (those a batch's assessments name) whose replacement the
 * viewer may see, and the export may carry: the replacement and a `revoked-by` relationship from
 * the retired one to it, marked with the stricter of the two markings. One statement.
 */
async function* replacements(scope: StixExportScope, actors: ActorRow[]): AsyncIterable<object> {
  const retired = actors.filter((a) => a.revokedAt && a.replacedById);
  if (!retired.length) return;
  const found = await scope.db
    .select()
    .from(threatActors)
    .where(
      and(
        inArray(
          threatActors.id,
          retired.map((a) => a.replacedById as string),
        ),
        visibleTo(scope.viewer, threatActors),
        scope.levels ? inArray(threatActors.tlp, scope.levels) : undefined,
      ),
    );
  const byId = new Map(found.map((r) => [r.id, r]));
  yield* scope.identities(found.map((r) => r.ownerOrgId));
  for (const a of retired) {
    const next = byId.get(a.replacedById as string);
    const relId = `relationship--${uuidv5(`revoked-by:${a.id}:${a.replacedById}`, HUB_STIX_NAMESPACE)}`;
    if (!next || !scope.once(relId)) continue;
    const nextId = actorStixId(next);
    if (scope.once(nextId)) {
      yield* scope.marking(next.tlp as Tlp);
      yield actorObject(next);
    }
    const tlp = strictestTlp([a.tlp as Tlp, next.tlp as Tlp]) as Tlp;
    yield* scope.marking(tlp);
    const at = stixTimestamp(a.revokedAt as Date);
    yield {
      type: "relationship",
      spec_version: "2.1",
      id: relId,
      created_by_ref: identityId(a.ownerOrgId),
      created: at,
      modified: at,
      relationship_type: "revoked-by",
      source_ref: actorStixId(a),
      target_ref: nextId,
      object_marking_refs: [TLP2_MARKING_ID[tlp]],
    };
  }
}
