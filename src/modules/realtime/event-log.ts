import { sql } from "drizzle-orm";
import type { Executor } from "../../db/client";
import { rowsOf } from "../../shared/rows";
import type { Change } from "./outbox.service";
import { comparePositions, type Position } from "./position";
import type { Stream } from "./realtime.enums";

/** A committed row of the event log. */
export interface LogRow {
  seq: number;
  stream: Stream;
  changes: Change[];
}

/** One change with its place in the log. */
export interface PositionedChange {
  readonly pos: Position;
  readonly stream: Stream;
  readonly change: Change;
}

/**
 * Rows from `fromSeq` on (inclusive), in seq order: as many as fit in `maxChanges` changes, and at
 * least one. Sizes are summed without reading the changes of rows left out.
 */
export async function readRows(db: Executor, fromSeq: number, maxChanges: number, maxRows = 500): Promise<LogRow[]> {
  const rows = rowsOf<{ seq: number | string; stream: Stream; changes: Change[] | string }>(
    await db.execute(sql`
      select r.seq, r.stream, r.changes from (
        select seq, stream, changes, sum(size) over (order by seq) - size as before
        from event_log where seq >= ${fromSeq} order by seq limit ${maxRows}) r
      where r.before < ${maxChanges}
      order by r.seq`),
  );
  return rows.map((r) => ({
    seq: Number(r.seq),
    stream: r.stream,
    changes: typeof r.changes === "string" ? (JSON.parse(r.changes) as Change[]) : r.changes,
  }));
}

/** The last change in the log (ORIGIN-like `{ seq: 0, idx: -1 }` when it is empty). */
export async function lastPosition(db: Executor): Promise<Position> {
  const [row] = rowsOf<{ seq: number | string; size: number }>(
    await db.execute(sql`select seq, size from event_log order by seq desc limit 1`),
  );
  return row ? { seq: Number(row.seq), idx: Number(row.size) - 1 } : { seq: 0, idx: -1 };
}

/** How far the log has been pruned: rows up to this seq are gone (0: none). */
export async function prunedThrough(db: Executor): Promise<number> {
  const [row] = rowsOf<{ pruned_through: number | string }>(
    await db.execute(sql`select pruned_through from event_log_state where id = 1`),
  );
  return row ? Number(row.pruned_through) : 0;
}

/**
 * Deletes the rows committed before `before` (a prefix of the log, since seq order is commit
 * order) and records how far it went. Any node may run it, at any time.
 */
export async function pruneLog(db: Executor, before: Date): Promise<number> {
  const [row] = rowsOf<{ through: number | string | null; deleted: number | string }>(
    await db.execute(sql`
      with cut as (select max(seq) as through from event_log where created_at < ${before.toISOString()}::timestamptz),
      gone as (delete from event_log where seq <= (select through from cut) returning seq),
      noted as (
        insert into event_log_state (id, pruned_through) select 1, through from cut where through is not null
        on conflict (id) do update set pruned_through = greatest(event_log_state.pruned_through, excluded.pruned_through))
      select (select through from cut) as through, (select count(*) from gone) as deleted`),
  );
  return Number(row?.deleted ?? 0);
}

/** Positioned changes of rows, those after `after` only. */
export function positioned(rows: readonly LogRow[], after: Position): PositionedChange[] {
  const out: PositionedChange[] = [];
  for (const row of rows)
    row.changes.forEach((change, idx) => {
      const pos = { seq: row.seq, idx };
      if (comparePositions(pos, after) > 0) out.push({ pos, stream: row.stream, change });
    });
  return out;
}
