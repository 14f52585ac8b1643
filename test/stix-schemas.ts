/**
 * Validation of STIX 2.1 output against the official OASIS JSON schemas (draft 2020-12) in
 * ../shared/fixtures/stix2.1-json-schemas, plus the rules the schemas cannot express (timestamp
 * order), and TLP 2.0 marking definitions against the extension's own schema. A test helper, not
 * a test file.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { domainToASCII } from "node:url";
import Ajv2020 from "ajv/dist/2020";
import type { AnySchemaObject, ErrorObject, ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import draft07 from "ajv/dist/refs/json-schema-draft-07.json";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const fixturesDir = path.resolve(repoRoot, "../shared/fixtures");
export const schemasDir = path.join(fixturesDir, "stix2.1-json-schemas", "schemas");
/** The TLP 2.0 marking extension's JSON schema (draft-07): it pins the five marking definitions. */
export const tlp2SchemaFile = path.join(
  fixturesDir,
  "stix2.1-tlp2-marking-extension",
  "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json",
);
const TLP2_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d";

function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? jsonFiles(p) : e.name.endsWith(".json") ? [p] : [];
  });
}

/** hostname per RFC 1123 after IDNA (ajv-formats has no idn-hostname, which domain-name.json uses). */
function idnHostname(value: string): boolean {
  const ascii = domainToASCII(value.replace(/\.$/, ""));
  return (
    !!ascii &&
    ascii.length <= 253 &&
    ascii.split(".").every((l) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(l))
  );
}

interface Loaded {
  ajv: Ajv2020;
  /** STIX type → the $id of the schema for objects of that type. */
  byType: Map<string, string>;
  bundleId: string;
  /** The STIX types common/bundle.json lists by reference (see validateStix for those it omits). */
  bundleTypes: Set<string>;
  tlp2Id: string;
}

let loaded: Loaded | undefined;

/** Loads all 57 schemas once (they $ref each other by relative path, so all must be present). */
function load(): Loaded {
  if (loaded) return loaded;
  const ajv = new Ajv2020({ strict: false, unicodeRegExp: false, allErrors: true });
  addFormats(ajv);
  ajv.addFormat("idn-hostname", idnHostname);
  const byType = new Map<string, string>();
  let bundleId = "";
  let bundleTypes = new Set<string>();
  const files = jsonFiles(schemasDir);
  if (files.length === 0) throw new Error(`no STIX schemas under ${schemasDir}`);
  for (const file of files) {
    const schema = JSON.parse(readFileSync(file, "utf8")) as AnySchemaObject & { $id: string };
    ajv.addSchema(schema);
    const dir = path.basename(path.dirname(file));
    const name = path.basename(file, ".json");
    if (["sdos", "sros", "observables"].includes(dir)) byType.set(name, schema.$id);
    else if (["marking-definition", "language-content", "extension-definition"].includes(name))
      byType.set(name, schema.$id);
    else if (name === "bundle") {
      bundleId = schema.$id;
      const refs =
        JSON.stringify(schema).match(/"\$ref":"\.\.\/(?:sdos|sros|observables|common)\/[a-z0-9-]+\.json"/g) ?? [];
      bundleTypes = new Set(refs.map((r) => path.basename(r.slice(8, -1), ".json")));
    }
  }
  // The TLP 2.0 extension's schema is draft-07 and $refs the 2.1 schemas by their absolute $id.
  ajv.addMetaSchema(draft07);
  const tlp2 = JSON.parse(readFileSync(tlp2SchemaFile, "utf8")) as AnySchemaObject & { $id: string };
  ajv.addSchema(tlp2);
  loaded = { ajv, byType, bundleId, bundleTypes, tlp2Id: tlp2.$id };
  return loaded;
}

function validator(id: string): ValidateFunction {
  const v = load().ajv.getSchema(id);
  if (!v) throw new Error(`schema ${id} did not compile`);
  return v;
}

function describe(errors: ErrorObject[] | null | undefined, where: string): string[] {
  return (errors ?? []).map((e) => `${where}${e.instancePath || "/"} ${e.message ?? e.keyword}`);
}

