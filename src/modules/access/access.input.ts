import { Field, ID, InputType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { ContactKind, Role, type ContactKindValue, type RoleValue } from "./access.enums";
import { OrganizationKind, Tlp } from "./tlp";

@InputType()
export class OrganizationFilter {
  @Field(() => [OrganizationKind], { nullable: true })
  kinds?: OrganizationKind[] | null;
}

@InputType()
export class CreateOrganizationInput {
  @Field(() => String)
  name: string;
  @Field(() => OrganizationKind)
  kind: OrganizationKind;
  @Field(() => String, {
    nullable: true,
    description: "ISO 3166-1 alpha-2; required for member states, refused otherwise.",
  })
  countryCode?: string | null;
}

@InputType()
export class UpdateOrganizationInput {
  @Field(() => String, { nullable: true })
  name?: string | null;
  @Field(() => String, { nullable: true })
  countryCode?: string | null;
}

@InputType()
export class CreateAccountInput {
  @Field(() => ID)
  organizationId: string;
  @Field(() => String)
  name: string;
  @Field(() => Role)
  role: RoleValue;
  @Field(() => Boolean, { defaultValue: false })
  isService: boolean;
}

@InputType()
export class UpdateAccountInput {
  @Field(() => String, { nullable: true })
  name?: string | null;
  @Field(() => Role, { nullable: true })
  role?: RoleValue | null;
}

@InputType()
export class CreateApiTokenInput {
  @Field(() => ID)
  accountId: string;
  @Field(() => String)
  name: string;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Defaults to 90 days from now; must be in the future." })
  expiresAt?: Date | null;
}

@InputType({ description: "Who may see a record: a TLP level and, for restricted levels, an audience." })
export class MarkingInput {
  @Field(() => Tlp)
  tlp: Tlp;
  @Field(() => [ID], { defaultValue: [] })
  audienceOrganizationIds: string[];
  @Field(() => [ID], {
    defaultValue: [],
    description: "Sharing groups; not allowed with RED (named organisations only).",
  })
  audienceGroupIds: string[];
}

@InputType()
export class SharingGroupInput {
  @Field(() => String)
  name: string;
  @Field(() => String, { defaultValue: "" })
  description: string;
  @Field(() => Boolean, { defaultValue: false, description: "Let members see the member list." })
  membersVisible: boolean;
  @Field(() => [ID], { defaultValue: [] })
  memberIds: string[];
}

@InputType()
export class UpdateSharingGroupInput {
  @Field(() => String, { nullable: true })
  name?: string | null;
  @Field(() => String, { nullable: true })
  description?: string | null;
  @Field(() => Boolean, { nullable: true })
  membersVisible?: boolean | null;
  @Field(() => [ID], { nullable: true, description: "Replaces the member list." })
  memberIds?: string[] | null;
}

@InputType()
export class ContactChannelInput {
  @Field(() => String)
  kind: string;
  @Field(() => String)
  value: string;
}

@InputType()
export class ContactInput {
  @Field(() => ContactKind)
  kind: ContactKindValue;
  @Field(() => String)
  name: string;
  @Field(() => String, { defaultValue: "" })
  title: string;
  @Field(() => [ContactChannelInput], { defaultValue: [] })
  channels: ContactChannelInput[];
  @Field(() => [String], { defaultValue: [] })
  languages: string[];
  @Field(() => String)
  timeZone: string;
  @Field(() => Boolean, { defaultValue: false })
  available24x7: boolean;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastVerifiedAt?: Date | null;
  @Field(() => MarkingInput)
  marking: MarkingInput;
}
