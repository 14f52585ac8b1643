import { registerEnumType } from "type-graphql";

/** Words of estimative probability, the `estimative-language:likelihood-probability` terms, least first. */
export const Likelihood = {
  ALMOST_NO_CHANCE: "ALMOST_NO_CHANCE",
  VERY_UNLIKELY: "VERY_UNLIKELY",
  UNLIKELY: "UNLIKELY",
  ROUGHLY_EVEN_CHANCE: "ROUGHLY_EVEN_CHANCE",
  LIKELY: "LIKELY",
  VERY_LIKELY: "VERY_LIKELY",
  ALMOST_CERTAIN: "ALMOST_CERTAIN",
} as const;
export type Likelihood = (typeof Likelihood)[keyof typeof Likelihood];
export const LIKELIHOODS = Object.values(Likelihood) as [Likelihood, ...Likelihood[]];

/** `estimative-language:confidence-in-analytic-judgment`: how well founded the judgment is. */
export const AnalyticConfidence = { LOW: "LOW", MODERATE: "MODERATE", HIGH: "HIGH" } as const;
export type AnalyticConfidence = (typeof AnalyticConfidence)[keyof typeof AnalyticConfidence];
export const ANALYTIC_CONFIDENCES = Object.values(AnalyticConfidence) as [AnalyticConfidence, ...AnalyticConfidence[]];

export const AssessmentStatus = { PROVISIONAL: "PROVISIONAL", CONFIRMED: "CONFIRMED", WITHDRAWN: "WITHDRAWN" } as const;
export type AssessmentStatus = (typeof AssessmentStatus)[keyof typeof AssessmentStatus];
export const ASSESSMENT_STATUSES = Object.values(AssessmentStatus) as [AssessmentStatus, ...AssessmentStatus[]];

/** What an assessment attributes: an incident, a named campaign, or an intrusion set. */
export const SubjectKind = { INCIDENT: "INCIDENT", CAMPAIGN: "CAMPAIGN", INTRUSION_SET: "INTRUSION_SET" } as const;
export type SubjectKind = (typeof SubjectKind)[keyof typeof SubjectKind];
export const SUBJECT_KINDS = Object.values(SubjectKind) as [SubjectKind, ...SubjectKind[]];

/** STIX 2.1 `opinion-enum`, least agreement first. */
export const OpinionStance = {
  STRONGLY_DISAGREE: "STRONGLY_DISAGREE",
  DISAGREE: "DISAGREE",
  NEUTRAL: "NEUTRAL",
  AGREE: "AGREE",
  STRONGLY_AGREE: "STRONGLY_AGREE",
} as const;
export type OpinionStance = (typeof OpinionStance)[keyof typeof OpinionStance];
export const OPINION_STANCES = Object.values(OpinionStance) as [OpinionStance, ...OpinionStance[]];

export { RevisionAction, REVISION_ACTIONS } from "../history/revision-action";

registerEnumType(Likelihood, {
  name: "Likelihood",
  description: "Estimative language (ICD 203 bands, the MISP `estimative-language` taxonomy); see `likelihoodBand`.",
});
registerEnumType(AnalyticConfidence, {
  name: "AnalyticConfidence",
  description: "Confidence in the analytic judgment, kept apart from its likelihood.",
});
registerEnumType(AssessmentStatus, { name: "AssessmentStatus" });
registerEnumType(SubjectKind, { name: "AssessmentSubjectKind" });
registerEnumType(OpinionStance, { name: "OpinionStance", description: "STIX 2.1 `opinion-enum`." });
