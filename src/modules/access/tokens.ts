import { createHash, randomBytes } from "node:crypto";

/** Tokens look like `hub_` + 43 URL-safe characters (32 random bytes). */
export const TOKEN_PREFIX = "hub_";
const TOKEN_SHAPE = /^hub_[A-Za-z0-9_-]{32,128}$/;

export const newToken = () => TOKEN_PREFIX + randomBytes(32).toString("base64url");
export const isWellFormedToken = (t: string) => TOKEN_SHAPE.test(t);
/** Tokens carry 256 random bits, so a fast hash is enough: no one can brute-force the preimage. */
export const hashToken = (t: string) => createHash("sha256").update(t, "utf8").digest("hex");
/** What lists show: enough to recognise, too little to use. */
export const displayPrefix = (t: string) => t.slice(0, TOKEN_PREFIX.length + 6);

/** Extracts the token from `Bearer <token>`; undefined when there is no header at all. */
export function bearerToken(header: string | undefined | null): string | null | undefined {
  if (header === undefined || header === null || header === "") return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1] ?? null;
}
