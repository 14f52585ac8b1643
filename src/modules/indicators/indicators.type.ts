import { Directive, Field, ID, Int, ObjectType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { Node } from "../access/access.type";
import { Tlp } from "../access/tlp";
import { Connection } from "../../shared/pagination";
import { ObservableType } from "./normalize";
import { FeedFormat } from "./indicators.enums";

@ObjectType({
  description: "A source of reports owned by one organisation, with defaults for what its items leave out.",
})
export class Feed {
  @Field(() => ID)
  id: string;
  dbId: string;
  ownerDbId: string;
  @Field(() => String)
  name: string;
  @Field(() => FeedFormat)
  format: keyof typeof FeedFormat;
  @Field(() => String)
  description: string;
  @Field(() => Tlp)
  defaultTlp: Tlp;
  @Field(() => Int, { nullable: true })
  defaultConfidence: number | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastIngestAt: Date | null;
  @Field(() => Int)
  ingestCount: number;
  lastIngestCounts: Record<string, unknown> | null;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
}

@ObjectType({ description: "What a feed's last ingest did." })
export class FeedIngestSummary {
  @Field(() => IngestCounts)
  reports: IngestCounts;
  @Field(() => IngestCounts)
  sightings: IngestCounts;
  @Field(() => Int)
  rejected: number;
  @Field(() => Int)
  skipped: number;
}

@ObjectType({ description: "A 0-100 STIX confidence shown in the STIX 2.1 appendix A scales." })
export class ConfidenceScales {
  @Field(() => String, { description: "None / Low / Med / High (A.1)." })
  noneLowMedHigh: string;
  @Field(() => String, { description: "0-10 (A.2)." })
  zeroTen: string;
  @Field(() => String, { description: "Admiralty credibility 1-6 (A.3)." })
  admiralty: string;
  @Field(() => String, { description: "Words of estimative probability (A.4)." })
  wep: string;
  @Field(() => String, { description: "DNI scale (A.5)." })
  dni: string;
}

@ObjectType()
export class KillChainPhase {
  @Field(() => String)
  killChainName: string;
  @Field(() => String)
  phaseName: string;
}

@ObjectType({ description: "One organisation's claim about an indicator, from one of its feeds." })
export class IndicatorReport {
  @Field(() => ID)
  id: string;
  dbId: number;
  observableDbId: number;
  ownerDbId: string;
  feedDbId: string;
  @Field(() => Tlp)
  tlp: Tlp;
  @Field(() => Int, { nullable: true })
  confidence: number | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  firstSeen: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastSeen: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  validFrom: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  validUntil: Date | null;
  @Field(() => [String])
  labels: string[];
  @Field(() => [KillChainPhase])
  killChainPhases: KillChainPhase[];
  @Field(() => String, { nullable: true })
  description: string | null;
  @Field(() => String, { nullable: true, description: "The STIX indicator id this report came from." })
  stixId: string | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  stixModified: Date | null;
}

@ObjectType({ description: "An organisation saying it saw an indicator's value." })
export class Sighting {
  @Field(() => ID)
  id: string;
  observableDbId: number;
  ownerDbId: string;
  @Field(() => Tlp)
  tlp: Tlp;
  @Field(() => GraphQLDateTime, { nullable: true })
  firstSeen: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastSeen: Date | null;
  @Field(() => Int)
  count: number;
}

@Directive(`@key(fields: "id")`)
@ObjectType({
  implements: Node,
  description:
    "An observable as this viewer may see it: every figure is computed from the reports and sightings the viewer may see, and nothing else.",
})
export class Indicator extends Node {
  dbId: number;
  @Field(() => ObservableType)
  type: ObservableType;
  @Field(() => String, { description: "The normalised value (or the STIX pattern)." })
  value: string;
  @Field(() => String, { description: "Deterministic STIX 2.1 id of the cyber-observable." })
  stixId: string;
  @Field(() => Int, { nullable: true, description: "The highest confidence among visible reports." })
  confidence: number | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  firstSeen: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastSeen: Date | null;
  @Field(() => Int, { description: "Distinct organisations behind the visible reports and sightings." })
  sourceCount: number;
}

@ObjectType()
export class IngestCounts {
  @Field(() => Int)
  created: number;
  @Field(() => Int)
  updated: number;
  @Field(() => Int)
  unchanged: number;
  @Field(() => Int, { description: "Items naming a value an earlier item of this ingest named: merged into one." })
  merged: number;
}

@ObjectType({ description: "STIX `attributed-to` relationships imported as assessments of the feed's organisation." })
export class AssessmentImportCounts {
  @Field(() => Int)
  created: number;
  @Field(() => Int, { description: "Revised from a newer STIX version (a REVISE revision)." })
  updated: number;
  @Field(() => Int, { description: "The same or an older STIX version: left as they were." })
  unchanged: number;
  @Field(() => Int, { description: "Withdrawn because the relationship is revoked (a WITHDRAW revision)." })
  withdrawn: number;
}

@ObjectType({ description: "Threat actors and intrusion sets that STIX attributions created or retired." })
export class ActorImportCounts {
  @Field(() => Int)
  created: number;
  @Field(() => Int, { description: "Retired by a `revoked-by` relationship (revokedAt and replacedBy set)." })
  revoked: number;
}

@ObjectType({ description: "What the STIX attributions of an ingest did." })
export class AttributionImportReport {
  @Field(() => AssessmentImportCounts)
  assessments: AssessmentImportCounts;
  @Field(() => ActorImportCounts)
  actors: ActorImportCounts;
}

@ObjectType()
export class IngestProblemType {
  @Field(() => String, { description: "Where in the input: objects[12], line 40, ..." })
  ref: string;
  @Field(() => String, { nullable: true })
  value?: string;
  @Field(() => String)
  reason: string;
}

@ObjectType({ description: "What an ingest did. Rejected items are listed (up to 1000) with their reason." })
export class IngestReportType extends FeedIngestSummary {
  @Field(() => ID)
  feedId: string;
  @Field(() => [IngestProblemType])
  rejections: IngestProblemType[];
  @Field(() => [IngestProblemType], { description: "Input that is not an indicator (e.g. a STIX malware object)." })
  skips: IngestProblemType[];
  @Field(() => AttributionImportReport, {
    description: "STIX attributions: assessments from `attributed-to` relationships, actors created or revoked.",
  })
  attributions: AttributionImportReport;
}

@ObjectType({ description: "One value of a bulk lookup: the indicator, or null when the viewer knows of none." })
export class IndicatorLookup {
  @Field(() => String, { description: "The value as sent." })
  input: string;
  @Field(() => String, { nullable: true, description: "Why the value could not be read, if it could not." })
  error: string | null;
  @Field(() => Indicator, { nullable: true })
  indicator: Indicator | null;
}

export const IndicatorConnection = Connection(Indicator, "Indicator");
