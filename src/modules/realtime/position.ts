import { badInput } from "../../shared/errors";

/**
 * A place in the event log: change `idx` of the row `seq`. Every event's cursor is the position
 * of the change it came from; "after a position" is everything later in (seq, idx) order.
 */
export interface Position {
  readonly seq: number;
  readonly idx: number;
}

/** Before every row of the log. */
export const ORIGIN: Position = Object.freeze({ seq: 0, idx: -1 });

export const comparePositions = (a: Position, b: Position): number => a.seq - b.seq || a.idx - b.idx;
export const isAfter = (a: Position, b: Position): boolean => comparePositions(a, b) > 0;
export const laterOf = (a: Position, b: Position): Position => (isAfter(a, b) ? a : b);

const TAG = "event";

/** Opaque to clients, like the other cursors (base64url of JSON). */
export function encodeCursor(p: Position): string {
  return Buffer.from(JSON.stringify([TAG, p.seq, p.idx]), "utf8").toString("base64url");
}

/** The position of a cursor this hub issued; BAD_USER_INPUT on `field` for anything else. */
export function decodeCursor(cursor: string, field = "after"): Position {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (
      Array.isArray(v) &&
      v.length === 3 &&
      v[0] === TAG &&
      Number.isSafeInteger(v[1]) &&
      Number.isSafeInteger(v[2]) &&
      (v[1] as number) > 0 &&
      (v[2] as number) >= -1
    )
      return { seq: v[1] as number, idx: v[2] as number };
  } catch {
    // fall through to the error below
  }
  throw badInput(field, "not a cursor this subscription issued");
}
