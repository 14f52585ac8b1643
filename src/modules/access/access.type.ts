import { Directive, Field, ID, InterfaceType, ObjectType } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { Connection } from "../../shared/pagination";
import { ContactKind, Role, type ContactKindValue, type RoleValue } from "./access.enums";
import { OrganizationKind, Tlp } from "./tlp";

@InterfaceType({ description: "An object with a global id (Relay)." })
export abstract class Node {
  @Field(() => ID)
  id: string;
}

// The GraphQL objects below carry the database row (`row`) so field resolvers can load related
// records; `id` is the global id.

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "A member state, regional body, partner or the hub operator." })
export class Organization extends Node {
  dbId: string;
  @Field(() => String)
  name: string;
  @Field(() => OrganizationKind)
  kind: OrganizationKind;
  @Field(() => String, { nullable: true, description: "ISO 3166-1 alpha-2, for member states." })
  countryCode: string | null;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
}

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "A person or service that belongs to one organisation." })
export class Account extends Node {
  dbId: string;
  organizationDbId: string;
  @Field(() => String)
  name: string;
  @Field(() => Role)
  role: RoleValue;
  @Field(() => Boolean)
  isService: boolean;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
  @Field(() => GraphQLDateTime, { nullable: true })
  disabledAt: Date | null;
}

@ObjectType({ description: "An API token. The secret is shown once, when created." })
export class ApiToken {
  @Field(() => ID)
  id: string;
  dbId: string;
  @Field(() => String)
  name: string;
  @Field(() => String, { description: "The token's first characters, to recognise it." })
  prefix: string;
  @Field(() => GraphQLDateTime)
  createdAt: Date;
  @Field(() => GraphQLDateTime, { nullable: true })
  expiresAt: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true })
  revokedAt: Date | null;
  @Field(() => GraphQLDateTime, { nullable: true, description: "Updated at most once a minute." })
  lastUsedAt: Date | null;
}

@ObjectType()
export class CreatedApiToken {
  @Field(() => String, { description: "The secret, shown this once. Send it as `Authorization: Bearer <token>`." })
  token: string;
  @Field(() => ApiToken)
  apiToken: ApiToken;
}

@Directive(`@key(fields: "id")`)
@ObjectType({
  implements: Node,
  description:
    "A named set of organisations, owned by one. Members see the name, not the members, unless the owner allows it.",
})
export class SharingGroup extends Node {
  dbId: string;
  ownerDbId: string;
  @Field(() => String)
  name: string;
  @Field(() => String)
  description: string;
  @Field(() => Boolean)
  membersVisible: boolean;
}

@ObjectType()
export class ContactChannel {
  @Field(() => String, { description: "EMAIL, PHONE, SECURE_VOICE, FAX, SIGNAL, ... as the owner names it." })
  kind: string;
  @Field(() => String)
  value: string;
}

@ObjectType({ description: "Who may see a record. The audience is shown to the owner only." })
export class Marking {
  ownerDbId: string;
  audienceOrgDbIds: string[];
  audienceGroupDbIds: string[];
  @Field(() => Tlp)
  tlp: Tlp;
}

@Directive(`@key(fields: "id")`)
@ObjectType({ implements: Node, description: "A point of contact (OSCE CBM 8, UN POC directory)." })
export class Contact extends Node {
  dbId: string;
  organizationDbId: string;
  @Field(() => ContactKind)
  kind: ContactKindValue;
  @Field(() => String)
  name: string;
  @Field(() => String)
  title: string;
  @Field(() => [ContactChannel])
  channels: ContactChannel[];
  @Field(() => [String], { description: "BCP 47 language tags." })
  languages: string[];
  @Field(() => String, { description: "IANA time zone." })
  timeZone: string;
  @Field(() => Boolean)
  available24x7: boolean;
  @Field(() => GraphQLDateTime, { nullable: true })
  lastVerifiedAt: Date | null;
  @Field(() => Marking)
  marking: Marking;
}

@ObjectType({ description: "Who is asking: the account behind the token, and its organisation." })
export class Viewer {
  accountDbId: string;
  organizationDbId: string;
  @Field(() => Role)
  role: RoleValue;
  @Field(() => GraphQLDateTime, { nullable: true })
  tokenExpiresAt: Date | null;
}

export const OrganizationConnection = Connection(Organization, "Organization");
export const AccountConnection = Connection(Account, "Account");
