import { bigint, index, jsonb, pgTable, smallint, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * Append-only audit log. `seq` is assigned gaplessly under an advisory lock, and each entry's
 * hash covers the previous entry's hash, so a changed, inserted or deleted row breaks the chain.
 */
export const auditLog = pgTable(
  "audit_log",
  {
    seq: bigint("seq", { mode: "number" }).primaryKey(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    accountId: uuid("account_id"),
    organizationId: uuid("organization_id"),
    operation: text("operation").notNull(),
    targetIds: text("target_ids").array().notNull(),
    outcome: text("outcome").notNull(),
    prevHash: text("prev_hash").notNull(),
    hash: text("hash").notNull(),
    detail: jsonb("detail"),
  },
  (t) => [index("audit_log_org_idx").on(t.organizationId, t.seq)],
);

/** The chain's head, moved in the same transaction as each append; catches a deleted tail. */
export const auditHead = pgTable("audit_head", {
  id: smallint("id").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
});
