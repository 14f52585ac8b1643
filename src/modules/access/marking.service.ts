import { inArray } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { badInput } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { organizations } from "./access.table";
import { Tlp } from "./tlp";
import type { ViewerIdentity } from "./viewer";
import type { MarkingInput } from "./access.input";

export interface ResolvedMarking {
  tlp: Tlp;
  audienceOrgs: string[];
  audienceGroups: string[];
}

/**
 * Checks a marking's audience before anything is written: every organisation must exist, and
 * every group must be one the caller's organisation owns or belongs to (any other answers like a
 * group that does not exist). Errors name the field, e.g. `marking.audienceGroupIds`.
 */
export async function resolveMarking(
  tx: Executor,
  viewer: ViewerIdentity,
  input: MarkingInput,
  field = "marking",
): Promise<ResolvedMarking> {
  const orgField = `${field}.audienceOrganizationIds`;
  const groupField = `${field}.audienceGroupIds`;
  const orgIds = decodeAll(input.audienceOrganizationIds, "Organization", orgField);
  const groupIds = decodeAll(input.audienceGroupIds, "SharingGroup", groupField);
  if (input.tlp === Tlp.RED && groupIds.length)
    throw badInput(groupField, "RED is shared with named organisations only, not with sharing groups");
  if (orgIds.length) {
    const found = new Set(
      (await tx.select({ id: organizations.id }).from(organizations).where(inArray(organizations.id, orgIds))).map(
        (r) => r.id,
      ),
    );
    const missing = orgIds.find((id) => !found.has(id));
    if (missing) throw badInput(orgField, `unknown organisation ${toGlobalId("Organization", missing)}`);
  }
  const unknownGroup = groupIds.find((id) => !viewer.groupIds.includes(id));
  if (unknownGroup) throw badInput(groupField, `unknown sharing group ${toGlobalId("SharingGroup", unknownGroup)}`);
  return { tlp: input.tlp, audienceOrgs: orgIds, audienceGroups: groupIds };
}

function decodeAll(globalIds: string[], type: string, field: string): string[] {
  return [
    ...new Set(
      globalIds.map((g) => {
        const id = idOf(type, g);
        if (!id) throw badInput(field, `unknown ${type === "Organization" ? "organisation" : "sharing group"} ${g}`);
        return id;
      }),
    ),
  ];
}
