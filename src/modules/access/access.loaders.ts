import { and, asc, eq, inArray } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import type { Db } from "../../db/client";
import { byKey, grouped, type LoadersOf } from "../../shared/loaders";
import { inUuids, uuidList } from "../../shared/prepared";
import {
  accounts,
  contacts,
  organizations,
  regionalMemberships,
  sharingGroupMembers,
  sharingGroups,
} from "./access.table";
import { toAccount, toContact, toOrganization, toSharingGroup } from "./access.mappers";
import { visibleTo } from "./tlp";
import { isOperatorAdmin, type ViewerIdentity } from "./viewer";

const member = alias(organizations, "member");

/** What a loader factory gets: the operation's database and viewer. */
export interface LoaderDeps {
  readonly db: Db;
  readonly viewer: ViewerIdentity;
}

/** Organisations by id, prepared once per database: nearly every read names an owner. */
const organizationsByDb = new WeakMap<Db, ReturnType<typeof prepareOrganizations>>();
const prepareOrganizations = (db: Db) =>
  db.select().from(organizations).where(inUuids(organizations.id)).prepare("organizations_by_id");
function organizationsById(db: Db) {
  let q = organizationsByDb.get(db);
  if (!q) organizationsByDb.set(db, (q = prepareOrganizations(db)));
  return q;
}

/**
 * The access module's loaders, one factory each, made per operation and viewer (on first use, see
 * `lazyLoaders`). Every loader answers only with what this viewer may see; a key it may not see
 * loads as null, exactly like a missing one.
 */
export const accessLoaders = {
  organization: ({ db }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) => (await organizationsById(db).execute(uuidList(ids))).map(toOrganization),
      (o) => o.dbId,
    ),
  account: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) => {
        // Accounts are visible to their own organisation and to the operator's admins.
        const rows = await db
          .select()
          .from(accounts)
          .where(inArray(accounts.id, [...ids]));
        return rows.filter((a) => isOperatorAdmin(viewer) || a.organizationId === viewer.organizationId).map(toAccount);
      },
      (a) => a.dbId,
    ),
  sharingGroup: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) => {
        // A group is visible to its owner and its members: exactly the viewer's groupIds.
        const mine = ids.filter((id) => viewer.groupIds.includes(id));
        if (mine.length === 0) return [];
        return (await db.select().from(sharingGroups).where(inArray(sharingGroups.id, mine))).map(toSharingGroup);
      },
      (g) => g.dbId,
    ),
  contact: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(contacts)
            .where(and(inArray(contacts.id, [...ids]), visibleTo(viewer, contacts)))
        ).map(toContact),
      (c) => c.dbId,
    ),
  contactsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (orgIds: readonly string[]) =>
        (
          await db
            .select()
            .from(contacts)
            .where(and(inArray(contacts.ownerOrgId, [...orgIds]), visibleTo(viewer, contacts)))
            .orderBy(asc(contacts.kind), asc(contacts.name), asc(contacts.id))
        ).map(toContact),
      (c) => c.organizationDbId,
    ),
  regionsOf: ({ db }: LoaderDeps) =>
    grouped(
      async (memberIds: readonly string[]) =>
        (
          await db
            .select({ key: regionalMemberships.memberId, org: organizations })
            .from(regionalMemberships)
            .innerJoin(organizations, eq(organizations.id, regionalMemberships.regionId))
            .where(inArray(regionalMemberships.memberId, [...memberIds]))
            .orderBy(asc(organizations.name))
        ).map((r) => ({ key: r.key, org: toOrganization(r.org) })),
      (r) => r.key,
    ),
  membersOf: ({ db }: LoaderDeps) =>
    grouped(
      async (regionIds: readonly string[]) =>
        (
          await db
            .select({ key: regionalMemberships.regionId, org: member })
            .from(regionalMemberships)
            .innerJoin(member, eq(member.id, regionalMemberships.memberId))
            .where(inArray(regionalMemberships.regionId, [...regionIds]))
            .orderBy(asc(member.name))
        ).map((r) => ({ key: r.key, org: toOrganization(r.org) })),
      (r) => r.key,
    ),
  groupMembers: ({ db }: LoaderDeps) =>
    grouped(
      async (groupIds: readonly string[]) =>
        (
          await db
            .select({ key: sharingGroupMembers.groupId, org: organizations })
            .from(sharingGroupMembers)
            .innerJoin(organizations, eq(organizations.id, sharingGroupMembers.organizationId))
            .where(inArray(sharingGroupMembers.groupId, [...groupIds]))
            .orderBy(asc(organizations.name))
        ).map((r) => ({ key: r.key, org: toOrganization(r.org) })),
      (r) => r.key,
    ),
  groupsOwnedBy: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (orgIds: readonly string[]) =>
        (
          await db
            .select()
            .from(sharingGroups)
            .where(inArray(sharingGroups.ownerOrgId, [...orgIds]))
            .orderBy(asc(sharingGroups.name))
        )
          .filter((g) => viewer.groupIds.includes(g.id))
          .map(toSharingGroup),
      (g) => g.ownerDbId,
    ),
};

export type AccessLoaders = LoadersOf<typeof accessLoaders>;
