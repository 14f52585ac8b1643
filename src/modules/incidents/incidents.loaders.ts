import { and, inArray } from "drizzle-orm";
import type { Context } from "../../context";
import type { LoaderDeps } from "../access/access.loaders";
import { visibleTo } from "../access/tlp";
import { viewerOf } from "../../context";
import { byKey, lazyLoaders, type LoadersOf } from "../../shared/loaders";
import { incidents, threatActors } from "./incidents.table";
import { toIncident, toThreatActor } from "./incidents.mappers";

/**
 * This module's loaders, one factory each; every one answers only with what the viewer may see (a
 * key it may not see loads as null or is left out, exactly like a missing one).
 */
export const incidentLoaders = {
  threatActor: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(threatActors)
            .where(and(inArray(threatActors.id, [...ids]), visibleTo(viewer, threatActors)))
        ).map(toThreatActor),
      (a) => a.dbId,
    ),
  incident: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(incidents)
            .where(and(inArray(incidents.id, [...ids]), visibleTo(viewer, incidents)))
        ).map(toIncident),
      (i) => i.dbId,
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

export function incidentLoadersOf(ctx: Context): IncidentLoaders {
  const key = ctx.loaders as object;
  let mine = perOperation.get(key);
  if (!mine) perOperation.set(key, (mine = makeLoaders({ db: ctx.services.db, viewer: viewerOf(ctx) })));
  return mine;
}
