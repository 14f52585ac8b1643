import { and, asc, eq } from "drizzle-orm";
import type { LoaderContext } from "../../context";
import type { Db } from "../../db/client";
import type { LoaderDeps } from "../access/access.loaders";
import { visibleTo } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { viewerOf } from "../../context";
import { byKey, grouped, lazyLoaders, type LoadersOf } from "../../shared/loaders";
import { inUuids, perViewer, uuidList } from "../../shared/prepared";
import { incidentIndicators, incidentRevisions, incidents, threatActors, timelineEntries } from "./incidents.table";
import { toIncident, toThreatActor, toTimelineEntry } from "./incidents.mappers";

/**
 * The module's reads by key, each prepared once per viewer (see `perViewer`) with the keys bound as
 * one array (`inUuids`): the same statement text whatever the batch size.
 */
const statements = {
  threatActors: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(threatActors)
      .where(and(inUuids(threatActors.id), visibleTo(viewer, threatActors)))
      .prepare("threat_actors_by_id"),
  ),
  incidents: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(incidents)
      .where(and(inUuids(incidents.id), visibleTo(viewer, incidents)))
      .prepare("incidents_by_id"),
  ),
  timelineEntries: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select({ entry: timelineEntries })
      .from(timelineEntries)
      .innerJoin(incidents, eq(incidents.id, timelineEntries.incidentId))
      .where(and(inUuids(timelineEntries.id), visibleTo(viewer, timelineEntries), visibleTo(viewer, incidents)))
      .prepare("timeline_entries_by_id"),
  ),
  timelineOf: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(timelineEntries)
      .where(and(inUuids(timelineEntries.incidentId), visibleTo(viewer, timelineEntries)))
      .orderBy(asc(timelineEntries.eventAt), asc(timelineEntries.createdAt), asc(timelineEntries.id))
      .prepare("timeline_of"),
  ),
  revisionsOf: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(incidentRevisions)
      .where(and(inUuids(incidentRevisions.incidentId), visibleTo(viewer, incidentRevisions)))
      .orderBy(asc(incidentRevisions.incidentId), asc(incidentRevisions.number))
      .prepare("incident_revisions_of"),
  ),
  linkedIndicatorIdsOf: perViewer((db: Db, _viewer: ViewerIdentity) =>
    db
      .select({ incidentId: incidentIndicators.incidentId, observableId: incidentIndicators.observableId })
      .from(incidentIndicators)
      .where(inUuids(incidentIndicators.incidentId))
      .orderBy(asc(incidentIndicators.addedAt), asc(incidentIndicators.observableId))
      .prepare("linked_indicators_of"),
  ),
};

/**
 * This module's loaders, one factory each; every one answers only with what the viewer may see (a
 * key it may not see loads as null or is left out, exactly like a missing one).
 */
export const incidentLoaders = {
  threatActor: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (await statements.threatActors(db, viewer).execute(uuidList(ids))).map(toThreatActor),
      (a) => a.dbId,
    ),
  incident: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) => (await statements.incidents(db, viewer).execute(uuidList(ids))).map(toIncident),
      (i) => i.dbId,
    ),
  /** A timeline entry by id: only when the viewer may see both it and its incident. */
  timelineEntry: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (await statements.timelineEntries(db, viewer).execute(uuidList(ids))).map((r) => toTimelineEntry(r.entry)),
      (e) => e.dbId,
    ),
  /**
   * The visible timeline entries of a batch of incidents, in event order: one statement for a
   * whole page. Callers pass only incidents the viewer may see (loaded through `incident` or a list).
   */
  timelineOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (incidentIds: readonly string[]) =>
        (await statements.timelineOf(db, viewer).execute(uuidList(incidentIds))).map(toTimelineEntry),
      (e) => e.incidentDbId,
    ),
  /** The revisions the viewer may see of a batch of incidents it may see, oldest first. */
  revisionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      (ids: readonly string[]) => statements.revisionsOf(db, viewer).execute(uuidList(ids)),
      (r) => r.incidentId,
    ),
  /**
   * The indicators linked to a batch of incidents (ids, oldest link first): the caller loads them
   * through the indicator loader, which leaves out those the viewer may not see.
   */
  linkedIndicatorIdsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      (incidentIds: readonly string[]) => statements.linkedIndicatorIdsOf(db, viewer).execute(uuidList(incidentIds)),
      (r) => r.incidentId,
    ),
};

export type IncidentLoaders = LoadersOf<typeof incidentLoaders>;

const makeLoaders = lazyLoaders(incidentLoaders);

/**
 * One set per operation: keyed by the operation's `ctx.loaders` object, which is fresh per
 * operation (and per delivered batch of a subscription), so these live and die with it. Kept here
 * rather than in the context's loader set while other work changes context.ts; moving them there
 * later changes no caller but this function.
 */
const perOperation = new WeakMap<object, IncidentLoaders>();

export function incidentLoadersOf(ctx: LoaderContext): IncidentLoaders {
  const key = ctx.loaders as object;
  let mine = perOperation.get(key);
  if (!mine) perOperation.set(key, (mine = makeLoaders({ db: ctx.services.db, viewer: viewerOf(ctx) })));
  return mine;
}
