import { eq, inArray } from "drizzle-orm";
import type { Tx } from "../../db/client";
import { badInput, conflict, notFound } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { organizations, sharingGroupMembers, sharingGroups } from "./access.table";
import { toSharingGroup } from "./access.mappers";
import type { SharingGroupInput, UpdateSharingGroupInput } from "./access.input";
import { isUniqueViolation } from "./organizations.service";
import { assertRole, type ViewerIdentity } from "./viewer";
import { Role } from "./access.enums";

async function memberIdsOf(tx: Tx, globalIds: string[]): Promise<string[]> {
  const ids = [...new Set(globalIds.map((g) => idOf("Organization", g) ?? badId(g)))];
  if (ids.length === 0) return [];
  const found = new Set(
    (await tx.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, ids))).map(
      (r) => r.id,
    ),
  );
  const missing = ids.find((id) => !found.has(id));
  if (missing) badId(toGlobalId("Organization", missing));
  return ids;
}

function badId(g: string): never {
  throw badInput("memberIds", `unknown organisation ${g}`);
}

function checkName(name: string) {
  const n = name.trim();
  if (n.length < 1 || n.length > 200) throw badInput("name", "must be 1 to 200 characters");
  return n;
}

async function insertMembers(tx: Tx, groupId: string, memberIds: string[]) {
  if (memberIds.length)
    await tx.insert(sharingGroupMembers).values(memberIds.map((organizationId) => ({ groupId, organizationId })));
}

/** Admins create groups for their own organisation. */
export async function createSharingGroup(tx: Tx, viewer: ViewerIdentity, input: SharingGroupInput) {
  assertRole(viewer, Role.ADMIN);
  const members = await memberIdsOf(tx, input.memberIds);
  let row;
  try {
    [row] = await tx
      .insert(sharingGroups)
      .values({
        ownerOrgId: viewer.organizationId,
        name: checkName(input.name),
        description: input.description,
        membersVisible: input.membersVisible,
      })
      .returning();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict("Your organisation already has a sharing group with this name");
    throw e;
  }
  if (!row) throw new Error("insert returned no row");
  await insertMembers(tx, row.id, members);
  return toSharingGroup(row);
}

/** Only the owner organisation's admins change a group; for anyone else it does not exist. */
export async function updateSharingGroup(
  tx: Tx,
  viewer: ViewerIdentity,
  globalId: string,
  input: UpdateSharingGroupInput,
) {
  const id = idOf("SharingGroup", globalId);
  const current =
    id && viewer.groupIds.includes(id)
      ? (await tx.select().from(sharingGroups).where(eq(sharingGroups.id, id)))[0]
      : undefined;
  if (!current) throw notFound("SharingGroup");
  if (current.ownerOrgId !== viewer.organizationId) throw notFound("SharingGroup");
  assertRole(viewer, Role.ADMIN);
  const set: Partial<typeof sharingGroups.$inferInsert> = {};
  if (input.name != null) set.name = checkName(input.name);
  if (input.description != null) set.description = input.description;
  if (input.membersVisible != null) set.membersVisible = input.membersVisible;
  let row = current;
  if (Object.keys(set).length) {
    try {
      row = (await tx.update(sharingGroups).set(set).where(eq(sharingGroups.id, current.id)).returning())[0] ?? current;
    } catch (e) {
      if (isUniqueViolation(e)) throw conflict("Your organisation already has a sharing group with this name");
      throw e;
    }
  }
  if (input.memberIds) {
    const members = await memberIdsOf(tx, input.memberIds);
    await tx.delete(sharingGroupMembers).where(eq(sharingGroupMembers.groupId, current.id));
    await insertMembers(tx, current.id, members);
  }
  return toSharingGroup(row);
}
