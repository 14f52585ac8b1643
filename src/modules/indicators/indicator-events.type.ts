import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { Tlp } from "../access/tlp";
import { EventKind } from "../realtime";
import { Indicator } from "./indicators.type";
import { ObservableType } from "./normalize";

@InputType({ description: "Which indicator events to receive; every field narrows, all must hold." })
export class IndicatorEventFilter {
  @Field(() => [ObservableType], { nullable: true })
  types?: ObservableType[] | null;
  @Field(() => Int, { nullable: true, description: "Only indicators with a visible report at least this confident." })
  minConfidence?: number | null;
  @Field(() => [ID], { nullable: true, description: "Only indicators with a visible report from one of these feeds." })
  feedIds?: string[] | null;
  @Field(() => [ID], {
    nullable: true,
    description: "Only indicators with a visible report by one of these organisations.",
  })
  ownerIds?: string[] | null;
  @Field(() => [Tlp], { nullable: true, description: "Only indicators with a visible report at one of these levels." })
  tlps?: Tlp[] | null;
}

@ObjectType({
  description:
    "A change to an indicator, as you may see it when it is delivered. The report-level filters (confidence, feeds, owners, TLP) apply to CREATED and UPDATED, which carry the indicator; REVOKED and REMOVED carry only the id and are filtered by type.",
})
export class IndicatorEvent {
  @Field(() => EventKind)
  kind: EventKind;
  @Field(() => String, { description: "Resume after this event with indicatorEvents(after: cursor)." })
  cursor: string;
  @Field(() => ID, { description: "The indicator's id (as in Indicator.id and node(id))." })
  id: string;
  @Field(() => Indicator, {
    nullable: true,
    description:
      "The indicator as you may see it now, computed from the reports and sightings you may see, like the queries; null for REVOKED and REMOVED.",
  })
  indicator: Indicator | null;
}
