import { toGlobalId } from "../../shared/ids";
import { markingOf } from "../history";
import { TYPE, type AssessmentRow, type OpinionRow, stateOfOpinion, stateOfRow } from "./assessments.service";
import { Assessment, Evidence, Opinion } from "./assessments.type";
import type { AssessmentState, OpinionState } from "./state";

/** The columns of an assessment row that stay the same through its revisions. */
export type AssessmentIdentityRow = Pick<
  AssessmentRow,
  | "id"
  | "ownerOrgId"
  | "subjectIncidentId"
  | "subjectActorId"
  | "subjectKind"
  | "subjectName"
  | "subjectStixId"
  | "stixId"
>;

interface PastRevision {
  state: AssessmentState;
  revisionNumber: number;
  asOf: Date;
  history?: { count: number; firstAt: Date; lastAt: Date };
}

/**
 * An assessment as it stands now (its whole row), or as it stood (`past`: the state and number of
 * a past revision, and only the row's columns that never change).
 */
export function toAssessment(r: AssessmentRow): Assessment;
export function toAssessment(r: AssessmentIdentityRow, past: PastRevision): Assessment;
export function toAssessment(r: AssessmentIdentityRow | AssessmentRow, past?: PastRevision): Assessment {
  const state = past?.state ?? stateOfRow(r as AssessmentRow);
  return Object.assign(new Assessment(), {
    id: toGlobalId(TYPE.Assessment, r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    subjectIncidentDbId: r.subjectIncidentId,
    subjectActorDbId: r.subjectActorId,
    state,
    revisionNumber: past?.revisionNumber ?? (r as AssessmentRow).revision,
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
