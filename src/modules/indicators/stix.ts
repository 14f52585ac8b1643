import { hash, randomUUID } from "node:crypto";
import type { Tlp } from "../access/tlp";
import type { ObservableType } from "./normalize";

/**
 * Pure building blocks for STIX 2.1 output: deterministic cyber-observable ids, patterns,
 * observable objects, TLP marking definitions, owner identities and a streaming bundle writer.
 * Nothing here touches the database.
 *
 * Sources (STIX Version 2.1, OASIS; section numbers as in the OS text and Errata 01):
 * - 2.9 Identifier: SCO ids are UUIDv5 in namespace 00abedb4-aa42-466c-9c01-fed23315a9b7 over the
 *   RFC 8785 (JCS) serialisation of a JSON object holding the "ID Contributing Properties".
 * - 6.4/6.5/6.8/6.9/6.15: domain-name, email-addr, ipv4-addr, ipv6-addr, url contribute `value`.
 * - 6.7 File: contributes hashes, name, extensions, parent_directory_ref; "If the hashes property
 *   is present, include only one hash. The selected hash SHOULD come from this ordered list (based
 *   on the following order of preference) [ MD5, SHA-1, SHA-256, SHA-512 ]."
 * - 9.2 Constants: pattern strings are single-quoted; ' and \ inside them are escaped with \.
 * - 7.2.1.4 / common/marking-definition.json: the four TLP 1.0 marking-definition ids.
 * - TLP 2.0: the OASIS extension extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d
 *   (cti-stix-common-objects, extension-definition-specifications/tlp-2.0), which pins the five ids.
 */

/** The STIX 2.1 namespace for deterministic cyber-observable ids (section 2.9). */
export const STIX_SCO_NAMESPACE = "00abedb4-aa42-466c-9c01-fed23315a9b7";

/**
 * Our own UUIDv5 namespace for the hub's deterministic non-SCO ids (owner identities). Section
 * 2.9 forbids the SCO namespace for anything that does not follow the SCO rules.
 */
export const HUB_STIX_NAMESPACE = "58d71154-a85d-4033-8325-618d45a0e12e";

/** The STIX type of each observable type (null: no cyber-observable object). */
export const STIX_SCO_TYPE: Readonly<Record<ObservableType, string | null>> = {
  IPV4: "ipv4-addr",
  IPV6: "ipv6-addr",
  DOMAIN: "domain-name",
  URL: "url",
  EMAIL: "email-addr",
  MD5: "file",
  SHA1: "file",
  SHA256: "file",
  SHA512: "file",
  STIX_PATTERN: null,
};

/** The `hashes` dictionary key (hash-algorithm-ov, section 10.7) of each hash type. */
export const STIX_HASH_KEY: Readonly<Partial<Record<ObservableType, string>>> = {
  MD5: "MD5",
  SHA1: "SHA-1",
  SHA256: "SHA-256",
  SHA512: "SHA-512",
};

/** Section 6.7: the order of preference for the one hash that contributes to a file's id. */
export const ID_HASH_PREFERENCE = ["MD5", "SHA-1", "SHA-256", "SHA-512"] as const;

/**
 * RFC 8785 (JCS) serialisation of a JSON value: object members sorted by their names' UTF-16
 * code units (what Array.prototype.sort does to strings), no whitespace, strings and numbers as
 * ECMAScript's JSON.stringify writes them (which is what RFC 8785 section 3.2.2 prescribes).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError("JSON has no NaN or Infinity");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: unknown) => canonicalJson(v)).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  throw new TypeError(`not a JSON value: ${typeof value}`);
}

/**
 * Namespace then name, as SHA-1 input, in one reused buffer: a bulk ingest computes an id per
 * observable, and one-shot `hash()` over a reused buffer costs half of a `createHash` object each.
 */
let scratch = Buffer.alloc(1024);

/** RFC 4122 name-based UUID, version 5 (SHA-1), built with node:crypto. */
export function uuidv5(name: string, namespace: string): string {
  const hex = namespace.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new TypeError(`not a UUID: ${namespace}`);
  const size = 16 + Buffer.byteLength(name, "utf8");
  if (size > scratch.length) scratch = Buffer.alloc(size * 2);
  scratch.write(hex, 0, "hex");
  scratch.write(name, 16, "utf8");
  const bytes = hash("sha1", scratch.subarray(0, size), "buffer").subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x50, 6); // version 5
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 4122 variant
  const h = bytes.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The deterministic id of any SCO from its ID Contributing Properties, as section 2.9 says:
 * `<type>--` + UUIDv5(SCO namespace, JCS(properties)). The caller passes only the contributing
 * properties (for a file, with one hash already chosen: see `selectIdHash`).
 */
export function deterministicScoId(stixType: string, contributing: Record<string, unknown>): string {
  return `${stixType}--${uuidv5(canonicalJson(contributing), STIX_SCO_NAMESPACE)}`;
}

