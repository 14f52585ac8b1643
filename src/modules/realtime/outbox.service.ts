import { sql, type SQL } from "drizzle-orm";
import type { Executor } from "../../db/client";
import type { Tlp } from "../access/tlp";
import type { ChangeKind, Stream } from "./realtime.enums";

/**
 * A changed record's marking just before the change: with it, delivery can tell whether a
 * subscriber could see the record before (and so whether to say CREATED, REMOVED or nothing).
 */
export interface PrevMarking {
  tlp: Tlp;
  audienceOrgs: string[];
  audienceGroups: string[];
  ownerOrgId: string;
  /** Not revoked. */
  live: boolean;
  /**
   * For a change made through another record the subject's visibility needs (an incident whose
   * marking changed, for the assessments about it): the markings of every such record as they were
   * before. Absent, those records are taken as they are now.
   */
  deps?: PrevMarking[];
}

/** One record's change, as the event log keeps it: thin JSON, ids and markings only. */
export interface Change {
  /** The kind of record within the stream: "report" or "sighting" for indicators. */
  record: string;
  /** The record's key. */
  id: number | string;
  /** What the stream delivers it as: the observable's id for indicator reports and sightings. */
  subject: number | string;
  kind: ChangeKind;
  /** The marking before the change; absent for CREATED. */
  prev?: PrevMarking;
}

/** Changes per log row: a bulk write of a million records is a few hundred rows. */
export const MAX_CHANGES_PER_ROW = 5000;

/**
 * Appends changes to a stream inside the caller's transaction (rows of up to 5,000 changes, in
 * order). Nothing is written for an empty list. The rows become visible, with their final
 * positions and a wake-up for every node, when the transaction commits.
 */
export async function appendChanges(tx: Executor, stream: Stream, changes: readonly Change[]): Promise<void> {
  if (!changes.length) return;
  const chunks: Change[][] = [];
  for (let i = 0; i < changes.length; i += MAX_CHANGES_PER_ROW) chunks.push(changes.slice(i, i + MAX_CHANGES_PER_ROW));
  await tx.execute(sql`
    insert into event_log (stream, size, changes)
    select ${stream}::event_stream, jsonb_array_length(c.value), c.value
    from jsonb_array_elements(${JSON.stringify(chunks)}::jsonb) with ordinality as c(value, n)
    order by c.n`);
}

// Inlined: as parameters, the GROUP BY and ORDER BY expressions would differ ($n and $m).
const ROW = sql.raw(String(MAX_CHANGES_PER_ROW));

/**
 * The statement (or data-modifying CTE body) that appends, as one changeset of `stream`, the rows
 * of `changes`: a SELECT yielding the columns `record text, id bigint|text, subject bigint|text,
 * kind text, prev jsonb` (prev null for CREATED), in the order they should be delivered. It can
 * sit in the same statement as the write it describes:
 *
 *   with written as (insert into reports ... returning ...),
 *        logged as (${changesetInsert("indicator", sql`select ... from written ...`)})
 *   select ... from written
 *
 * PostgreSQL runs a data-modifying CTE even when nothing refers to it. No rows, no changeset.
 */
export function changesetInsert(stream: Stream, changes: SQL): SQL {
  return sql`insert into event_log (stream, size, changes)
    select ${stream}::event_stream, count(*)::int,
      jsonb_agg(jsonb_strip_nulls(jsonb_build_object('record', c.record, 'id', c.id, 'subject', c.subject,
        'kind', c.kind, 'prev', c.prev)) order by c.n)
    from (select c.*, row_number() over () - 1 as n from (${changes}) c) c
    group by c.n / ${ROW}
    order by c.n / ${ROW}`;
}

/** Runs changesetInsert on its own, inside the caller's transaction. */
export async function appendChangesFrom(tx: Executor, stream: Stream, changes: SQL): Promise<void> {
  await tx.execute(changesetInsert(stream, changes));
}

/**
 * `prev` for a row of a marked table as it is before the change, given the row's alias: its
 * marking and whether it is live (not revoked). Tables without revocation pass `live = sql\`true\``.
 */
export function prevMarkingJson(alias: string, live: SQL = sql.raw(`${alias}.revoked_at is null`)): SQL {
  const a = sql.raw(alias);
  return sql`jsonb_build_object('tlp', ${a}.tlp, 'audienceOrgs', ${a}.audience_orgs,
    'audienceGroups', ${a}.audience_groups, 'ownerOrgId', ${a}.owner_org_id, 'live', ${live})`;
}

/** `prev` for a marked row read before its change (a live record: one not revoked). */
export const prevMarkingOf = (r: {
  ownerOrgId: string;
  tlp: string;
  audienceOrgs: string[];
  audienceGroups: string[];
}): PrevMarking => ({
  tlp: r.tlp as Tlp,
  audienceOrgs: r.audienceOrgs,
  audienceGroups: r.audienceGroups,
  ownerOrgId: r.ownerOrgId,
  live: true,
});
