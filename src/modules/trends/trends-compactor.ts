import { sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { Logger } from "../../shared/logger";
import { rowsOf } from "../../shared/rows";

/**
 * Merges the rollups' committed rows of each key into one (trend_rollup_compact() in the
 * database). Returns the number of rows merged away, or -1 when another node was compacting.
 */
export async function compactTrends(db: Db): Promise<number> {
  const [row] = rowsOf<{ n: number }>(await db.execute(sql`select trend_rollup_compact()::int as n`));
  return row?.n ?? 0;
}

/**
 * Compacts the rollups every `everyMs` on this node (nodes take turns through an advisory lock).
 * Returns a stop function that waits for a compaction under way.
 */
export function startTrendsCompactor(db: Db, log: Logger, everyMs: number): () => Promise<void> {
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= compactTrends(db)
      .then((n) => void (n > 0 && log.debug({ merged: n }, "trend rollups compacted")))
      .catch((err: unknown) => log.warn({ err }, "trend rollup compaction failed"))
      .finally(() => (running = undefined));
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
