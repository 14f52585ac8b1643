import { integer, jsonb, pgEnum, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { accounts, markingColumns, organizations } from "../access/access.table";
import { REVISION_ACTIONS } from "./revision-action";

/** What a revision did, for every table of revisions. */
export const revisionActionEnum = pgEnum("revision_action", REVISION_ACTIONS);

/**
 * The columns every table of revisions has after its record's id: the number (1, 2, ... per
 * record), the marking it was made under, what it did and why, the whole state after it (`S`),
 * who made it and when. History reads them the same way for incidents, assessments and opinions.
 */
export const revisionColumns = <S>() => ({
  number: integer("number").notNull(),
  ...markingColumns(),
  action: revisionActionEnum("action").notNull(),
  reason: text("reason").notNull(),
  state: jsonb("state").$type<S>().notNull(),
  authorAccountId: uuid("author_account_id")
    .notNull()
    .references(() => accounts.id),
  authorOrgId: uuid("author_org_id")
    .notNull()
    .references(() => organizations.id),
  recordedAt: timestamp("recorded_at", { withTimezone: true, precision: 3 }).notNull(),
});
