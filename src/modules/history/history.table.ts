import { pgEnum } from "drizzle-orm/pg-core";
import { REVISION_ACTIONS } from "./revision-action";

/** What a revision did, for every table of revisions. */
export const revisionActionEnum = pgEnum("revision_action", REVISION_ACTIONS);
