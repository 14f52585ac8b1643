import { registerEnumType } from "type-graphql";

/** What a revision did (no decorators here: table definitions import it). */
export const RevisionAction = { CREATE: "CREATE", REVISE: "REVISE", CONFIRM: "CONFIRM", WITHDRAW: "WITHDRAW" } as const;
export type RevisionAction = (typeof RevisionAction)[keyof typeof RevisionAction];
export const REVISION_ACTIONS = Object.values(RevisionAction) as [RevisionAction, ...RevisionAction[]];
registerEnumType(RevisionAction, { name: "RevisionAction" });
