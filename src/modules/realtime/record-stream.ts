import { canSee, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import type { PositionedChange } from "./event-log";
import type { PrevMarking } from "./outbox.service";
import type { Position } from "./position";
import { EventKind, type Stream } from "./realtime.enums";

/** One event of a record stream (incidents, assessments) for every subscriber with the same rights. */
export interface RecordEventItem<T, L> {
  readonly pos: Position;
  readonly kind: EventKind;
  /** The record's id (its database key). */
  readonly subject: string;
  /** As the viewer may see it now; null for REMOVED. */
  readonly record: T | null;
  /** The batch's loaders for these rights, shared by every event of the batch. */
  readonly loaders: L;
}

export interface RecordStreamOptions<T, L> {
  stream: Stream;
  /** The change records that are the subject itself ("incident"); any other record is a part of it. */
  record: string;
  /** Fresh loaders for a batch and identity. */
  loaders(viewer: ViewerIdentity): L;
  /** The subjects the viewer may see now, through the access rule, by id. */
  load(loaders: L, ids: readonly string[]): Promise<Map<string, T>>;
  /**
   * The parts (timeline entries, opinions, linked indicators) the viewer may see now, as
   * `record:id` keys. A part's change reaches a subscriber as an UPDATED of its subject only when
   * the subscriber may see the part, before or after the change.
   */
  partsVisible(loaders: L, parts: readonly { record: string; id: string }[]): Promise<Set<string>>;
  /**
   * For records whose visibility also needs other records (an assessment needs its actor and
   * subject): the subjects whose other records the viewer may see now. Without it, a record's own
   * marking decides. A record counts as seen before a change only if this holds too, so a viewer
   * is never told REMOVED about a record it could not have seen.
   */
  dependenciesVisible?(loaders: L, ids: readonly string[]): Promise<Set<string>>;
}

const asMarking = (p: PrevMarking) => ({
  ownerOrgId: p.ownerOrgId,
  tlp: p.tlp as Tlp,
  audienceOrgIds: p.audienceOrgs ?? [],
  audienceGroupIds: p.audienceGroups ?? [],
});

/**
 * Translates a page of a record stream's changes for one viewer, like the indicator stream but
 * for records seen one by one: whether the viewer saw a record before a change comes from the
 * marking the change recorded (`prev`, through the pure `canSee`), whether it sees it after from the
 * next change of the same record in the page, or else from the database now (the loaders, i.e.
 * `visibleTo`). Becoming visible is CREATED, staying visible UPDATED, ceasing to be visible REMOVED
 * (only the id); a change the viewer could see neither before nor after does not exist for it.
 * A change to a part (a timeline entry, an opinion, a linked indicator) is an UPDATED of its
 * subject for viewers who see the subject now and the part before or after: a viewer never learns
 * that something it may not see was added or changed.
 */
export async function translateRecords<T, L>(
  o: RecordStreamOptions<T, L>,
  changes: readonly PositionedChange[],
  viewer: ViewerIdentity,
): Promise<RecordEventItem<T, L>[]> {
  const mine = changes.filter((c) => c.stream === o.stream);
  if (!mine.length) return [];
  const loaders = o.loaders(viewer);
  const subjects = await o.load(loaders, [...new Set(mine.map((c) => String(c.change.subject)))]);
  const parts = mine.filter((c) => c.change.record !== o.record);
  const partKeys = new Map(parts.map((c) => [`${c.change.record}:${c.change.id}`, c.change]));
  const partsNow = parts.length
    ? await o.partsVisible(
        loaders,
        [...partKeys.values()].map((c) => ({ record: c.record, id: String(c.id) })),
      )
    : new Set<string>();
  const depsOk = o.dependenciesVisible
    ? await o.dependenciesVisible(loaders, [
        ...new Set(mine.filter((c) => c.change.record === o.record).map((c) => String(c.change.subject))),
      ])
    : null;
  const sees = (p: PrevMarking | undefined) => (p ? p.live && canSee(viewer, asMarking(p)) : false);
  // A subject with its dependencies: as the change recorded them (`deps`), else as they are now.
  const seesWhole = (p: PrevMarking | undefined, depsNow: boolean) =>
    sees(p) && (p?.deps ? p.deps.every(sees) : depsNow);
  // The next change of the same record in this page: its `prev` is this change's outcome.
  const next = new Array<PositionedChange | undefined>(mine.length);
  const later = new Map<string, PositionedChange>();
  for (let i = mine.length - 1; i >= 0; i--) {
    const c = mine[i] as PositionedChange;
    const key = `${c.change.record}:${c.change.id}`;
    next[i] = later.get(key);
    later.set(key, c);
  }
  const items: RecordEventItem<T, L>[] = [];
  mine.forEach((c, i) => {
    const subject = String(c.change.subject);
    const record = subjects.get(subject) ?? null;
    const after = next[i];
    if (c.change.record === o.record) {
      const deps = depsOk ? depsOk.has(subject) : true;
      const before = seesWhole(c.change.prev, deps);
      const now = after ? seesWhole(after.change.prev, deps) : record !== null;
      let kind: EventKind;
      if (now) kind = before ? EventKind.UPDATED : EventKind.CREATED;
      else if (before) kind = EventKind.REMOVED;
      else return;
      // Visible after this change but gone by now: a later change (in a later page) says so.
      if (kind !== EventKind.REMOVED && !record) return;
      items.push({ pos: c.pos, kind, subject, record: kind === EventKind.REMOVED ? null : record, loaders });
      return;
    }
    if (!record) return;
    const key = `${c.change.record}:${c.change.id}`;
    const partAfter = after ? sees(after.change.prev) : partsNow.has(key);
    if (!sees(c.change.prev) && !partAfter) return;
    items.push({ pos: c.pos, kind: EventKind.UPDATED, subject, record, loaders });
  });
  return items;
}
