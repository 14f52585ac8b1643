import type { Tlp } from "../../access/tlp";
import type { ParsedItem, Parser, ReportItem, SightingItem } from "../ingest.types";
import type { ObservableType } from "../normalize";
import {
  isRecord,
  nonEmptyString,
  parseConfidence,
  parseIsoDate,
  strictestTlp,
  stringList,
  tlpFromName,
} from "./common";
import { walkJson, type Decision, type JsonPath, type ValueKind } from "./json-walk";
import { STANDARD_TLP_MARKINGS, TLP2_EXTENSION_ID } from "./stix-markings";
import { simplePatternValues } from "./stix-pattern";

type StixObject = Record<string, unknown>;

/** Cyber-observable types stored as observables, and the property that holds the value. */
const VALUE_OBSERVABLES: ReadonlyMap<string, ObservableType> = new Map(
  Object.entries({
    "ipv4-addr": "IPV4",
    "ipv6-addr": "IPV6",
    "domain-name": "DOMAIN",
    url: "URL",
    "email-addr": "EMAIL",
  } as const),
);
const OBSERVABLE_TYPES = new Set([...VALUE_OBSERVABLES.keys(), "file"]);

/** `file` hash names as STIX spells them (hashing-algorithm-ov), plus the usual variants. */
function hashType(name: string): ObservableType | undefined {
  switch (name.replace(/-/g, "").toUpperCase()) {
    case "MD5":
      return "MD5";
    case "SHA1":
      return "SHA1";
    case "SHA256":
      return "SHA256";
    case "SHA512":
      return "SHA512";
    default:
      return undefined;
  }
}

/** More custom marking definitions than this in one bundle are not remembered (memory bound). */
const MAX_CUSTOM_MARKINGS = 10_000;

class Rejection extends Error {}

/** The bundle-scoped state: TLP markings defined so far (standard ids are always known). */
class Markings {
  private readonly custom = new Map<string, Tlp>();

  /**
   * A marking-definition in the bundle that states a TLP level under another id: TLP 1.0 style
   * (`definition_type: "tlp"`, `definition.tlp`) or with the TLP 2.0 extension (`tlp_2_0`).
   * Standard ids keep their standard meaning whatever the object says.
   */
  learn(o: StixObject): void {
    const id = nonEmptyString(o.id);
    if (!id || STANDARD_TLP_MARKINGS.has(id) || this.custom.size >= MAX_CUSTOM_MARKINGS) return;
    const definition = isRecord(o.definition) ? o.definition : undefined;
    const extension = isRecord(o.extensions) ? o.extensions[TLP2_EXTENSION_ID] : undefined;
    const name =
      o.definition_type === "tlp" && typeof definition?.tlp === "string"
        ? definition.tlp
        : isRecord(extension) && typeof extension.tlp_2_0 === "string"
          ? extension.tlp_2_0
          : undefined;
    const tlp = name ? tlpFromName(name) : undefined;
    if (tlp) this.custom.set(id, tlp);
  }

  /** The strictest TLP among an object's `object_marking_refs`; other markings are ignored. */
  tlpOf(o: StixObject): Tlp | undefined {
    return strictestTlp(
      stringList(o.object_marking_refs).map((r) => STANDARD_TLP_MARKINGS.get(r) ?? this.custom.get(r)),
    );
  }
}

function date(o: StixObject, property: string): Date | undefined {
  const raw = o[property];
  if (raw === undefined || raw === null) return undefined;
  const d = typeof raw === "string" ? parseIsoDate(raw) : undefined;
  if (!d) throw new Rejection(`${property} is not a timestamp: ${JSON.stringify(raw)}`);
  return d;
}

function stixIdOf(o: StixObject): string | undefined {
  return nonEmptyString(o.id);
}

/** Copies the properties that are set: items carry no `undefined` keys. */
function assignDefined<T extends object>(target: T, values: Partial<T>): T {
  for (const k in values) if (values[k] !== undefined) target[k] = values[k] as T[typeof k];
  return target;
}