/**
 * Section 6.7 (and 6.18 for certificates): of a `hashes` dictionary only one hash contributes to
 * the id, the first present of MD5, SHA-1, SHA-256, SHA-512. The spec does not say which to take
 * when none of those is present; we take the smallest key (deterministic, unlike "the first").
 */
export function selectIdHash(hashes: Readonly<Record<string, string>>): Record<string, string> | null {
  const key = ID_HASH_PREFERENCE.find((k) => hashes[k] !== undefined) ?? Object.keys(hashes).sort()[0];
  const value = key === undefined ? undefined : hashes[key];
  return key === undefined || value === undefined ? null : { [key]: value };
}

/** The ID Contributing Properties of the hub's observable, or null for STIX_PATTERN. */
function contributingProperties(type: ObservableType, value: string): Record<string, unknown> | null {
  const hashKey = STIX_HASH_KEY[type];
  if (hashKey) return { hashes: { [hashKey]: value } };
  return STIX_SCO_TYPE[type] ? { value } : null;
}

/**
 * The deterministic STIX 2.1 id of the cyber-observable for a (normalised) hub observable:
 * `ipv4-addr--…` over {"value": …}, `file--…` over {"hashes": {"SHA-256": …}}; null for
 * STIX_PATTERN, which has no SCO.
 */
export function scoId(type: ObservableType, value: string): string | null {
  const stixType = STIX_SCO_TYPE[type];
  if (!stixType) return null;
  // The JCS text of contributingProperties(type, value), written out: a one-key object needs no
  // sorting, and JCS serialises strings exactly as JSON.stringify does (RFC 8785, 3.2.2.2).
  const hashKey = STIX_HASH_KEY[type];
  const jcs = hashKey
    ? `{"hashes":{${JSON.stringify(hashKey)}:${JSON.stringify(value)}}}`
    : `{"value":${JSON.stringify(value)}}`;
  return `${stixType}--${uuidv5(jcs, STIX_SCO_NAMESPACE)}`;
}

export interface StixSco {
  type: string;
  spec_version: "2.1";
  id: string;
  value?: string;
  hashes?: Record<string, string>;
}

/** The SCO for a hub observable (`{type, spec_version, id, value}` or a file with its hash), or null. */
export function scoObject(type: ObservableType, value: string): StixSco | null {
  const stixType = STIX_SCO_TYPE[type];
  const props = contributingProperties(type, value);
  if (!stixType || !props) return null;
  return { type: stixType, spec_version: "2.1", id: deterministicScoId(stixType, props), ...props };
}

/** A STIX pattern string literal (section 9.2): single quotes, with ' and \ escaped by \. */
export function patternString(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/**
 * The STIX pattern for a hub observable: `[ipv4-addr:value = '198.51.100.1']`,
 * `[file:hashes.'SHA-256' = '…']` (MD5 needs no quotes: it is an identifier without hyphen).
 * STIX_PATTERN observables are patterns already and come back unchanged.
 */
export function patternFor(type: ObservableType, value: string): string {
  if (type === "STIX_PATTERN") return value;
  const hashKey = STIX_HASH_KEY[type];
  if (hashKey) {
    const path = /^[A-Za-z_][A-Za-z0-9_]*$/.test(hashKey) ? hashKey : patternString(hashKey);
    return `[file:hashes.${path} = ${patternString(value)}]`;
  }
  return `[${STIX_SCO_TYPE[type]}:value = ${patternString(value)}]`;
}

// ---------------------------------------------------------------------------------------------
// Markings

/** The TLP 2.0 marking extension's id (oasis-open/cti-stix-common-objects, tlp-2.0). */
export const TLP2_EXTENSION_ID = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

/** TLP 2.0 marking-definition ids, as the extension's JSON schema pins them. */
export const TLP2_MARKING_ID: Readonly<Record<Tlp, string>> = {
  CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
  GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
  AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
  AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
  RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
};

/** The `name` and `tlp_2_0` value of each level, as the extension's JSON schema pins them. */
const TLP2_NAMES: Readonly<Record<Tlp, { name: string; tlp_2_0: string }>> = {
  CLEAR: { name: "TLP:CLEAR", tlp_2_0: "clear" },
  GREEN: { name: "TLP:GREEN", tlp_2_0: "green" },
  AMBER: { name: "TLP:AMBER", tlp_2_0: "amber" },
  AMBER_STRICT: { name: "TLP:AMBER+STRICT", tlp_2_0: "amber+strict" },
  RED: { name: "TLP:RED", tlp_2_0: "red" },
};

/** The `created` timestamp of all five published TLP 2.0 marking-definition objects. */
export const TLP2_CREATED = "2022-10-01T00:00:00.000Z";

export interface Tlp2MarkingDefinition {
  type: "marking-definition";
  spec_version: "2.1";
  id: string;
  created: string;
  name: string;
  extensions: Record<string, { extension_type: "property-extension"; tlp_2_0: string }>;
}

/**
 * The TLP 2.0 marking-definition object for a level, exactly as published by OASIS
 * (cti-stix-common-objects: the tlp-2.0 examples and objects/marking-definition/*), for
 * inclusion in exports. A fresh object each call, so callers may not corrupt a shared one.
 */
export function tlp2MarkingDefinition(tlp: Tlp): Tlp2MarkingDefinition {
  const { name, tlp_2_0 } = TLP2_NAMES[tlp];
  return {
    type: "marking-definition",
    spec_version: "2.1",
    id: TLP2_MARKING_ID[tlp],
    created: TLP2_CREATED,
    name,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: "property-extension", tlp_2_0 } },
  };
}

