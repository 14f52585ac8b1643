import { Field, ID, InputType, Int } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { MarkingInput } from "../access/access.input";
import { AnalyticConfidence, AssessmentStatus, Likelihood, OpinionStance, SubjectKind } from "./assessments.enums";

@InputType({ description: "Exactly one of incidentId, campaignName or intrusionSetId." })
export class AssessmentSubjectInput {
  @Field(() => ID, { nullable: true })
  incidentId?: string | null;
  @Field(() => String, { nullable: true, description: "A named campaign." })
  campaignName?: string | null;
  @Field(() => String, { nullable: true, description: "The campaign's STIX id, `campaign--<uuid>`." })
  campaignStixId?: string | null;
  @Field(() => ID, { nullable: true, description: "An intrusion set attributed to a threat actor." })
  intrusionSetId?: string | null;
}

@InputType()
export class EvidenceInput {
  @Field(() => [ID], { defaultValue: [] })
  incidentIds: string[];
  @Field(() => [ID], { defaultValue: [] })
  indicatorIds: string[];
  @Field(() => [String], { defaultValue: [], description: "Free references: URLs, report titles." })
  references: string[];
}

@InputType()
export class CreateAssessmentInput {
  @Field(() => AssessmentSubjectInput)
  subject: AssessmentSubjectInput;
  @Field(() => ID, { description: "The threat actor or intrusion set held responsible." })
  actorId: string;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2 code of the state claimed responsible." })
  claimedState?: string | null;
  @Field(() => String, { nullable: true, description: "A `state-responsibility` taxonomy value." })
  stateResponsibility?: string | null;
  @Field(() => Likelihood)
  likelihood: Likelihood;
  @Field(() => AnalyticConfidence)
  analyticConfidence: AnalyticConfidence;
  @Field(() => String)
  rationale: string;
  @Field(() => EvidenceInput, { nullable: true })
  evidence?: EvidenceInput | null;
  @Field(() => AssessmentStatus, {
    defaultValue: AssessmentStatus.PROVISIONAL,
    description: "PROVISIONAL (needs nextReviewAt) or CONFIRMED.",
  })
  status: AssessmentStatus;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Required for provisional assessments." })
  nextReviewAt?: Date | null;
  @Field(() => MarkingInput)
  marking: MarkingInput;
  @Field(() => String, { defaultValue: "Initial assessment", description: "Recorded as the first revision's reason." })
  reason: string;
}

@InputType({ description: "Only the fields given change; an explicit null clears an optional field." })
export class AssessmentChangesInput {
  @Field(() => ID, { nullable: true })
  actorId?: string | null;
  @Field(() => String, { nullable: true })
  claimedState?: string | null;
  @Field(() => String, { nullable: true })
  stateResponsibility?: string | null;
  @Field(() => Likelihood, { nullable: true })
  likelihood?: Likelihood | null;
  @Field(() => AnalyticConfidence, { nullable: true })
  analyticConfidence?: AnalyticConfidence | null;
  @Field(() => String, { nullable: true })
  rationale?: string | null;
  @Field(() => EvidenceInput, { nullable: true, description: "Replaces the evidence." })
  evidence?: EvidenceInput | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  nextReviewAt?: Date | null;
  @Field(() => MarkingInput, { nullable: true })
  marking?: MarkingInput | null;
}

@InputType()
export class AssessmentFilter {
  @Field(() => ID, { nullable: true })
  actorId?: string | null;
  @Field(() => SubjectKind, { nullable: true })
  subjectKind?: SubjectKind | null;
  @Field(() => ID, { nullable: true })
  incidentId?: string | null;
  @Field(() => String, { nullable: true, description: "Campaign name, case-insensitive, exact." })
  campaignName?: string | null;
  @Field(() => [AssessmentStatus], { nullable: true })
  statuses?: AssessmentStatus[] | null;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2 code of the state claimed responsible." })
  claimedState?: string | null;
  @Field(() => Likelihood, { nullable: true, description: "This likelihood or a higher one." })
  minLikelihood?: Likelihood | null;
  @Field(() => Boolean, { nullable: true, description: "Provisional assessments past their review date (or not)." })
  overdue?: boolean | null;
  @Field(() => [ID], { nullable: true })
  ownerIds?: string[] | null;
}

@InputType()
export class CreateOpinionInput {
  @Field(() => OpinionStance)
  stance: OpinionStance;
  @Field(() => Int, { nullable: true, description: "STIX confidence 0-100 in this opinion." })
  confidence?: number | null;
  @Field(() => String, { defaultValue: "" })
  comment: string;
  @Field(() => MarkingInput)
  marking: MarkingInput;
  @Field(() => String, { defaultValue: "Initial opinion" })
  reason: string;
}

@InputType({ description: "Only the fields given change." })
export class OpinionChangesInput {
  @Field(() => OpinionStance, { nullable: true })
  stance?: OpinionStance | null;
  @Field(() => Int, { nullable: true })
  confidence?: number | null;
  @Field(() => String, { nullable: true })
  comment?: string | null;
  @Field(() => MarkingInput, { nullable: true })
  marking?: MarkingInput | null;
}
