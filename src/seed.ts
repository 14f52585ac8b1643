import { sql } from "drizzle-orm";
import type { Db } from "./db/client";
import {
  accounts,
  apiTokens,
  contacts,
  displayPrefix,
  hashToken,
  organizations,
  regionalMemberships,
  sharingGroupMembers,
  sharingGroups,
} from "./modules/access";
import { appendAudit } from "./modules/audit";
import {
  DEMO_CONTACTS,
  DEMO_GROUPS,
  DEMO_MEMBERSHIPS,
  DEMO_ORGANIZATIONS,
  demoAccounts,
  demoId,
} from "../seeds/demo-world";

const orgId = (key: string) => demoId(`org ${key}`);
const groupId = (key: string) => demoId(`group ${key}`);

/**
 * Loads the demo world from seeds/ in one transaction, set-based and idempotent: a second run
 * inserts nothing (fixed ids, ON CONFLICT DO NOTHING). Returns true when it inserted anything.
 */
export async function seedDemoWorld(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx
      .insert(organizations)
      .values(
        DEMO_ORGANIZATIONS.map((o) => ({
          id: orgId(o.key),
          kind: o.kind,
          name: o.name,
          countryCode: o.countryCode ?? null,
        })),
      )
      .onConflictDoNothing()
      .returning({ id: organizations.id });
    if (inserted.length === 0) return false;
    await tx
      .insert(regionalMemberships)
      .values(DEMO_MEMBERSHIPS.map(([r, m]) => ({ regionId: orgId(r), memberId: orgId(m) })))
      .onConflictDoNothing();
    const people = demoAccounts();
    await tx
      .insert(accounts)
      .values(people.map((a) => ({ id: a.id, organizationId: orgId(a.org), name: a.name, role: a.role })))
      .onConflictDoNothing();
    await tx
      .insert(apiTokens)
      .values(
        people.map((a) => ({
          id: demoId(`token ${a.token}`),
          accountId: a.id,
          name: "demo",
          prefix: displayPrefix(a.token),
          tokenHash: hashToken(a.token),
          expiresAt: null,
        })),
      )
      .onConflictDoNothing();
    await tx
      .insert(sharingGroups)
      .values(
        DEMO_GROUPS.map((g) => ({
          id: groupId(g.key),
          ownerOrgId: orgId(g.owner),
          name: g.name,
          description: g.description,
          membersVisible: g.membersVisible,
        })),
      )
      .onConflictDoNothing();
    await tx
      .insert(sharingGroupMembers)
      .values(DEMO_GROUPS.flatMap((g) => g.members.map((m) => ({ groupId: groupId(g.key), organizationId: orgId(m) }))))
      .onConflictDoNothing();
    await tx
      .insert(contacts)
      .values(
        DEMO_CONTACTS.map((c, i) => ({
          id: demoId(`contact ${i} ${c.name}`),
          ownerOrgId: orgId(c.org),
          kind: c.kind,
          name: c.name,
          title: c.title,
          channels: c.channels,
          languages: c.languages,
          timeZone: c.timeZone,
          available24x7: c.available24x7,
          lastVerifiedAt: sql`now()` as unknown as Date,
          tlp: c.tlp,
          audienceOrgs: (c.audienceOrgs ?? []).map(orgId),
          audienceGroups: (c.audienceGroups ?? []).map(groupId),
        })),
      )
      .onConflictDoNothing();
    await appendAudit(tx, {
      accountId: null,
      organizationId: null,
      operation: "seedDemoWorld",
      targetIds: [],
      outcome: "SUCCESS",
    });
    return true;
  });
}

export { orgId as demoOrgId, groupId as demoGroupId };
