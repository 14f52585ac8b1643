/**
 * Global object ids for `node(id)` and federation: base64url of "Type:key", the key being a uuid
 * or (for high-volume tables with bigint identities) a positive integer. Opaque to clients; a
 * malformed id decodes to null and is answered like an unknown one.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SERIAL = /^[1-9][0-9]{0,15}$/;

export function toGlobalId(type: string, id: string | number): string {
  return Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
}

export function fromGlobalId(globalId: string): { type: string; id: string } | null {
  const text = Buffer.from(globalId, "base64url").toString("utf8");
  const i = text.indexOf(":");
  if (i <= 0) return null;
  const id = text.slice(i + 1);
  if (!UUID.test(id) && !SERIAL.test(id)) return null;
  return { type: text.slice(0, i), id };
}

/** Decodes the uuid of an id that must be of one type; null when it is not. */
export function idOf(type: string, globalId: string): string | null {
  const d = fromGlobalId(globalId);
  return d && d.type === type && UUID.test(d.id) ? d.id : null;
}

/** Decodes an id of a table keyed by a bigint identity; null unless it is one of that type. */
export function serialOf(type: string, globalId: string): number | null {
  const d = fromGlobalId(globalId);
  return d && d.type === type && SERIAL.test(d.id) ? Number(d.id) : null;
}
