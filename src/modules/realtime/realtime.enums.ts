import { registerEnumType } from "type-graphql";

/** The streams of the event log: one per kind of record subscriptions deliver. */
export const Stream = { INDICATOR: "indicator", INCIDENT: "incident", ASSESSMENT: "assessment" } as const;
export type Stream = (typeof Stream)[keyof typeof Stream];
export const STREAMS = Object.values(Stream) as [Stream, ...Stream[]];

/** What a write did to a record, as the event log records it (the writer's view). */
export const ChangeKind = { CREATED: "CREATED", UPDATED: "UPDATED", REVOKED: "REVOKED" } as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/**
 * What an event says to one subscriber: the change as that subscriber may see it. A record that
 * becomes visible to it arrives as CREATED, one that stops being visible as REMOVED.
 */
export const EventKind = { ...ChangeKind, REMOVED: "REMOVED" } as const;
export type EventKind = (typeof EventKind)[keyof typeof EventKind];

registerEnumType(EventKind, {
  name: "EventKind",
  description: "What an event tells its subscriber, from that subscriber's point of view.",
  valuesConfig: {
    CREATED: { description: "The record is new to you: just written, or just became visible to you." },
    UPDATED: { description: "Something you may see about the record changed." },
    REVOKED: { description: "Its owner withdrew the record and nothing of it is left for you to see." },
    REMOVED: { description: "You may no longer see the record (its marking or your rights changed): only its id." },
  },
});
