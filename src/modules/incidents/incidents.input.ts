import { Field, ID, InputType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { MarkingInput } from "../access/access.input";
import { IncidentSeverity, IncidentStatus } from "./incidents.enums";
import { ActorKind } from "./incidents.type";

@InputType()
export class CreateThreatActorInput {
  @Field(() => ActorKind, { defaultValue: "INTRUSION_SET" })
  kind: ActorKind;
  @Field(() => String)
  name: string;
  @Field(() => [String], { defaultValue: [] })
  aliases: string[];
  @Field(() => String, { defaultValue: "" })
  description: string;
  @Field(() => String, { nullable: true, description: "`threat-actor--<uuid>` or `intrusion-set--<uuid>`." })
  stixId?: string | null;
  @Field(() => MarkingInput)
  marking: MarkingInput;
}

@InputType()
export class ThreatActorFilter {
  @Field(() => String, {
    nullable: true,
    description: "Case-insensitive; matches any part of the name or of an alias.",
  })
  search?: string | null;
}

@InputType()
export class CreateIncidentInput {
  @Field(() => String)
  title: string;
  @Field(() => String, { defaultValue: "" })
  description: string;
  @Field(() => String, { description: "RSIT class; see `incidentTaxonomy`." })
  rsitClass: string;
  @Field(() => String, { description: "RSIT type of that class." })
  rsitType: string;
  @Field(() => IncidentSeverity)
  severity: IncidentSeverity;
  @Field(() => IncidentStatus, { defaultValue: "OPEN" })
  status: IncidentStatus;
  @Field(() => [String], { defaultValue: [] })
  sectors: string[];
  @Field(() => [String], { defaultValue: [], description: "ISO 3166-1 alpha-2 codes." })
  countries: string[];
  @Field(() => GraphQLDateTime, { nullable: true })
  occurredAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  detectedAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  reportedAt?: Date | null;
  @Field(() => MarkingInput)
  marking: MarkingInput;
}

@InputType({ description: "Only the fields given change." })
export class UpdateIncidentInput {
  @Field(() => String, { nullable: true })
  title?: string | null;
  @Field(() => String, { nullable: true })
  description?: string | null;
  @Field(() => String, { nullable: true, description: "Given together with rsitType." })
  rsitClass?: string | null;
  @Field(() => String, { nullable: true })
  rsitType?: string | null;
  @Field(() => IncidentSeverity, { nullable: true })
  severity?: IncidentSeverity | null;
  @Field(() => IncidentStatus, { nullable: true })
  status?: IncidentStatus | null;
  @Field(() => [String], { nullable: true })
  sectors?: string[] | null;
  @Field(() => [String], { nullable: true })
  countries?: string[] | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  occurredAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  detectedAt?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  reportedAt?: Date | null;
  @Field(() => MarkingInput, { nullable: true })
  marking?: MarkingInput | null;
}

@InputType()
export class IncidentFilter {
  @Field(() => [String], { nullable: true, description: "RSIT classes." })
  rsitClasses?: string[] | null;
  @Field(() => [IncidentSeverity], { nullable: true })
  severities?: IncidentSeverity[] | null;
  @Field(() => [IncidentStatus], { nullable: true })
  statuses?: IncidentStatus[] | null;
  @Field(() => String, { nullable: true, description: "Incidents affecting this sector." })
  sector?: string | null;
  @Field(() => String, { nullable: true, description: "Incidents affecting this country (ISO 3166-1 alpha-2)." })
  country?: string | null;
  @Field(() => [ID], { nullable: true, description: "Owner organisations." })
  ownerIds?: string[] | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Occurred at or after this time." })
  occurredFrom?: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Occurred before this time." })
  occurredTo?: Date | null;
}

@InputType()
export class TimelineEntryInput {
  @Field(() => GraphQLDateTime)
  eventAt: Date;
  @Field(() => String)
  summary: string;
  @Field(() => MarkingInput)
  marking: MarkingInput;
}
