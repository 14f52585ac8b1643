import { Directive, Field, Int, ObjectType, registerEnumType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { Connection } from "../../shared/pagination";
import { Marking, Node } from "../access/access.type";
import { IncidentSeverity, IncidentStatus } from "./incidents.enums";
import { ACTOR_KINDS } from "./incidents.table";

export const ActorKind = Object.fromEntries(ACTOR_KINDS.map((k) => [k, k])) as {
  [K in (typeof ACTOR_KINDS)[number]]: K;
};
export type ActorKind = (typeof ACTOR_KINDS)[number];
registerEnumType(ActorKind, { name: "ActorKind", description: "STIX `threat-actor` or `intrusion-set`." });

// As in the access module: `dbId` and the owner's id ride along for field resolvers; `id` is global.

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "A threat actor or intrusion set, as an organisation names it." })
export class ThreatActor extends Node {
  dbId: string;
  ownerDbId: string;
  @Field(() => ActorKind)
  kind: ActorKind;
  @Field(() => String)
  name: string;
  @Field(() => [String])
  aliases: string[];
  @Field(() => String)
  description: string;
  @Field(() => String, { nullable: true })
  stixId: string | null;
  @Field(() => Marking)
  marking: Marking;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "When its owner retired it (STIX `revoked`), e.g. merged into another actor; null while current.",
  })
  revokedAt: Date | null;
  replacedByDbId: string | null;
}

@ObjectType({ description: "A term of a taxonomy: its machine value, its name and what it means." })
export class TaxonomyTerm {
  @Field(() => String)
  value: string;
  @Field(() => String)
  expanded: string;
  @Field(() => String)
  description: string;
}

@ObjectType({ description: "A class of the Reference Security Incident Taxonomy, with its incident types." })
export class RsitClass extends TaxonomyTerm {
  @Field(() => [TaxonomyTerm])
  types: TaxonomyTerm[];
}

@ObjectType({ description: "An NCISS priority level, as the `priority-level` taxonomy describes it." })
export class PriorityLevel extends TaxonomyTerm {
  @Field(() => IncidentSeverity)
  severity: IncidentSeverity;
  @Field(() => String, { description: "Display colour, `#RRGGBB`." })
  colour: string;
  @Field(() => Int, { description: "0 (baseline-negligible) to 100 (emergency)." })
  numericalValue: number;
}

@ObjectType({ description: "The taxonomies incidents are classified with." })
export class IncidentTaxonomy {
  @Field(() => Int, { description: "Version of the RSIT machine-readable file." })
  rsitVersion: number;
  @Field(() => [RsitClass])
  classes: RsitClass[];
  @Field(() => [PriorityLevel], { description: "Lowest first." })
  priorityLevels: PriorityLevel[];
}

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "A dated entry of an incident's timeline, with its own marking." })
export class TimelineEntry extends Node {
  dbId: string;
  incidentDbId: string;
  ownerDbId: string;
  @Field(() => GraphQLDateTime, { description: "When the event happened." })
  eventAt: Date;
  @Field(() => String)
  summary: string;
  @Field(() => Marking)
  marking: Marking;
  @Field(() => GraphQLDateTime, { description: "When the entry was recorded." })
  createdAt: Date;
}

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "An incident, classified with RSIT and an NCISS priority level." })
export class Incident extends Node {
  dbId: string;
  ownerDbId: string;
  @Field(() => String)
  title: string;
  @Field(() => String)
  description: string;
  @Field(() => String, { description: "RSIT class (e.g. `malicious-code`)." })
  rsitClass: string;
  @Field(() => String, { description: "RSIT type within the class (e.g. `c2-server`)." })
  rsitType: string;
  @Field(() => IncidentSeverity)
  severity: IncidentSeverity;
  @Field(() => IncidentStatus)
  status: IncidentStatus;
  @Field(() => [String], { description: "Affected sectors, lower case." })
  sectors: string[];
  @Field(() => [String], { description: "Affected countries, ISO 3166-1 alpha-2." })
  countries: string[];
  @Field(() => GraphQLDateTime, { nullable: true })
  occurredAt: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  detectedAt: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  reportedAt: Date | null;
  @Field(() => Marking)
  marking: Marking;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
  @Field(() => GraphQLDateTime)
  updatedAt: Date;
}

export const ThreatActorConnection = Connection(ThreatActor, "ThreatActor");
export const IncidentConnection = Connection(Incident, "Incident");