/** TLP 1.0 levels as STIX 2.x core names them. */
export type Tlp1 = "white" | "green" | "amber" | "red";

/** TLP 1.0 marking-definition ids (STIX 2.1 section 7.2.1.4; common/marking-definition.json). */
export const TLP1_MARKING_ID: Readonly<Record<Tlp1, string>> = {
  white: "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
  green: "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
  amber: "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
  red: "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
};

/** The hub's TLP (2.0) level for each TLP 1.0 level: WHITE became CLEAR, the rest kept their names. */
export const TLP1_TO_TLP: Readonly<Record<Tlp1, Tlp>> = {
  white: "CLEAR",
  green: "GREEN",
  amber: "AMBER",
  red: "RED",
};

const TLP_BY_MARKING_ID: ReadonlyMap<string, Tlp> = new Map<string, Tlp>([
  ...(Object.entries(TLP2_MARKING_ID) as [Tlp, string][]).map(([tlp, id]): [string, Tlp] => [id, tlp]),
  ...(Object.entries(TLP1_MARKING_ID) as [Tlp1, string][]).map(([t1, id]): [string, Tlp] => [id, TLP1_TO_TLP[t1]]),
]);

/** The TLP level a TLP 1.0 or TLP 2.0 marking-definition id stands for, or null for any other id. */
export function tlpOfMarkingId(id: string): Tlp | null {
  return TLP_BY_MARKING_ID.get(id) ?? null;
}

// ---------------------------------------------------------------------------------------------
// Identities, timestamps, bundles

/** A STIX timestamp with millisecond precision, as SDOs' created/modified require. */
export function stixTimestamp(t: Date | string | number): string {
  const d = t instanceof Date ? t : new Date(t);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(t)}`);
  return d.toISOString();
}

/** `created`/`modified` of an owner identity when the organisation gives no times of its own. */
export const IDENTITY_EPOCH = "2020-01-01T00:00:00.000Z";

export interface StixIdentity {
  type: "identity";
  spec_version: "2.1";
  id: string;
  created: string;
  modified: string;
  name: string;
  identity_class: "organization";
  roles: string[];
}

/** The deterministic STIX id of a hub organisation's identity (UUIDv5 in the hub's namespace). */
export function identityId(orgId: string): string {
  return `identity--${uuidv5(orgId, HUB_STIX_NAMESPACE)}`;
}

/**
 * The STIX identity of an owner organisation, for `created_by_ref`. The id is deterministic, so
 * every export names the same creator the same way. STIX versioning (section 3.6) says one
 * id+modified must always carry the same properties: pass the organisation's `updatedAt` so that
 * a renamed organisation becomes a new version; without it created/modified are a fixed epoch.
 */
export function identityFor(org: {
  id: string;
  name: string;
  kind: string;
  createdAt?: Date | string | null;
  updatedAt?: Date | string | null;
}): StixIdentity {
  const created = org.createdAt ? stixTimestamp(org.createdAt) : IDENTITY_EPOCH;
  const updated = org.updatedAt ? stixTimestamp(org.updatedAt) : created;
  return {
    type: "identity",
    spec_version: "2.1",
    id: identityId(org.id),
    created,
    modified: updated < created ? created : updated,
    name: org.name,
    identity_class: "organization",
    roles: [org.kind.toLowerCase().replace(/_/g, "-")],
  };
}

export interface StixBundleOptions {
  /** Chunks are at least this many characters (except the last); 0 yields one chunk per object. */
  chunkSize?: number;
}

/**
 * Streams a STIX bundle as string chunks: `{"type":"bundle","id":"bundle--…","objects":[`, the
 * objects, `]}`. Objects are pulled one at a time, so a large export never sits whole in memory.
 * A bundle without objects omits `objects` (STIX forbids empty lists; the schema wants minItems 1).
 */
export async function* stixBundle(
  objects: AsyncIterable<object> | Iterable<object>,
  bundleId?: string,
  options: StixBundleOptions = {},
): AsyncGenerator<string, void, undefined> {
  const chunkSize = options.chunkSize ?? 64 * 1024;
  const id = !bundleId ? `bundle--${randomUUID()}` : bundleId.startsWith("bundle--") ? bundleId : `bundle--${bundleId}`;
  let buffer = `{"type":"bundle","id":${JSON.stringify(id)}`;
  let first = true;
  for await (const object of objects) {
    buffer += (first ? ',"objects":[' : ",") + JSON.stringify(object);
    first = false;
    if (buffer.length >= chunkSize) {
      yield buffer;
      buffer = "";
    }
  }
  yield buffer + (first ? "}" : "]}");
}
