import { Field, Int, ObjectType } from "type-graphql";
import { GraphQLDateTime, GraphQLJSON } from "graphql-scalars";
import { Marking } from "../access/access.type";
import { RevisionAction } from "./revision-action";

@ObjectType({
  description:
    "One field's change in a revision, values as JSON. Compared with the previous revision the viewer may see; a reference to a record the viewer may not see shows as null.",
})
export class FieldChange {
  @Field(() => String)
  field: string;
  @Field(() => GraphQLJSON, { nullable: true })
  old: unknown;
  @Field(() => GraphQLJSON, { nullable: true })
  new: unknown;
}

@ObjectType({
  description:
    "An immutable revision of an incident, assessment or opinion. A viewer sees the revisions whose marking it may see, numbered 1, 2, ... among those: the owner sees them all, so its numbers are the ones `expectedRevision` takes.",
})
export class Revision {
  ownerDbId: string;
  authorAccountDbId: string;
  authorOrgDbId: string;
  @Field(() => Int)
  number: number;
  @Field(() => RevisionAction, { description: "The first revision a viewer may see shows as CREATE." })
  action: RevisionAction;
  @Field(() => String)
  reason: string;
  @Field(() => GraphQLDateTime)
  recordedAt: Date;
  @Field(() => Marking, { description: "The marking this revision was made under." })
  marking: Marking;
  @Field(() => [FieldChange])
  changes: FieldChange[];
}
