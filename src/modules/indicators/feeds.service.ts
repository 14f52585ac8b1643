import { and, asc, eq } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { badInput, conflict, notFound } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { resolveMarking } from "../access/marking.service";
import { isUniqueViolation } from "../access/organizations.service";
import { Role } from "../access/access.enums";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import type { Tlp } from "../access/tlp";
import { feeds } from "./indicators.table";
import { Feed } from "./indicators.type";
import type { CreateFeedInput } from "./indicators.input";

export function toFeed(r: typeof feeds.$inferSelect): Feed {
  return Object.assign(new Feed(), {
    id: toGlobalId("Feed", r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    name: r.name,
    format: r.format,
    description: r.description,
    defaultTlp: r.defaultTlp as Tlp,
    defaultConfidence: r.defaultConfidence,
    lastIngestAt: r.lastIngestAt,
    ingestCount: r.ingestCount,
    lastIngestCounts: r.lastIngestCounts ?? null,
    createdAt: r.createdAt,
  });
}

/** Analysts register feeds for their own organisation. */
export async function createFeed(tx: Tx, viewer: ViewerIdentity, input: CreateFeedInput): Promise<Feed> {
  assertRole(viewer, Role.ANALYST);
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw badInput("input.name", "must be 1 to 200 characters");
  const c = input.defaultConfidence;
  if (c != null && !(Number.isInteger(c) && c >= 0 && c <= 100))
    throw badInput("input.defaultConfidence", "must be an integer from 0 to 100");
  const m = await resolveMarking(tx, viewer, input.defaultMarking, "input.defaultMarking");
  try {
    const [row] = await tx
      .insert(feeds)
      .values({
        ownerOrgId: viewer.organizationId,
        name,
        format: input.format,
        description: input.description,
        defaultTlp: m.tlp,
        defaultAudienceOrgs: m.audienceOrgs,
        defaultAudienceGroups: m.audienceGroups,
        defaultConfidence: c ?? null,
      })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return toFeed(row);
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict("Your organisation already has a feed with this name");
    throw e;
  }
}

/** Feeds are their owner's business: anyone else gets NOT_FOUND, as for a feed that does not exist. */
export async function ownFeed(db: Db | Tx, viewer: ViewerIdentity, globalId: string, field = "feedId") {
  const id = idOf("Feed", globalId);
  const row = id
    ? (
        await db
          .select()
          .from(feeds)
          .where(and(eq(feeds.id, id), eq(feeds.ownerOrgId, viewer.organizationId)))
      )[0]
    : undefined;
  if (!row) throw field === "feedId" ? notFound("Feed") : badInput(field, "unknown feed");
  return row;
}

export async function feedsOf(db: Db, viewer: ViewerIdentity): Promise<Feed[]> {
  return (
    await db.select().from(feeds).where(eq(feeds.ownerOrgId, viewer.organizationId)).orderBy(asc(feeds.name))
  ).map(toFeed);
}
