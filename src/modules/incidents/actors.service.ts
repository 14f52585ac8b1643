import { and, asc, count, sql, type SQL } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { badInput, conflict } from "../../shared/errors";
import { toGlobalId } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { Role } from "../access/access.enums";
import { resolveMarking } from "../access/marking.service";
import { visibleTo } from "../access/tlp";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { threatActors } from "./incidents.table";
import { TYPE, toThreatActor } from "./incidents.mappers";
import type { CreateThreatActorInput, ThreatActorFilter } from "./incidents.input";
import type { ThreatActor } from "./incidents.type";

const STIX_ACTOR_ID = /^(threat-actor|intrusion-set)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const textArray = (items: readonly string[]): SQL =>
  sql`array[${sql.join(
    items.map((i) => sql`${i}`),
    sql`, `,
  )}]::text[]`;

/**
 * Any analyst creates an actor, owned by their organisation and marked like any record. A name or
 * alias already used (case-insensitively) by an actor the caller may see is refused with CONFLICT
 * naming that actor; actors the caller may not see are never consulted, so the answer reveals
 * nothing about them (two organisations that cannot see each other's actors may both name one
 * "APT99"). Concurrent creations of the same name wait for each other (a transaction-scoped
 * advisory lock per name), so the check is not raced.
 */
export async function createThreatActor(tx: Tx, viewer: ViewerIdentity, input: CreateThreatActorInput) {
  assertRole(viewer, Role.ANALYST);
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw badInput("input.name", "must be 1 to 200 characters");
  const seen = new Set([name.toLowerCase()]);
  const aliases: string[] = [];
  for (const raw of input.aliases) {
    const a = raw.trim();
    if (a.length < 1 || a.length > 200) throw badInput("input.aliases", "each alias must be 1 to 200 characters");
    if (seen.has(a.toLowerCase())) continue;
    seen.add(a.toLowerCase());
    aliases.push(a);
  }
  if (input.stixId && !STIX_ACTOR_ID.test(input.stixId))
    throw badInput("input.stixId", "must be threat-actor--<uuid> or intrusion-set--<uuid>");
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  const names = [...seen].sort();
  for (const n of names) await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`threat-actor:${n}`}))`);
  const [existing] = await tx
    .select()
    .from(threatActors)
    .where(and(sql`${threatActors.namesLower} && ${textArray(names)}`, visibleTo(viewer, threatActors)))
    .orderBy(asc(threatActors.createdAt), asc(threatActors.id))
    .limit(1);
  if (existing) {
    const clash = existing.namesLower.find((n) => seen.has(n)) ?? existing.name;
    const id = toGlobalId(TYPE.ThreatActor, existing.id);
    throw conflict(`A threat actor you can see already has the name or alias "${clash}": ${existing.name} (${id})`, {
      existingId: id,
      existingName: existing.name,
    });
  }
  const [row] = await tx
    .insert(threatActors)
    .values({
      ownerOrgId: viewer.organizationId,
      tlp: m.tlp,
      audienceOrgs: m.audienceOrgs,
      audienceGroups: m.audienceGroups,
      kind: input.kind,
      name,
      aliases,
      namesLower: [name.toLowerCase(), ...aliases.map((a) => a.toLowerCase())],
      description: input.description,
      stixId: input.stixId ?? null,
      createdBy: viewer.accountId,
      createdAt: new Date(),
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return toThreatActor(row);
}

/** Actors the viewer may see, by name; `search` matches part of a name or alias, any case. */
export function listThreatActors(
  db: Db,
  viewer: ViewerIdentity,
  filter: ThreatActorFilter | null | undefined,
  args: PageArgs,
  maxPageSize: number,
) {
  const q = filter?.search?.trim().toLowerCase();
  const where = and(
    visibleTo(viewer, threatActors),
    q ? sql`exists (select 1 from unnest(${threatActors.namesLower}) n where strpos(n, ${q}) > 0)` : undefined,
  );
  return paginate({
    args,
    maxPageSize,
    orderBy: [threatActors.name, threatActors.id],
    keyOf: (a: ThreatActor) => [a.name, a.dbId],
    fetch: async (after, limit) =>
      (
        await db
          .select()
          .from(threatActors)
          .where(and(where, after))
          .orderBy(asc(threatActors.name), asc(threatActors.id))
          .limit(limit)
      ).map(toThreatActor),
    count: async () => (await db.select({ n: count() }).from(threatActors).where(where))[0]?.n ?? 0,
  });
}
