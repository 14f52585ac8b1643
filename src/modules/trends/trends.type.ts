import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { TrendDimension, TrendInterval, TrendMetric, TrendsConsent } from "./trends.enums";

@InputType()
export class TrendsInput {
  @Field(() => TrendMetric)
  metric: TrendMetric;
  @Field(() => TrendInterval)
  interval: TrendInterval;
  @Field(() => GraphQLDateTime, { description: "Start of the window (inclusive): a bucket edge of the interval." })
  from: Date;
  @Field(() => GraphQLDateTime, { description: "End of the window (exclusive): a bucket edge of the interval." })
  to: Date;
  @Field(() => ID, {
    nullable: true,
    description: "A regional body: its member states' contributions. Omitted: the whole hub (the operator only).",
  })
  scopeId?: string | null;
  @Field(() => [TrendDimension], { defaultValue: [], description: "Zero or more dimensions, each at most once." })
  groupBy: TrendDimension[];
}

@ObjectType({
  description:
    "One cell: the records of a bucket with one combination of grouped values. Suppressed (count and contributors withheld) when fewer than k organisations contributed, including none.",
})
export class TrendCell {
  @Field(() => [String], {
    nullable: "items",
    description:
      "The grouped values, in groupBy order (as the axes list them); null stands for none given (or, for COUNTRY, not a member state; for THREAT_ACTOR, no countable attribution).",
  })
  key: (string | null)[];
  @Field(() => Int, { nullable: true, description: "Records counted; null when suppressed." })
  count: number | null;
  @Field(() => Int, { nullable: true, description: "Distinct contributing organisations; null when suppressed." })
  contributors: number | null;
  @Field(() => Boolean)
  suppressed: boolean;
}

@ObjectType()
export class TrendBucket {
  @Field(() => GraphQLDateTime)
  start: Date;
  @Field(() => GraphQLDateTime, { description: "Exclusive." })
  end: Date;
  @Field(() => [TrendCell], {
    description: "Every combination of the grouped values, in the same order in every bucket.",
  })
  cells: TrendCell[];
}

@ObjectType()
export class TrendAxis {
  @Field(() => TrendDimension)
  dimension: TrendDimension;
  @Field(() => [String], {
    nullable: "items",
    description:
      "Fixed for enumerated dimensions; for SECTOR, incidents' COUNTRY and THREAT_ACTOR (the actors' global ids), the values at least k organisations contributed over the window. null: none given / not a member state / no countable attribution.",
  })
  values: (string | null)[];
  @Field(() => [String], {
    nullable: "items",
    description:
      "What to show for each value, in the same order: the actor's name for THREAT_ACTOR, the value itself for the other dimensions; null for null.",
  })
  labels: (string | null)[];
}

@ObjectType({ description: "k-anonymous counts over time. The same for every account allowed to ask for the scope." })
export class Trends {
  @Field(() => TrendMetric)
  metric: TrendMetric;
  @Field(() => TrendInterval)
  interval: TrendInterval;
  @Field(() => GraphQLDateTime)
  from: Date;
  @Field(() => GraphQLDateTime)
  to: Date;
  @Field(() => ID, { nullable: true, description: "The regional body; null for the whole hub." })
  scopeId: string | null;
  @Field(() => Int, { description: "Cells with fewer distinct contributing organisations are suppressed." })
  k: number;
  @Field(() => [TrendDimension])
  groupBy: TrendDimension[];
  @Field(() => [TrendAxis], { description: "Each grouped dimension with its values, in the order cells combine them." })
  axes: TrendAxis[];
  @Field(() => [TrendBucket])
  buckets: TrendBucket[];
}

@ObjectType({ description: "An organisation's trends settings; only its own admins (and the operator's) see them." })
export class TrendsSettings {
  @Field(() => TrendsConsent, { description: "What the hub may count of this organisation's records." })
  consent: TrendsConsent;
  @Field(() => Int, {
    nullable: true,
    description: "Regional bodies: the k their scope uses (at least the operator's). Null for other organisations.",
  })
  scopeK: number | null;
  @Field(() => Int, { description: "The operator's k, the floor for every scope." })
  defaultK: number;
}