/** What every report from an indicator carries, whatever its pattern yields. */
function indicatorFields(o: StixObject, ref: string, markings: Markings): Omit<ReportItem, "value" | "type"> {
  let confidence: number | undefined;
  if (o.confidence !== undefined) {
    confidence = parseConfidence(o.confidence);
    if (confidence === undefined)
      throw new Rejection(`confidence must be an integer 0-100, not ${JSON.stringify(o.confidence)}`);
  }
  // STIX 2.0 put the indicator-type vocabulary in `labels`, 2.1 moved it to `indicator_types`:
  // both become labels so a filter on "malicious-activity" finds indicators of either version.
  const labels = [...new Set([...stringList(o.labels), ...stringList(o.indicator_types)])];
  const phases = Array.isArray(o.kill_chain_phases)
    ? o.kill_chain_phases.flatMap((p) =>
        isRecord(p) && typeof p.kill_chain_name === "string" && typeof p.phase_name === "string"
          ? [{ killChainName: p.kill_chain_name, phaseName: p.phase_name }]
          : [],
      )
    : [];
  return assignDefined<Omit<ReportItem, "value" | "type">>(
    { kind: "report", ref },
    {
      tlp: markings.tlpOf(o),
      confidence,
      validFrom: date(o, "valid_from"),
      validUntil: date(o, "valid_until"),
      labels: labels.length ? labels : undefined,
      killChainPhases: phases.length ? phases : undefined,
      // The hub keeps one text per report: the description, or the indicator's name without one.
      description: nonEmptyString(o.description) ?? nonEmptyString(o.name),
      stixId: stixIdOf(o),
      stixModified: date(o, "modified"),
      revoked: o.revoked === true ? true : undefined,
    },
  );
}

function indicator(o: StixObject, ref: string, markings: Markings): ParsedItem[] {
  const patternType = o.pattern_type ?? "stix";
  if (patternType !== "stix")
    return [{ kind: "skipped", ref, reason: `indicator with pattern_type ${String(patternType)}` }];
  const pattern = nonEmptyString(o.pattern);
  if (!pattern) return [{ kind: "rejected", ref, reason: "indicator has no pattern" }];
  const base = indicatorFields(o, ref, markings);
  const values = simplePatternValues(pattern);
  if (!values) return [{ ...base, value: pattern, type: "STIX_PATTERN" }];
  return values.map((v) => ({ ...base, value: v.value, type: v.type }));
}

/** Reports for a top-level cyber-observable: its value, or one per supported hash of a file. */
function observableValues(o: StixObject, ref: string): (ParsedItem | { value: string; type: ObservableType })[] {
  const type = String(o.type);
  const valueType = VALUE_OBSERVABLES.get(type);
  if (valueType) {
    const value = nonEmptyString(o.value);
    return value ? [{ value, type: valueType }] : [{ kind: "rejected", ref, reason: `${type} has no value` }];
  }
  const hashes = isRecord(o.hashes) ? Object.entries(o.hashes) : [];
  const out: (ParsedItem | { value: string; type: ObservableType })[] = [];
  for (const [name, value] of hashes) {
    const t = hashType(name);
    if (!t)
      out.push({
        kind: "skipped",
        ref: `${ref}.hashes.${name}`,
        reason: `file hash ${name} is not a stored hash type`,
      });
    else if (typeof value !== "string" || !value.trim())
      out.push({ kind: "rejected", ref: `${ref}.hashes.${name}`, reason: `file hash ${name} is empty` });
    else out.push({ value, type: t });
  }
  if (hashes.length === 0) out.push({ kind: "skipped", ref, reason: "file without hashes" });
  return out;
}

function observable(o: StixObject, ref: string, markings: Markings): ParsedItem[] {
  const tlp = markings.tlpOf(o);
  const stixId = stixIdOf(o);
  return observableValues(o, ref).map((v) =>
    "kind" in v ? v : assignDefined<ReportItem>({ kind: "report", ref, value: v.value, type: v.type }, { tlp, stixId }),
  );
}

