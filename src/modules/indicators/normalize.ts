import ipaddr from "ipaddr.js";
import { domainToASCII } from "node:url";

/** Observable types, spelled once (GraphQL enum, database enum, STIX mapping). */
export const ObservableType = {
  IPV4: "IPV4",
  IPV6: "IPV6",
  DOMAIN: "DOMAIN",
  URL: "URL",
  EMAIL: "EMAIL",
  MD5: "MD5",
  SHA1: "SHA1",
  SHA256: "SHA256",
  SHA512: "SHA512",
  STIX_PATTERN: "STIX_PATTERN",
} as const;
export type ObservableType = (typeof ObservableType)[keyof typeof ObservableType];
export const OBSERVABLE_TYPES = Object.values(ObservableType) as [ObservableType, ...ObservableType[]];

export type Normalized = { ok: true; type: ObservableType; value: string } | { ok: false; reason: string };

const HASH_LENGTHS: Record<number, ObservableType> = { 32: "MD5", 40: "SHA1", 64: "SHA256", 128: "SHA512" };
const HASH_TYPES: ObservableType[] = ["MD5", "SHA1", "SHA256", "SHA512"];
const MAX_VALUE = 8192;

/**
 * Undoes the usual defanging: hxxp(s), fxp, [.], (.), {.}, [dot], [:], [@], [at]. Applied to
 * every value before it is parsed, so "hxxps://evil[.]example" and "https://evil.example" are one
 * observable.
 */
export function refang(raw: string): string {
  return raw
    .trim()
    .replace(/^h(?:xx|XX)p(s?)(?=\[?:)/, "http$1")
    .replace(/^f(?:x|X)p(?=\[?:)/, "ftp")
    .replace(/\[:\]\/\/|\[:\/\/\]/g, "://")
    .replace(/\[(?:\.|dot)\]|\((?:\.|dot)\)|\{(?:\.|dot)\}/gi, ".")
    .replace(/\[:\]/g, ":")
    .replace(/\[(?:@|at)\]|\((?:@|at)\)/gi, "@");
}

function fail(reason: string): Normalized {
  return { ok: false, reason };
}

function ipv4(v: string): Normalized {
  const [addr, prefix, extra] = v.split("/");
  if (extra !== undefined || !addr) return fail("not an IPv4 address or CIDR");
  if (!ipaddr.IPv4.isValidFourPartDecimal(addr))
    return fail("not a dotted-quad IPv4 address (leading zeros and short forms are ambiguous)");
  if (prefix === undefined) return { ok: true, type: "IPV4", value: ipaddr.IPv4.parse(addr).toString() };
  if (!/^\d{1,2}$/.test(prefix) || Number(prefix) > 32) return fail("IPv4 prefix length must be 0-32");
  if (prefix === "32") return { ok: true, type: "IPV4", value: ipaddr.IPv4.parse(addr).toString() };
  const network = ipaddr.IPv4.networkAddressFromCIDR(`${addr}/${prefix}`).toString();
  return { ok: true, type: "IPV4", value: `${network}/${Number(prefix)}` };
}

function ipv6(v: string): Normalized {
  const [addr, prefix, extra] = v.replace(/^\[|\]$/g, "").split("/");
  if (extra !== undefined || !addr || !ipaddr.IPv6.isValid(addr)) return fail("not an IPv6 address or CIDR");
  const parsed = ipaddr.IPv6.parse(addr);
  if (prefix === undefined || prefix === "128") return { ok: true, type: "IPV6", value: parsed.toRFC5952String() };
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > 128) return fail("IPv6 prefix length must be 0-128");
  const network = ipaddr.IPv6.networkAddressFromCIDR(`${addr}/${prefix}`) as ipaddr.IPv6;
  return { ok: true, type: "IPV6", value: `${network.toRFC5952String()}/${Number(prefix)}` };
}

/** Lower-case, punycode (IDNA), no trailing dot; labels of letters, digits, hyphens (and _). */
export function normalizeDomain(v: string): string | null {
  const trimmed = v.replace(/\.$/, "");
  if (!trimmed || trimmed.length > 253 || /\s/.test(trimmed)) return null;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split(".");
  if (labels.length < 2) return null;
  const ok = labels.every((l) => l.length >= 1 && l.length <= 63 && /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/.test(l));
  if (!ok || /^\d+$/.test(labels.at(-1) ?? "")) return null;
  return ascii;
}

function domain(v: string): Normalized {
  const d = normalizeDomain(v);
  return d ? { ok: true, type: "DOMAIN", value: d } : fail("not a domain name");
}

function url(v: string): Normalized {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return fail("not a URL");
  }
  if (!/^(https?|ftps?|wss?):$/.test(u.protocol)) return fail(`unsupported URL scheme ${u.protocol.replace(/:$/, "")}`);
  if (!u.hostname) return fail("URL has no host");
  // The fragment never reaches a server, so two URLs that differ only there are one observable.
  u.hash = "";
  return { ok: true, type: "URL", value: u.href };
}

