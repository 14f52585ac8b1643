import { sql } from "drizzle-orm";
import { bigint, boolean, index, integer, jsonb, pgEnum, pgTable, smallint, timestamp } from "drizzle-orm/pg-core";
import { STREAMS } from "./realtime.enums";
import type { Change } from "./outbox.service";

export const eventStreamEnum = pgEnum("event_stream", STREAMS);

/**
 * The outbox: one row per written batch (a changeset), not per record, so a bulk ingest of a
 * million indicators adds a few hundred rows. Rows are written in the transaction of the change
 * they describe and get their final `seq` when that transaction commits (see the
 * `event_log_seal` trigger in drizzle/), so `seq` order is commit order.
 */
export const eventLog = pgTable(
  "event_log",
  {
    /** By default (not always) an identity: the commit-time seal renumbers pending rows. */
    seq: bigint("seq", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    stream: eventStreamEnum("stream").notNull(),
    /** Set again when the row is sealed at commit: then it is the commit time, in seq order. */
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    /** The number of changes (readers page through the log by it without reading the changes). */
    size: integer("size").notNull(),
    changes: jsonb("changes").$type<Change[]>().notNull(),
    /** True until the writing transaction commits; no committed row is ever pending. */
    pending: boolean("pending").notNull().default(true),
  },
  (t) => [
    index("event_log_pending_idx")
      .on(t.seq)
      .where(sql`${t.pending}`),
    index("event_log_created_at_idx").on(t.createdAt),
  ],
);

/** One row: how far the log has been pruned (a cursor at or before it can no longer resume). */
export const eventLogState = pgTable("event_log_state", {
  id: smallint("id").primaryKey().default(1),
  prunedThrough: bigint("pruned_through", { mode: "number" }).notNull().default(0),
});
