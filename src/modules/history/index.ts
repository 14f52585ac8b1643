export {
  diff,
  historyColumns,
  historyOf,
  historyRowOf,
  markingCols,
  markingOf,
  presentMarking,
  revisionValues,
  type HistoryRow,
  type RevisionRow,
  type StoredHistoryRow,
  type StoredMarking,
} from "./history";
export { FieldChange, Revision } from "./revision.type";
export { RevisionAction, REVISION_ACTIONS } from "./revision-action";
export { RevisionResolver } from "./revision.resolver";