function email(v: string): Normalized {
  const at = v.lastIndexOf("@");
  if (at <= 0 || at > 64) return fail("not an e-mail address");
  const local = v.slice(0, at);
  const d = normalizeDomain(v.slice(at + 1));
  if (!d || /\s/.test(local) || local.includes("@")) return fail("not an e-mail address");
  // Local parts are case-sensitive in theory and never in practice; lower-case them to de-duplicate.
  return { ok: true, type: "EMAIL", value: `${local.toLowerCase()}@${d}` };
}

function hash(v: string, claimed?: ObservableType): Normalized {
  const h = v.toLowerCase();
  if (!/^[0-9a-f]+$/.test(h)) return fail("a hash must be hexadecimal");
  const byLength = HASH_LENGTHS[h.length];
  if (!byLength) return fail(`no supported hash is ${h.length} hex digits long`);
  if (claimed && claimed !== byLength)
    return fail(
      `${claimed} is ${Object.entries(HASH_LENGTHS).find(([, t]) => t === claimed)?.[0]} hex digits, not ${h.length}`,
    );
  return { ok: true, type: byLength, value: h };
}

/** C0 controls (U+0000-U+001F) and DEL. */
function hasControlCharacter(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Guesses a value's type: hash, IPv4, IPv6, e-mail, URL, then domain. */
export function detectType(raw: string): ObservableType | null {
  const v = refang(raw);
  if (/^[0-9a-fA-F]+$/.test(v) && HASH_LENGTHS[v.length]) return HASH_LENGTHS[v.length] ?? null;
  if (/^[\d.]+(\/\d+)?$/.test(v)) return "IPV4";
  if (v.includes(":") && /^\[?[0-9a-fA-F:.]+\]?(\/\d+)?$/.test(v)) return "IPV6";
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return "URL";
  if (/^[^@\s]+@[^@\s]+$/.test(v)) return "EMAIL";
  if (normalizeDomain(v)) return "DOMAIN";
  return null;
}

/**
 * Normalises one value to its canonical text, refanging first: canonical IP text (CIDR reduced
 * to its network), lower-case punycode domains without a trailing dot, WHATWG-serialised URLs
 * without fragment, lower-case e-mail addresses, lower-case hashes checked for length. With no
 * type the type is detected. Bad values come back with a reason, never thrown.
 */
export function normalize(raw: string, type?: ObservableType | null): Normalized {
  if (raw.length > MAX_VALUE) return fail(`longer than ${MAX_VALUE} characters`);
  if (type === "STIX_PATTERN") {
    const p = raw.trim();
    if (p.includes("\u0000")) return fail("contains a NUL character");
    // Whole patterns are kept as text; this only refuses what cannot be one ("(...)" groups and
    // qualifiers such as WITHIN are valid, so no stricter shape check).
    return /\[[^\]]*:[^\]]*\]/.test(p)
      ? { ok: true, type, value: p }
      : fail("not a STIX pattern: no [object:property ...] comparison");
  }
  const v = refang(raw);
  if (!v) return fail("empty value");
  // No address, name or hash has control characters; PostgreSQL text cannot even hold U+0000.
  if (hasControlCharacter(v)) return fail("contains a control character");
  const t = type ?? detectType(v);
  if (!t) return fail("not a recognisable IP address, domain, URL, e-mail address or hash");
  switch (t) {
    case "IPV4":
      return ipv4(v);
    case "IPV6":
      return ipv6(v);
    case "DOMAIN":
      return domain(v);
    case "URL":
      return url(v);
    case "EMAIL":
      return email(v);
    default:
      return HASH_TYPES.includes(t) ? hash(v, type ?? undefined) : fail(`unsupported type ${t}`);
  }
}
