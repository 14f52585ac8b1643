import { Field, InputType } from "type-graphql";
import { MarkingInput } from "../access/access.input";
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
