import type { AnyPgColumn } from "drizzle-orm/pg-core";
import { toGlobalId } from "../../shared/ids";
import type { Marking } from "../access/access.type";
import type { Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { RevisionAction } from "./revision-action";
import { Revision, type FieldChange } from "./revision.type";

/** A record's marking as a revision stores it. */
export interface StoredMarking {
  tlp: Tlp;
  audienceOrgIds: string[];
  audienceGroupIds: string[];
}

export const markingOf = (ownerDbId: string, m: StoredMarking): Marking => ({
  tlp: m.tlp as Tlp,
  ownerDbId,
  audienceOrgDbIds: m.audienceOrgIds,
  audienceGroupDbIds: m.audienceGroupIds,
});

/** A stored marking as the marking columns of a row (`markingColumns`). */
export const markingCols = (m: StoredMarking) => ({
  tlp: m.tlp,
  audienceOrgs: m.audienceOrgIds,
  audienceGroups: m.audienceGroupIds,
});

/**
 * A revision row's values but its record's key (`revisionColumns`): the number, the marking it is
 * made under, what it did and why, the whole state after it, who made it and when.
 */
export function revisionValues<S extends { marking: StoredMarking }>(
  viewer: ViewerIdentity,
  ownerOrgId: string,
  number: number,
  action: RevisionAction,
  reason: string,
  state: S,
  recordedAt: Date,
) {
  return {
    number,
    ownerOrgId,
    ...markingCols(state.marking),
    action,
    reason,
    state,
    authorAccountId: viewer.accountId,
    authorOrgId: viewer.organizationId,
    recordedAt,
  };
}

/** The audience is shown to the owner only, as `Marking.audienceOrganizations` is. */
export function presentMarking(viewerOrgId: string, ownerDbId: string, m: StoredMarking) {
  return viewerOrgId === ownerDbId
    ? {
        tlp: m.tlp,
        audienceOrganizationIds: m.audienceOrgIds.map((id) => toGlobalId("Organization", id)),
        audienceGroupIds: m.audienceGroupIds.map((id) => toGlobalId("SharingGroup", id)),
      }
    : { tlp: m.tlp };
}

/** Equal as JSON; two equal primitives need no serialising (most fields of most revisions). */
const same = (a: unknown, b: unknown) =>
  a === b || (typeof a === "object" && typeof b === "object" && JSON.stringify(a) === JSON.stringify(b));

/** The fields of `next` that differ from `prev` (all of them when there is no `prev`), in key order. */
export function diff<S extends object>(prev: S | null, next: S): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, value] of Object.entries(next)) {
    const old: unknown = prev ? (prev as Record<string, unknown>)[field] : null;
    if (!prev || !same(old, value)) out.push({ field, old: old ?? null, new: value });
  }
  return out;
}

/**
 * The columns of a revision table that a history reads, for a select whose rows are read unmapped
 * (`unmappedRows`) and mapped by `historyRowOf`.
 */
export const historyColumns = (t: {
  number: AnyPgColumn;
  ownerOrgId: AnyPgColumn;
  authorAccountId: AnyPgColumn;
  authorOrgId: AnyPgColumn;
  action: AnyPgColumn;
  reason: AnyPgColumn;
  state: AnyPgColumn;
  recordedAt: AnyPgColumn;
}) => ({
  number: t.number,
  ownerOrgId: t.ownerOrgId,
  authorAccountId: t.authorAccountId,
  authorOrgId: t.authorOrgId,
  action: t.action,
  reason: t.reason,
  state: t.state,
  recordedAt: t.recordedAt,
});

/** A row of `historyColumns` as the driver hands it over: column names, the time as text. */
export interface StoredHistoryRow<S> {
  number: number;
  owner_org_id: string;
  author_account_id: string;
  author_org_id: string;
  action: RevisionAction;
  reason: string;
  state: S;
  recorded_at: string | Date;
}

/** A revision row as histories read it, numbered as stored. */
export interface HistoryRow<S> extends RevisionRow<S> {
  number: number;
}

export const historyRowOf = <S>(r: StoredHistoryRow<S>): HistoryRow<S> => ({
  number: r.number,
  ownerOrgId: r.owner_org_id,
  authorAccountId: r.author_account_id,
  authorOrgId: r.author_org_id,
  action: r.action,
  reason: r.reason,
  state: r.state,
  recordedAt: new Date(r.recorded_at),
});

/** What a stored revision row holds, whatever the record. */
export interface RevisionRow<S> {
  ownerOrgId: string;
  authorAccountId: string;
  authorOrgId: string;
  action: RevisionAction;
  reason: string;
  recordedAt: Date;
  state: S;
}

/**
 * A viewer's history: the revisions it may see (the caller loads only those), numbered among
 * themselves, each compared with the one before it in that history (the first as a creation), so
 * that nothing shows of the revisions left out. `present` turns a state into what the viewer may
 * see of it (references it may not see null or left out, the audience only for the owner).
 */
export function historyOf<S extends { marking: StoredMarking }>(
  rows: readonly RevisionRow<S>[],
  present: (s: S, ownerDbId: string) => Promise<Record<string, unknown>> | Record<string, unknown>,
): Revision[] | Promise<Revision[]> {
  const shown = rows.map((r) => present(r.state, r.ownerOrgId));
  // Synchronous when every state was (see KeyLoader): no promise per revision.
  return shown.some((s) => s instanceof Promise)
    ? Promise.all(shown).then((states) => revisionsOf(rows, states))
    : revisionsOf(rows, shown as Record<string, unknown>[]);
}

function revisionsOf<S extends { marking: StoredMarking }>(
  rows: readonly RevisionRow<S>[],
  shown: readonly Record<string, unknown>[],
): Revision[] {
  let before: Record<string, unknown> | null = null;
  return rows.map((r, i) => {
    const now = shown[i] ?? {};
    const changes = diff(before, now);
    before = now;
    return Object.assign(new Revision(), {
      ownerDbId: r.ownerOrgId,
      authorAccountDbId: r.authorAccountId,
      authorOrgDbId: r.authorOrgId,
      number: i + 1,
      action: i === 0 ? RevisionAction.CREATE : r.action,
      reason: r.reason,
      recordedAt: r.recordedAt,
      marking: markingOf(r.ownerOrgId, r.state.marking),
      changes,
    });
  });
}
