export {
  diff,
  historyOf,
  markingCols,
  markingOf,
  presentMarking,
  revisionValues,
  type RevisionRow,
  type StoredMarking,
} from "./history";
export { FieldChange, Revision } from "./revision.type";
export { RevisionAction, REVISION_ACTIONS } from "./revision-action";
export { RevisionResolver } from "./revision.resolver";
