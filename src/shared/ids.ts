/**
 * Global object ids for `node(id)` and federation: base64url of "Type:uuid". Opaque to clients;
 * a malformed id decodes to null and is answered like an unknown one.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function toGlobalId(type: string, id: string): string {
  return Buffer.from(`${type}:${id}`, "utf8").toString("base64url");
}

export function fromGlobalId(globalId: string): { type: string; id: string } | null {
  const text = Buffer.from(globalId, "base64url").toString("utf8");
  const i = text.indexOf(":");
  if (i <= 0) return null;
  const id = text.slice(i + 1);
  if (!UUID.test(id)) return null;
  return { type: text.slice(0, i), id };
}

/** Decodes an id that must be of one type; null when it is not. */
export function idOf(type: string, globalId: string): string | null {
  const d = fromGlobalId(globalId);
  return d && d.type === type ? d.id : null;
}
