import { Field, ID, InputType, ObjectType } from "type-graphql";
import { GraphQLDateTime, GraphQLJSONObject, GraphQLSafeInt } from "graphql-scalars";
import { Connection } from "../../shared/pagination";

@ObjectType({ description: "One entry of the hash-chained audit log." })
export class AuditEntry {
  @Field(() => GraphQLSafeInt)
  seq: number;
  @Field(() => GraphQLDateTime)
  at: Date;
  @Field(() => ID, { nullable: true, description: "The acting account's global id." })
  accountId: string | null;
  @Field(() => ID, { nullable: true, description: "The acting organisation's global id." })
  organizationId: string | null;
  @Field(() => String)
  operation: string;
  @Field(() => [String], { description: "Global ids of the records the operation touched or aimed at." })
  targetIds: string[];
  @Field(() => String, { description: "SUCCESS, or the error code the operation ended with." })
  outcome: string;
  @Field(() => GraphQLJSONObject, { nullable: true })
  detail: Record<string, unknown> | null;
  @Field(() => String, { description: "SHA-256 of the previous entry's hash and this entry's content." })
  hash: string;
}

@InputType()
export class AuditFilter {
  @Field(() => ID, { nullable: true, description: "Operator admins only: one organisation's entries." })
  organizationId?: string | null;
  @Field(() => String, { nullable: true })
  operation?: string | null;
}

export const AuditEntryConnection = Connection(AuditEntry, "AuditEntry");
