import { and, sql, type SQL } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { visibleTo, type AccessViewer } from "../access/tlp";
import { incidents, threatActors } from "../incidents/incidents.table";
import { assessments, opinions } from "./assessments.table";

const actor = alias(threatActors, "assessment_actor");
const subjectActor = alias(threatActors, "assessment_subject_actor");
const subjectIncident = alias(incidents, "assessment_subject_incident");

/**
 * Who sees an assessment: whoever may see it (the access rule on its own marking) and also the
 * actor it names and the incident or intrusion set it is about, as a timeline entry is seen only
 * with its incident. An assessment whose actor or subject a viewer may not see would otherwise
 * say that such a record exists. Built from `visibleTo` only; every query on assessments (lists,
 * loaders, counts, filters, as-of reads, revisions, opinions) goes through it.
 */
export function assessmentVisibleTo(viewer: AccessViewer): SQL {
  return sql`(${visibleTo(viewer, assessments)} and ${assessmentDependenciesVisibleTo(viewer)})`;
}

/** The second half of `assessmentVisibleTo`: the viewer may see the actor and the subject. */
export function assessmentDependenciesVisibleTo(viewer: AccessViewer): SQL {
  return sql`(${and(
    sql`exists (select 1 from ${threatActors} ${sql.identifier("assessment_actor")} where ${actor.id} = ${assessments.actorId} and ${visibleTo(viewer, actor)})`,
    sql`(${assessments.subjectIncidentId} is null or exists (select 1 from ${incidents} ${sql.identifier("assessment_subject_incident")} where ${subjectIncident.id} = ${assessments.subjectIncidentId} and ${visibleTo(viewer, subjectIncident)}))`,
    sql`(${assessments.subjectActorId} is null or exists (select 1 from ${threatActors} ${sql.identifier("assessment_subject_actor")} where ${subjectActor.id} = ${assessments.subjectActorId} and ${visibleTo(viewer, subjectActor)}))`,
  )})`;
}

/** An opinion is seen by whoever may see both it and its assessment. */
export function opinionVisibleTo(viewer: AccessViewer): SQL {
  return sql`(${visibleTo(viewer, opinions)} and exists (select 1 from ${assessments} where ${assessments.id} = ${opinions.assessmentId} and ${assessmentVisibleTo(viewer)}))`;
}
