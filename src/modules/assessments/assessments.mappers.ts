import { toGlobalId } from "../../shared/ids";
import type { Marking } from "../access/access.type";
import type { Tlp } from "../access/tlp";
import { RevisionAction } from "./assessments.enums";
import { TYPE, type AssessmentRow, type OpinionRow, stateOfOpinion, stateOfRow } from "./assessments.service";
import type { assessmentRevisions, opinionRevisions } from "./assessments.table";
import { Assessment, Evidence, Opinion, type Revision } from "./assessments.type";
import { diff, type AssessmentState, type FieldChange, type OpinionState, type StoredMarking } from "./state";

export const markingOf = (ownerDbId: string, m: StoredMarking): Marking => ({
  tlp: m.tlp as Tlp,
  ownerDbId,
  audienceOrgDbIds: m.audienceOrgIds,
  audienceGroupDbIds: m.audienceGroupIds,
});

/** An assessment as it stands now, or (`state` and `revisionNumber` of a past revision) as it stood. */
export function toAssessment(
  r: AssessmentRow,
  past?: { state: AssessmentState; revisionNumber: number; asOf: Date },
): Assessment {
  const state = past?.state ?? stateOfRow(r);
  return Object.assign(new Assessment(), {
    id: toGlobalId(TYPE.Assessment, r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    subjectIncidentDbId: r.subjectIncidentId,
    subjectActorDbId: r.subjectActorId,
    state,
    revisionNumber: past?.revisionNumber ?? r.revision,
    subjectKind: r.subjectKind,
    campaignName: r.subjectName,
    campaignStixId: r.subjectStixId,
    claimedState: state.claimedState,
    stateResponsibility: state.stateResponsibility,
    likelihood: state.likelihood,
    analyticConfidence: state.analyticConfidence,
    rationale: state.rationale,
    status: state.status,
    nextReviewAt: state.nextReviewAt ? new Date(state.nextReviewAt) : null,
    marking: markingOf(r.ownerOrgId, state.marking),
    stixId: r.stixId,
    asOf: past?.asOf ?? null,
  });
}

export function evidenceOf(s: AssessmentState): Evidence {
  return Object.assign(new Evidence(), {
    incidentDbIds: s.evidenceIncidentIds,
    indicatorDbIds: s.evidenceIndicatorIds,
    references: s.evidenceReferences,
  });
}

export function toOpinion(r: OpinionRow, past?: { state: OpinionState; revisionNumber: number }): Opinion {
  const state = past?.state ?? stateOfOpinion(r);
  return Object.assign(new Opinion(), {
    id: toGlobalId(TYPE.Opinion, r.id),
    dbId: r.id,
    assessmentDbId: r.assessmentId,
    ownerDbId: r.ownerOrgId,
    state,
    revisionNumber: past?.revisionNumber ?? r.revision,
    stance: state.stance,
    confidence: state.confidence,
    comment: state.comment,
    marking: markingOf(r.ownerOrgId, state.marking),
    stixId: r.stixId,
  });
}

export type RevisionRow = typeof assessmentRevisions.$inferSelect | typeof opinionRevisions.$inferSelect;

/**
 * A viewer's history: the revisions it may see, numbered among themselves, each compared with
 * the one before it in that history (the first as a creation), so that nothing shows of the
 * revisions left out. `present` turns a state into what the viewer may see of it.
 */
export async function historyOf<S extends { marking: StoredMarking }, R extends Revision>(
  rows: readonly (RevisionRow & { state: S })[],
  present: (s: S, ownerDbId: string) => Promise<Record<string, unknown>>,
  make: () => R,
): Promise<R[]> {
  const shown = await Promise.all(rows.map((r) => present(r.state, r.ownerOrgId)));
  let before: Record<string, unknown> | null = null;
  return rows.map((r, i) => {
    const now = shown[i] ?? {};
    const changes: FieldChange[] = diff(before, now);
    before = now;
    return Object.assign(make(), {
      ownerDbId: r.ownerOrgId,
      authorAccountDbId: r.authorAccountId,
      authorOrgDbId: r.authorOrgId,
      number: i + 1,
      action: i === 0 ? RevisionAction.CREATE : r.action,
      reason: r.reason,
      recordedAt: r.recordedAt,
      marking: markingOf(r.ownerOrgId, r.state.marking),
      changes,
    });
  });
}
