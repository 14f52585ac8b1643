import { toGlobalId } from "../../shared/ids";
import { markingOf } from "../history";
import { TYPE, type AssessmentRow, type OpinionRow, stateOfOpinion, stateOfRow } from "./assessments.service";
import { Assessment, Evidence, Opinion } from "./assessments.type";
import type { AssessmentState, OpinionState } from "./state";

/** An assessment as it stands now, or (`state` and `revisionNumber` of a past revision) as it stood. */
export function toAssessment(
  r: AssessmentRow,
  past?: {
    state: AssessmentState;
    revisionNumber: number;
    asOf: Date;
    history?: { count: number; firstAt: Date; lastAt: Date };
  },
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
    history: past?.history ?? null,
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