/** Compares two STIX (RFC 3339, Z) timestamps exactly, fractions of any length included; NaN if one is not one. */
export function compareTimestamps(a: string, b: string): number {
  const split = (t: string): [number, string] => {
    const m = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(t);
    if (!m?.[1]) return [Number.NaN, ""];
    return [Date.parse(`${m[1]}Z`), (m[2] ?? "").padEnd(12, "0")];
  };
  const [sa, fa] = split(a);
  const [sb, fb] = split(b);
  if (Number.isNaN(sa) || Number.isNaN(sb)) return Number.NaN;
  if (sa !== sb) return sa < sb ? -1 : 1;
  return fa < fb ? -1 : fa > fb ? 1 : 0;
}

/** Pairs of timestamp properties whose order the STIX text prescribes and the schemas cannot check. */
const ORDERED: readonly [earlier: string, later: string, rule: string][] = [
  ["created", "modified", "modified MUST NOT be earlier than created (3.6.1)"],
  ["valid_from", "valid_until", "valid_until MUST be later than valid_from (4.7.1)"],
  ["first_seen", "last_seen", "last_seen MUST be later than or equal to first_seen"],
  ["first_observed", "last_observed", "last_observed MUST be later than or equal to first_observed (4.14.1)"],
];

function orderErrors(object: Record<string, unknown>, where: string): string[] {
  const out: string[] = [];
  for (const [earlier, later, rule] of ORDERED) {
    const a = object[earlier];
    const b = object[later];
    if (typeof a !== "string" || typeof b !== "string") continue;
    const c = compareTimestamps(a, b);
    if (Number.isNaN(c) || c > 0 || (c === 0 && earlier === "valid_from")) out.push(`${where}/${later} ${rule}`);
  }
  return out;
}

function validateObject(object: unknown, where: string): string[] {
  if (typeof object !== "object" || object === null || Array.isArray(object)) return [`${where}/ not an object`];
  const o = object as Record<string, unknown>;
  const type = o.type;
  if (typeof type !== "string") return [`${where}/type missing`];
  const id = load().byType.get(type);
  if (!id) return [`${where}/type no schema for STIX type "${type}"`];
  const v = validator(id);
  const errors = v(o) ? [] : describe(v.errors, where);
  // A marking definition that uses the TLP 2.0 extension must also be one of its five objects.
  const ext = o.extensions;
  if (type === "marking-definition" && typeof ext === "object" && ext !== null && TLP2_EXTENSION in ext) {
    const t = validator(load().tlp2Id);
    if (!t(o)) errors.push(...describe(t.errors, `${where} (TLP 2.0 extension)`));
  }
  return [...errors, ...orderErrors(o, where)];
}

/**
 * Validates a STIX object or bundle and returns its errors (empty when valid). A bundle is checked
 * against common/bundle.json, and each of its objects against its own type's schema as well (for
 * readable errors), plus the timestamp-order rules the schemas cannot express.
 */
export function validateStix(object: unknown): string[] {
  if (typeof object !== "object" || object === null || (object as { type?: unknown }).type !== "bundle")
    return validateObject(object, "");
  const v = validator(load().bundleId);
  const envelope = v(object) ? [] : (v.errors ?? []);
  const objects = (object as { objects?: unknown }).objects;
  const own = Array.isArray(objects) ? objects.map((o, i) => validateObject(o, `objects[${i}]`)) : [];
  // The envelope's errors inside an object are an unreadable oneOf over every STIX type: show an
  // object's own errors instead, and the envelope's only where the object's own schema found none.
  // common/bundle.json omits five SDO types of STIX 2.1 (grouping, incident, location, note,
  // opinion) from its list, and its custom-object branch then fails them too (a valid one matches
  // both core.json and cyber-observable-core.json, and that branch is a oneOf): an object of a type
  // the bundle schema does not list is judged by its own official schema alone.
  const { bundleTypes, byType } = load();
  const unlisted = (i: number) => {
    const type = Array.isArray(objects) ? (objects[i] as { type?: unknown } | undefined)?.type : undefined;
    return typeof type === "string" && byType.has(type) && !bundleTypes.has(type);
  };
  const envelopeErrors = envelope.filter((e) => {
    const i = /^\/objects\/(\d+)/.exec(e.instancePath)?.[1];
    return i === undefined || (own[Number(i)]?.length === 0 && !unlisted(Number(i)));
  });
  return [...describe(envelopeErrors, "bundle"), ...own.flat()];
}
