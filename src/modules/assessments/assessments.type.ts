import { Directive, Field, Float, Int, ObjectType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { Connection } from "../../shared/pagination";
import { Marking, Node } from "../access/access.type";
import { AnalyticConfidence, AssessmentStatus, Likelihood, OpinionStance, SubjectKind } from "./assessments.enums";
import type { AssessmentState, OpinionState } from "./state";

@ObjectType({ description: "A likelihood's band of probability, as the estimative-language taxonomy gives it." })
export class LikelihoodBand {
  @Field(() => Likelihood)
  likelihood: Likelihood;
  @Field(() => String, { description: "Taxonomy value, e.g. `roughly-even-chance`." })
  value: string;
  @Field(() => String, { description: "The taxonomy's wording, e.g. `Likely - probable (probably) - 55-80%`." })
  expanded: string;
  @Field(() => Int)
  lowPercent: number;
  @Field(() => Int)
  highPercent: number;
}

@ObjectType({ description: "A term of a taxonomy: its value and its name." })
export class ScaleTerm {
  @Field(() => String)
  value: string;
  @Field(() => String)
  expanded: string;
}

@ObjectType({ description: "The scales assessments are expressed in." })
export class AssessmentScales {
  @Field(() => [LikelihoodBand], { description: "Least likely first." })
  likelihoods: LikelihoodBand[];
  @Field(() => [ScaleTerm], { description: "The `state-responsibility` taxonomy's levels." })
  stateResponsibility: ScaleTerm[];
}

@ObjectType({ description: "What an assessment rests on; items the viewer may not see are left out." })
export class Evidence {
  incidentDbIds: string[];
  indicatorDbIds: number[];
  @Field(() => [String])
  references: string[];
}

@Directive(`@key(fields: "id")`)
@ObjectType({
  implements: Node,
  description:
    "An organisation's provisional attribution of an incident, campaign or intrusion set to a threat actor (and possibly a state), with its likelihood and analytic confidence kept apart, and its full revision history.",
})
export class Assessment extends Node {
  dbId: string;
  ownerDbId: string;
  subjectIncidentDbId: string | null;
  subjectActorDbId: string | null;
  state: AssessmentState;
  /** The true number of the revision shown (the latest, or the one in force at `asOf`). */
  revisionNumber: number;
  /**
   * The viewer's history up to the revision shown, when the read that made this object already
   * knows it (an as-of read does): how many revisions it may see, the first one's and the shown
   * one's times. Otherwise the resolvers load the history.
   */
  history: { count: number; firstAt: Date; lastAt: Date } | null;
  @Field(() => SubjectKind)
  subjectKind: SubjectKind;
  @Field(() => String, { nullable: true, description: "CAMPAIGN subjects: the campaign's name." })
  campaignName: string | null;
  @Field(() => String, { nullable: true, description: "CAMPAIGN subjects: its STIX id, when known." })
  campaignStixId: string | null;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2 code of the state claimed responsible." })
  claimedState: string | null;
  @Field(() => String, { nullable: true, description: "`state-responsibility` taxonomy value." })
  stateResponsibility: string | null;
  @Field(() => Likelihood)
  likelihood: Likelihood;
  @Field(() => AnalyticConfidence)
  analyticConfidence: AnalyticConfidence;
  @Field(() => String)
  rationale: string;
  @Field(() => AssessmentStatus)
  status: AssessmentStatus;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Provisional assessments: when to review it." })
  nextReviewAt: Date | null;
  @Field(() => Marking)
  marking: Marking;
  @Field(() => String, { description: "Id of its STIX `attributed-to` relationship." })
  stixId: string;
  @Field(() => GraphQLDateTime, { nullable: true, description: "The time asked for with `asOf`; null when current." })
  asOf: Date | null;
}

@ObjectType({ description: "How many opinions of each stance, among those the viewer may see." })
export class StanceCount {
  @Field(() => OpinionStance)
  stance: OpinionStance;
  @Field(() => Int)
  count: number;
}

@ObjectType({ description: "A summary of the opinions the viewer may see, computed from those only." })
export class OpinionSummary {
  @Field(() => Int)
  count: number;
  @Field(() => [StanceCount], { description: "Every stance, strongly disagree first." })
  stances: StanceCount[];
  @Field(() => Float, {
    nullable: true,
    description: "Mean agreement from -2 (strongly disagree) to 2 (strongly agree); null with no opinion.",
  })
  meanAgreement: number | null;
}

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "Another organisation's opinion of an assessment (STIX `opinion`)." })
export class Opinion extends Node {
  dbId: string;
  assessmentDbId: string;
  ownerDbId: string;
  state: OpinionState;
  revisionNumber: number;
  @Field(() => OpinionStance)
  stance: OpinionStance;
  @Field(() => Int, { nullable: true, description: "STIX confidence 0-100 in this opinion." })
  confidence: number | null;
  @Field(() => String)
  comment: string;
  @Field(() => Marking)
  marking: Marking;
  @Field(() => String)
  stixId: string;
}

export const AssessmentConnection = Connection(Assessment, "Assessment");