function sightingCount(o: StixObject, property: string): number | undefined {
  const raw = o[property];
  if (raw === undefined) return undefined;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 0)
    throw new Rejection(`${property} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  return raw;
}

function sighting(o: StixObject, ref: string, markings: Markings): ParsedItem[] {
  const of = nonEmptyString(o.sighting_of_ref);
  if (!of) return [{ kind: "rejected", ref, reason: "sighting has no sighting_of_ref" }];
  // The hub keeps sightings of indicators; a sighting of a malware or a campaign has no value.
  if (!of.startsWith("indicator--"))
    return [{ kind: "skipped", ref, reason: `sighting of a ${of.split("--")[0]}, not of an indicator` }];
  return [
    assignDefined<SightingItem>(
      { kind: "sighting", ref, sightingOfRef: of },
      {
        tlp: markings.tlpOf(o),
        firstSeen: date(o, "first_seen"),
        lastSeen: date(o, "last_seen"),
        count: sightingCount(o, "count"),
        stixId: stixIdOf(o),
      },
    ),
  ];
}

/**
 * observed-data says the observables were seen: a sighting each. Referenced observables
 * (`object_refs`) are sightings of the observable's STIX id (reported from the same bundle);
 * embedded ones (the deprecated `objects` dictionary) are sightings of their values.
 */
function observedData(o: StixObject, ref: string, markings: Markings): ParsedItem[] {
  const common: Partial<SightingItem> = {
    tlp: markings.tlpOf(o),
    firstSeen: date(o, "first_observed"),
    lastSeen: date(o, "last_observed"),
    count: sightingCount(o, "number_observed"),
    stixId: stixIdOf(o),
  };
  const out: ParsedItem[] = [];
  if (Array.isArray(o.object_refs)) {
    o.object_refs.forEach((r, i) => {
      const at = `${ref}.object_refs[${i}]`;
      const type = typeof r === "string" ? r.split("--")[0] : undefined;
      if (typeof r !== "string" || !type)
        out.push({ kind: "rejected", ref: at, reason: "object_refs entry is not an id" });
      else if (!OBSERVABLE_TYPES.has(type))
        out.push({ kind: "skipped", ref: at, reason: `observed ${type} is not stored` });
      else out.push(assignDefined<SightingItem>({ kind: "sighting", ref: at, sightingOfRef: r }, common));
    });
  } else if (isRecord(o.objects)) {
    for (const [key, embedded] of Object.entries(o.objects)) {
      const at = `${ref}.objects.${key}`;
      const type = isRecord(embedded) && typeof embedded.type === "string" ? embedded.type : undefined;
      if (!isRecord(embedded) || !type) out.push({ kind: "rejected", ref: at, reason: "embedded object has no type" });
      else if (!OBSERVABLE_TYPES.has(type))
        out.push({ kind: "skipped", ref: at, reason: `observed ${type} is not stored` });
      else
        for (const v of observableValues(embedded, at))
          out.push(
            "kind" in v
              ? v
              : assignDefined<SightingItem>({ kind: "sighting", ref: at, value: v.value, type: v.type }, common),
          );
    }
  } else {
    out.push({ kind: "skipped", ref, reason: "observed-data without object_refs or objects" });
  }
  return out;
}

function stixObject(o: unknown, ref: string, markings: Markings): ParsedItem[] {
  if (!isRecord(o)) return [{ kind: "rejected", ref, reason: "not a JSON object" }];
  const type = nonEmptyString(o.type);
  if (!type) return [{ kind: "rejected", ref, reason: "object has no type" }];
  try {
    switch (type) {
      case "indicator":
        return indicator(o, ref, markings);
      case "sighting":
        return sighting(o, ref, markings);
      case "observed-data":
        return observedData(o, ref, markings);
      case "campaign":
      case "intrusion-set":
      case "threat-actor":
        return [assignDefined<ParsedItem>({ kind: "stix-attribution", ref, object: o }, { tlp: markings.tlpOf(o) })];
      case "relationship":
        if (o.relationship_type === "attributed-to" || o.relationship_type === "revoked-by")
          return [assignDefined<ParsedItem>({ kind: "stix-attribution", ref, object: o }, { tlp: markings.tlpOf(o) })];
        return [{ kind: "skipped", ref, reason: `${String(o.relationship_type)} relationship is not imported` }];
      case "marking-definition":
        markings.learn(o);
        return [{ kind: "skipped", ref, reason: "marking-definition" }];
      default:
        if (OBSERVABLE_TYPES.has(type)) return observable(o, ref, markings);
        return [{ kind: "skipped", ref, reason: `${type} is not an indicator, observable or sighting` }];
    }
  } catch (e) {
    if (e instanceof Rejection) return [{ kind: "rejected", ref, reason: `${type}: ${e.message}` }];
    throw e;
  }
}

/**
 * Parses a STIX 2.1 bundle as a stream: each element of `objects` is assembled, turned into items
 * and released before the next is read, so memory does not grow with the bundle.
 *
 * - `indicator` (pattern_type stix or none): simple patterns (see simplePatternValues) give one
 *   report per value, all with the indicator's id; any other pattern one STIX_PATTERN report
 *   with the whole text. Other pattern types (snort, yara, ...) are skipped.
 * - Top-level ipv4-addr, ipv6-addr, domain-name, url, email-addr and file (one report per MD5,
 *   SHA-1, SHA-256, SHA-512 hash) are reports; observed-data gives sightings (see observedData);
 *   `sighting` of an indicator gives a sighting of its id.
 * - TLP comes from `object_marking_refs`: the standard TLP 1.0 and 2.0 ids, and marking
 *   definitions earlier in the same bundle that state a TLP under another id; the strictest wins,
 *   other markings (statements, granular markings) are ignored and the feed default applies.
 * - campaign, intrusion-set, threat-actor and `attributed-to` / `revoked-by` relationships go
 *   through as they are (`stix-attribution` items, with their TLP) for the assessments module.
 * - Anything else (identity, malware, other relationships, marking-definition, ...) is skipped by type;
 *   an object with bad properties (timestamp, confidence, count) is rejected with the reason.
 * - Besides a bundle, accepts a TAXII envelope (`{"objects": [...]}`), a bare array of objects,
 *   and a single STIX object (a one-object bundle); any other JSON is one rejection. Malformed
 *   JSON throws.
 */
export const parseStix: Parser = async function* (input) {
  const markings = new Markings();
  // No prototype: a top-level "__proto__" key is then just a key.
  const root = Object.create(null) as Record<string, unknown>;
  let rootKind: ValueKind | undefined;
  let streamedObjects = false;

  const decide = (path: JsonPath, kind: ValueKind): Decision => {
    if (path.length === 0) {
      rootKind = kind;
      return kind === "scalar" ? "assemble" : "descend";
    }
    if (path.length === 1) {
      if (path[0] === "objects" && kind === "array") {
        streamedObjects = true;
        return "descend";
      }
      return "assemble";
    }
    return path.length === 2 && path[0] === "objects" ? "assemble" : "skip";
  };

  for await (const batch of walkJson(input, decide)) {
    for (const ev of batch) {
      let items: ParsedItem[] = [];
      if (ev.kind === "value") {
        const [first] = ev.path;
        if (ev.path.length === 0)
          items = [{ kind: "rejected", ref: "$", reason: "not a STIX bundle: the document is a single JSON value" }];
        else if (ev.path.length === 2) items = stixObject(ev.value, `objects[${String(ev.path[1])}]`, markings);
        else if (rootKind === "array") items = stixObject(ev.value, `[${String(first)}]`, markings);
        else if (typeof first === "string") root[first] = ev.value;
      } else if (ev.kind === "exit" && ev.path.length === 0 && ev.container === "object" && !streamedObjects) {
        items = endOfSingleObject(root, markings);
      }
      // A loop, not yield*: delegating to an array costs an extra await per item.
      for (const item of items) yield item;
    }
  }
};

/** The document was one object, not a streamed bundle: a bundle without objects, or one STIX object. */
function endOfSingleObject(root: StixObject, markings: Markings): ParsedItem[] {
  if (root.type === "bundle")
    return "objects" in root
      ? [{ kind: "rejected", ref: "objects", reason: "a bundle's objects must be an array" }]
      : [{ kind: "skipped", ref: "$", reason: "empty bundle" }];
  if (typeof root.type === "string" && typeof root.id === "string" && root.id.startsWith(`${root.type}--`))
    return stixObject(root, "$", markings);
  return [
    { kind: "rejected", ref: "$", reason: "not a STIX bundle, TAXII envelope or STIX object (no objects, type or id)" },
  ];
}
