export { EventHub, EVENTS_CHANNEL, identityKey } from "./event-hub";
export type { Delivery, StreamReader, SubscribeOptions } from "./event-hub";
export type { PositionedChange } from "./event-log";
export {
  appendChanges,
  appendChangesFrom,
  changesetInsert,
  prevMarkingJson,
  prevMarkingOf,
  MAX_CHANGES_PER_ROW,
} from "./outbox.service";
export type { Change, PrevMarking } from "./outbox.service";
export { comparePositions, decodeCursor, encodeCursor, isAfter, type Position } from "./position";
export { ChangeKind, EventKind, Stream, STREAMS } from "./realtime.enums";
export { eventLog, eventLogState } from "./realtime.table";
export { translateRecords, type RecordEventItem, type RecordStreamOptions } from "./record-stream";
export { delivered, openSubscription } from "./subscribe";
