import { createReadStream, existsSync } from "node:fs";
import { resolve } from "node:path";
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
import { AuthService } from "./modules/access";
import { feeds, ingest, parserFor } from "./modules/indicators";
import { readItems } from "./modules/indicators/ingest.service";
import { withSourceGroups } from "./modules/indicators/ingest.run";
import type { Logger } from "./shared/logger";
import {
  DEMO_CONTACTS,
  DEMO_FEEDS,
  demoToken,
  DEMO_GROUPS,
  DEMO_MEMBERSHIPS,
  DEMO_ORGANIZATIONS,
  DEMO_TRENDS_CONSENT,
  demoAccounts,
  demoId,
  demoIncidents,
} from "../seeds/demo-world";
import { incidents } from "./modules/incidents";
import { trendsSettings } from "./modules/trends";

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
    // Incidents over the last twelve weeks (the rollup triggers count them as they go in), and
    // varied trends consent, so the /trends page has something to show.
    const thisMonday = new Date();
    thisMonday.setUTCHours(0, 0, 0, 0);
    thisMonday.setUTCDate(thisMonday.getUTCDate() - ((thisMonday.getUTCDay() + 6) % 7));
    await tx
      .insert(incidents)
      .values(
        demoIncidents().map((i) => {
          const occurredAt = new Date(thisMonday.getTime() + ((i.day - 7 * i.weeksAgo) * 24 + 10) * 3_600_000);
          return {
            id: demoId(`incident ${i.key}`),
            ownerOrgId: orgId(i.org),
            tlp: i.tlp,
            audienceOrgs: i.tlp === "RED" ? [orgId("ncc")] : [],
            title: i.title,
            rsitClass: i.rsitClass,
            rsitType: i.rsitType,
            severity: i.severity,
            sectors: i.sectors,
            countries: i.countries,
            occurredAt,
            detectedAt: occurredAt,
            createdBy: demoId(`account ${i.org}-analyst`),
          };
        }),
      )
      .onConflictDoNothing();
    await tx
      .insert(trendsSettings)
      .values(Object.entries(DEMO_TRENDS_CONSENT).map(([org, consent]) => ({ organizationId: orgId(org), consent })))
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

/**
 * Registers the demo feeds and ingests the real fixtures into them, each as its analyst would.
 * Runs once per feed (a feed that exists is left alone). The fixtures are read in place from
 * ../shared/fixtures; without them the demo world simply has no indicators.
 */
export async function seedDemoFeeds(db: Db, log: Logger, fixturesDir = resolve(process.cwd(), "../shared/fixtures")) {
  if (!existsSync(fixturesDir)) {
    log.warn({ fixturesDir }, "fixtures not found: the demo world gets no indicators");
    return 0;
  }
  const auth = new AuthService(db, 0);
  let loaded = 0;
  for (const f of DEMO_FEEDS) {
    const [row] = await db
      .insert(feeds)
      .values({
        id: demoId(`feed ${f.name}`),
        ownerOrgId: orgId(f.org),
        name: f.name,
        format: f.format,
        description: "Demo feed filled from public fixtures",
        defaultTlp: f.tlp,
        defaultAudienceOrgs: (f.audienceOrgs ?? []).map(orgId),
        defaultAudienceGroups: (f.audienceGroups ?? []).map(groupId),
      })
      .onConflictDoNothing()
      .returning();
    if (!row) continue;
    const viewer = await auth.authenticate(`Bearer ${demoToken(`${f.org}-analyst`)}`);
    if (!viewer) continue;
    for (const file of f.files) {
      const path = resolve(fixturesDir, file);
      if (!existsSync(path)) continue;
      const items = withSourceGroups(readItems(parserFor(f.format)(createReadStream(path))), viewer, row);
      const report = await ingest(db, viewer, row, items);
      loaded += report.reports.created;
    }
  }
  return loaded;
}
