import DataLoader from "dataloader";
import { and, asc, inArray, isNull, sql } from "drizzle-orm";
import { toGlobalId } from "../../shared/ids";
import { byKey, grouped, type LoadersOf } from "../../shared/loaders";
import type { Tlp } from "../access/tlp";
import type { LoaderDeps } from "../access/access.loaders";
import { feeds, reports, sightings } from "./indicators.table";
import { IndicatorReport, Sighting } from "./indicators.type";
import { indicatorsById, liveVisibleReports, liveVisibleSightings } from "./indicators.service";
import { toFeed } from "./feeds.service";

export function toReport(r: typeof reports.$inferSelect): IndicatorReport {
  return Object.assign(new IndicatorReport(), {
    id: toGlobalId("Report", r.id),
    dbId: r.id,
    observableDbId: r.observableId,
    ownerDbId: r.ownerOrgId,
    feedDbId: r.feedId,
    tlp: r.tlp as Tlp,
    confidence: r.confidence,
    firstSeen: r.firstSeen,
    lastSeen: r.lastSeen,
    validFrom: r.validFrom,
    validUntil: r.validUntil,
    labels: r.labels,
    killChainPhases: r.killChainPhases ?? [],
    description: r.description,
    stixId: r.stixId,
    stixModified: r.stixModified,
  });
}

function toSighting(s: typeof sightings.$inferSelect): Sighting {
  return Object.assign(new Sighting(), {
    id: toGlobalId("Sighting", s.id),
    observableDbId: s.observableId,
    ownerDbId: s.ownerOrgId,
    tlp: s.tlp as Tlp,
    firstSeen: s.firstSeen,
    lastSeen: s.lastSeen,
    count: s.count,
  });
}

/**
 * The indicators module's loaders, one factory each, made per operation and viewer (on first use,
 * see `lazyLoaders`): every one filters by the access rule.
 */
export const indicatorLoaders = {
  indicator: ({ db, viewer }: LoaderDeps) =>
    byKey(
      (ids: readonly number[]) => indicatorsById(db, viewer, ids),
      (i) => i.dbId,
    ),
  reportsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (observableIds: readonly number[]) =>
        (
          await db
            .select()
            .from(reports)
            .where(and(inArray(reports.observableId, [...observableIds]), liveVisibleReports(viewer)))
            .orderBy(asc(reports.id))
        ).map(toReport),
      (r) => r.observableDbId,
    ),
  sightingsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (observableIds: readonly number[]) =>
        (
          await db
            .select()
            .from(sightings)
            .where(and(inArray(sightings.observableId, [...observableIds]), liveVisibleSightings(viewer)))
            .orderBy(asc(sightings.id))
        ).map(toSighting),
      (s) => s.observableDbId,
    ),
  /** Live reports per feed; feeds are only ever shown to their owner. */
  feedReportCount: ({ db }: LoaderDeps) =>
    new DataLoader<string, number>(async (feedIds) => {
      const rows = await db
        .select({ feedId: reports.feedId, n: sql<number>`count(*)::int` })
        .from(reports)
        .where(and(inArray(reports.feedId, [...feedIds]), isNull(reports.revokedAt)))
        .groupBy(reports.feedId);
      const byFeed = new Map(rows.map((r) => [r.feedId, Number(r.n)]));
      return feedIds.map((id) => byFeed.get(id) ?? 0);
    }),
  /** Feed names are shown to the feed's owner only (see IndicatorReport.feed). */
  feed: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(feeds)
            .where(inArray(feeds.id, [...ids]))
        )
          .filter((f) => f.ownerOrgId === viewer.organizationId)
          .map(toFeed),
      (f) => f.dbId,
    ),
};

export type IndicatorLoaders = LoadersOf<typeof indicatorLoaders>;
