import { Field, ID, InputType, Int } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { MarkingInput } from "../access/access.input";
import { Tlp } from "../access/tlp";
import { ObservableType } from "./normalize";
import { FeedFormat } from "./indicators.enums";

@InputType()
export class CreateFeedInput {
  @Field(() => String)
  name: string;
  @Field(() => FeedFormat)
  format: keyof typeof FeedFormat;
  @Field(() => String, { defaultValue: "" })
  description: string;
  @Field(() => MarkingInput, { description: "TLP and audience for items that carry none." })
  defaultMarking: MarkingInput;
  @Field(() => Int, { nullable: true, description: "Confidence (0-100) for items that carry none." })
  defaultConfidence?: number | null;
}

@InputType()
export class IndicatorFilter {
  @Field(() => [ObservableType], { nullable: true })
  types?: ObservableType[] | null;
  @Field(() => [ID], { nullable: true, description: "Only indicators with a visible report from one of these feeds." })
  feedIds?: string[] | null;
  @Field(() => [ID], {
    nullable: true,
    description: "Only indicators with a visible report by one of these organisations.",
  })
  ownerIds?: string[] | null;
  @Field(() => Int, { nullable: true, description: "Only indicators with a visible report at least this confident." })
  minConfidence?: number | null;
  @Field(() => GraphQLDateTime, {
    nullable: true,
    description: "Only indicators last seen (in a visible report) since then.",
  })
  seenSince?: Date | null;
  @Field(() => String, { nullable: true })
  label?: string | null;
  @Field(() => [Tlp], { nullable: true })
  tlps?: Tlp[] | null;
}
