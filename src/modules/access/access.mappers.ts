import { toGlobalId } from "../../shared/ids";
import type { accounts, apiTokens, contacts, organizations, sharingGroups } from "./access.table";
import { Account, ApiToken, Contact, Organization, SharingGroup } from "./access.type";
import type { RoleValue, ContactKindValue } from "./access.enums";
import type { OrganizationKind, Tlp } from "./tlp";

type Row<T extends { $inferSelect: unknown }> = T["$inferSelect"];

export const TYPE = {
  Organization: "Organization",
  Account: "Account",
  ApiToken: "ApiToken",
  SharingGroup: "SharingGroup",
  Contact: "Contact",
} as const;

export function toOrganization(r: Row<typeof organizations>): Organization {
  return Object.assign(new Organization(), {
    id: toGlobalId(TYPE.Organization, r.id),
    dbId: r.id,
    name: r.name,
    kind: r.kind as OrganizationKind,
    countryCode: r.countryCode,
    createdAt: r.createdAt,
  });
}

export function toAccount(r: Row<typeof accounts>): Account {
  return Object.assign(new Account(), {
    id: toGlobalId(TYPE.Account, r.id),
    dbId: r.id,
    organizationDbId: r.organizationId,
    name: r.name,
    role: r.role as RoleValue,
    isService: r.isService,
    createdAt: r.createdAt,
    disabledAt: r.disabledAt,
  });
}

export function toApiToken(r: Row<typeof apiTokens>): ApiToken {
  return Object.assign(new ApiToken(), {
    id: toGlobalId(TYPE.ApiToken, r.id),
    dbId: r.id,
    name: r.name,
    prefix: r.prefix,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    revokedAt: r.revokedAt,
    lastUsedAt: r.lastUsedAt,
  });
}

export function toSharingGroup(r: Row<typeof sharingGroups>): SharingGroup {
  return Object.assign(new SharingGroup(), {
    id: toGlobalId(TYPE.SharingGroup, r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    name: r.name,
    description: r.description,
    membersVisible: r.membersVisible,
  });
}

export function toContact(r: Row<typeof contacts>): Contact {
  return Object.assign(new Contact(), {
    id: toGlobalId(TYPE.Contact, r.id),
    dbId: r.id,
    organizationDbId: r.ownerOrgId,
    kind: r.kind as ContactKindValue,
    name: r.name,
    title: r.title,
    channels: r.channels,
    languages: r.languages,
    timeZone: r.timeZone,
    available24x7: r.available24x7,
    lastVerifiedAt: r.lastVerifiedAt,
    marking: {
      tlp: r.tlp as Tlp,
      ownerDbId: r.ownerOrgId,
      audienceOrgDbIds: r.audienceOrgs,
      audienceGroupDbIds: r.audienceGroups,
    },
  });
}
