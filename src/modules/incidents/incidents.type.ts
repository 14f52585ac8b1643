import { Directive, Field, ObjectType, registerEnumType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { Connection } from "../../shared/pagination";
import { Marking, Node } from "../access/access.type";
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
}

export const ThreatActorConnection = Connection(ThreatActor, "ThreatActor");
