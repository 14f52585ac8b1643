import { sql, type SQL } from "drizzle-orm";
import { createLoaders, viewerOf, type Context, type Loaders } from "../../context";
import type { Db } from "../../db/client";
import { badInput } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { rowsOf } from "../../shared/rows";
import { canSee, visibleTo, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import {
  ChangeKind,
  EventKind,
  Stream,
  openSubscription,
  type Delivery,
  type Position,
  type PositionedChange,
  type PrevMarking,
  type StreamReader,
} from "../realtime";
import type { IndicatorEventFilter } from "./indicator-events.type";
import { IndicatorRecord } from "./indicators.enums";
import { liveVisibleReports, liveVisibleSightings } from "./indicators.service";
import { reports, sightings } from "./indicators.table";
import type { Indicator, IndicatorReport } from "./indicators.type";
import type { ObservableType } from "./normalize";

/** One indicator event for every subscriber with the same rights. */
export interface IndicatorEventItem {
  readonly pos: Position;
  readonly kind: EventKind;
  readonly observableId: number;
  readonly type: ObservableType;
  /** As the viewer may see it now; null for REVOKED and REMOVED. */
  readonly indicator: Indicator | null;
  /** The batch's loaders for these rights, shared by every event of the batch. */
  readonly loaders: Loaders;
}

interface StateRow {
  record: "report" | "sighting" | "observable";
  id: number | string;
  type: ObservableType;
  live: boolean | null;
  /** report/sighting: the viewer may see it (its marking); observable: other live visible records exist. */
  visible: boolean;
}

const bigintArray = (ids: Iterable<number>) => `{${[...ids].join(",")}}`;

/**
 * One statement per page and viewer identity: for every changed report and sighting, whether it
 * is live and whether the viewer may see it now; for every observable they belong to, whether the
 * viewer may see any other live report or sighting of it. The rule is `visibleTo`, as in queries.
 */
function stateStatement(viewer: ViewerIdentity, r: Set<number>, s: Set<number>, o: Set<number>): SQL {
  const rIds = bigintArray(r);
  const sIds = bigintArray(s);
  return sql`
    select 'report' as record, ${reports.id} as id, observables.type, ${reports.revokedAt} is null as live,
      ${visibleTo(viewer, reports)} as visible
    from ${reports} join observables on observables.id = ${reports.observableId}
    where ${reports.id} = any(${rIds}::bigint[])
    union all
    select 'sighting', ${sightings.id}, observables.type, ${sightings.revokedAt} is null,
      ${visibleTo(viewer, sightings)}
    from ${sightings} join observables on observables.id = ${sightings.observableId}
    where ${sightings.id} = any(${sIds}::bigint[])
    union all
    select 'observable', observables.id, observables.type, null,
      exists (select 1 from ${reports} where ${reports.observableId} = observables.id
                and ${liveVisibleReports(viewer)} and not ${reports.id} = any(${rIds}::bigint[]))
      or exists (select 1 from ${sightings} where ${sightings.observableId} = observables.id
                and ${liveVisibleSightings(viewer)} and not ${sightings.id} = any(${sIds}::bigint[]))
    from observables where observables.id = any(${bigintArray(o)}::bigint[])`;
}

const asMarking = (p: PrevMarking) => ({
  ownerOrgId: p.ownerOrgId,
  tlp: p.tlp as Tlp,
  audienceOrgIds: p.audienceOrgs ?? [],
  audienceGroupIds: p.audienceGroups ?? [],
});

/**
 * Translates a page of report and sighting changes into indicator events for one viewer. The
 * subject is the indicator as this viewer sees it (its visible live reports and sightings):
 *
 * - a change to a record the viewer could not see before and cannot see now yields nothing, so a
 *   viewer never learns that a record it may not see exists or changed;
 * - the indicator becoming visible to the viewer is CREATED, staying visible UPDATED;
 * - ceasing to be visible is REVOKED when its last visible record was revoked (and the viewer may
 *   still see that record's marking), else REMOVED (the record's marking or the viewer's rights
 *   changed), carrying only the id.
 *
 * Whether a record was visible before comes from the marking the change recorded (`prev`, through
 * the pure `canSee`); whether it is now, from the database (`visibleTo`). Within a page, a record's
 * state after a change is the `prev` of its next change, so several changes to one indicator in a
 * page read as a sequence.
 */
async function translate(
  db: Db,
  changes: readonly PositionedChange[],
  viewer: ViewerIdentity,
): Promise<IndicatorEventItem[]> {
  const ids = { report: new Set<number>(), sighting: new Set<number>() };
  const subjects = new Set<number>();
  const relevant = changes.filter(({ change }) => change.record in INDEX_OF_RECORD);
  for (const { change } of relevant) {
    ids[change.record as keyof typeof ids].add(Number(change.id));
    subjects.add(Number(change.subject));
  }
  if (!relevant.length) return [];
  const rows = rowsOf<StateRow>(await db.execute(stateStatement(viewer, ids.report, ids.sighting, subjects)));
  const now = new Map<string, { live: boolean; visible: boolean }>();
  const othersVisible = new Map<number, boolean>();
  const typeOf = new Map<number, ObservableType>();
  for (const r of rows) {
    if (r.record === "observable") {
      othersVisible.set(Number(r.id), r.visible);
      typeOf.set(Number(r.id), r.type);
    } else now.set(`${r.record}:${Number(r.id)}`, { live: r.live === true, visible: r.visible });
  }

  const keyOf = (c: PositionedChange) => `${c.change.record}:${Number(c.change.id)}`;
  const sees = (p: PrevMarking | undefined) => (p ? canSee(viewer, asMarking(p)) : false);
  const seesLive = (p: PrevMarking | undefined) => (p ? p.live && sees(p) : false);
  // The next change of the same record in this page, if any: its `prev` is this change's outcome.
  const next = new Array<PositionedChange | undefined>(relevant.length);
  const seen = new Map<string, PositionedChange>();
  for (let i = relevant.length - 1; i >= 0; i--) {
    const c = relevant[i] as PositionedChange;
    next[i] = seen.get(keyOf(c));
    seen.set(keyOf(c), c);
  }
  // Each changed record's state before the page (its first change's prev), counted per indicator.
  const on = new Map<string, boolean>();
  const onCount = new Map<number, number>();
  for (const [key, first] of seen) {
    const isOn = seesLive(first.change.prev);
    on.set(key, isOn);
    if (isOn) onCount.set(Number(first.change.subject), (onCount.get(Number(first.change.subject)) ?? 0) + 1);
  }

  const events: { pos: Position; kind: EventKind; observableId: number }[] = [];
  relevant.forEach((c, i) => {
    const key = keyOf(c);
    const subject = Number(c.change.subject);
    const visibleNow = () => (othersVisible.get(subject) ?? false) || (onCount.get(subject) ?? 0) > 0;
    const wasOn = on.get(key) ?? false;
    const visibleBefore = visibleNow();
    const after = next[i];
    const current = now.get(key);
    const seenAfter = after ? sees(after.change.prev) : (current?.visible ?? false);
    const isOn = after ? seesLive(after.change.prev) : (current?.visible ?? false) && (current?.live ?? false);
    if (isOn !== wasOn) {
      on.set(key, isOn);
      onCount.set(subject, (onCount.get(subject) ?? 0) + (isOn ? 1 : -1));
    }
    // Neither before nor after could this viewer see the record: the change does not exist for it.
    if (!sees(c.change.prev) && !seenAfter) return;
    // A record that stays dead (or unseen) changes nothing the viewer sees.
    if (!wasOn && !isOn) return;
    const visibleAfter = visibleNow();
    let kind: EventKind;
    if (visibleAfter) kind = visibleBefore ? EventKind.UPDATED : EventKind.CREATED;
    else if (visibleBefore)
      kind = c.change.kind === ChangeKind.REVOKED && seenAfter ? EventKind.REVOKED : EventKind.REMOVED;
    else return;
    events.push({ pos: c.pos, kind, observableId: subject });
  });
  if (!events.length) return [];

  // The indicators as the viewer sees them now, through loaders fresh for this page and identity.
  const loaders = createLoaders(db, viewer);
  const shown = events.filter((e) => e.kind === EventKind.CREATED || e.kind === EventKind.UPDATED);
  const indicators = new Map<number, Indicator | null>();
  const loaded = await loaders.indicator.loadMany([...new Set(shown.map((e) => e.observableId))]);
  for (const i of loaded) if (i && !(i instanceof Error)) indicators.set(i.dbId, i);
  const items: IndicatorEventItem[] = [];
  for (const e of events) {
    const type = typeOf.get(e.observableId);
    if (!type) continue;
    if (e.kind === EventKind.CREATED || e.kind === EventKind.UPDATED) {
      // Gone again by now (a later change already took it away): that later change says so.
      const indicator = indicators.get(e.observableId);
      if (indicator) items.push({ ...e, type, indicator, loaders });
    } else items.push({ ...e, type, indicator: null, loaders });
  }
  return items;
}

const INDEX_OF_RECORD: Record<string, true> = { [IndicatorRecord.REPORT]: true, [IndicatorRecord.SIGHTING]: true };

/** The indicator stream's reader (the hub memoises its translations per page and identity). */
export function indicatorReader(db: Db): StreamReader<IndicatorEventItem> {
  return { stream: Stream.INDICATOR, translate: (changes, viewer) => translate(db, changes, viewer) };
}

/**
 * Whether a report matches the report-level part of a filter (the `reportConditions` of
 * `indicators(filter)`): all conditions on one and the same visible live report.
 */
function reportMatches(f: IndicatorEventFilter, r: IndicatorReport): boolean {
  if (f.minConfidence != null && (r.confidence === null || r.confidence < f.minConfidence)) return false;
  if (f.feedIds?.length && !f.feedIds.some((g) => idOf("Feed", g) === r.feedDbId)) return false;
  if (f.ownerIds?.length && !f.ownerIds.some((g) => idOf("Organization", g) === r.ownerDbId)) return false;
  if (f.tlps?.length && !f.tlps.includes(r.tlp)) return false;
  return true;
}

/** Applies one subscriber's filter to a page's items (all of one translation). */
async function selectFor(
  filter: IndicatorEventFilter | null,
  items: readonly IndicatorEventItem[],
): Promise<readonly IndicatorEventItem[]> {
  if (!filter || !items.length) return items;
  const types = filter.types?.length ? new Set(filter.types) : null;
  let out = types ? items.filter((i) => types.has(i.type)) : items;
  const byReport =
    filter.minConfidence != null || filter.feedIds?.length || filter.ownerIds?.length || filter.tlps?.length;
  const loaders = out[0]?.loaders;
  if (byReport && loaders) {
    const shown = out.filter((i) => i.indicator);
    // One query for the page and identity, whoever asks first; the others hit the loader's cache.
    const lists = await loaders.reportsOf.loadMany(shown.map((i) => i.observableId));
    const keep = new Set<number>();
    shown.forEach((i, n) => {
      const list = lists[n];
      if (Array.isArray(list) && list.some((r) => reportMatches(filter, r))) keep.add(i.observableId);
    });
    out = out.filter((i) => !i.indicator || keep.has(i.observableId));
  }
  return out;
}

/** Opens `indicatorEvents` for the operation's viewer (see `openSubscription`). */
export async function subscribeIndicatorEvents(
  ctx: Context,
  filter: IndicatorEventFilter | null,
  after: string | null,
): Promise<AsyncIterableIterator<Delivery<IndicatorEventItem>>> {
  viewerOf(ctx);
  const min = filter?.minConfidence;
  if (min != null && !(Number.isInteger(min) && min >= 0 && min <= 100))
    throw badInput("filter.minConfidence", "must be an integer from 0 to 100");
  return openSubscription(ctx, "indicatorEvents", indicatorReader(ctx.services.db), after, (items) =>
    selectFor(filter, items),
  );
}
