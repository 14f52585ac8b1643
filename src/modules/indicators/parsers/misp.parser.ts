import { Tlp } from "../../access/tlp";
import type { ParsedItem, Parser, ReportItem, SightingItem, SourceGroup } from "../ingest.types";
import type { ObservableType } from "../normalize";
import { isRecord, nonEmptyString, parseIsoDate, strictestTlp, tlpFromName } from "./common";
import { pathRef, walkJson, type Decision, type JsonPath, type ValueKind } from "./json-walk";
import { Spool } from "./spool";

type Json = Record<string, unknown>;

/** MISP distribution levels (event, object and attribute). */
const Distribution = {
  ORGANISATION: 0,
  COMMUNITY: 1,
  CONNECTED: 2,
  ALL: 3,
  SHARING_GROUP: 4,
  INHERIT: 5,
} as const;

/**
 * Distribution as TLP, used only when no `tlp:` tag applies (a tag is the author's explicit
 * marking and wins), except 0 "your organisation only", which is always RED with an empty audience; 1 "this community"
 * is AMBER with the feed's audience; 4 "sharing group" is AMBER with the sharing group as the
 * whole audience (see sourceGroupOf); 2 "connected communities" and 3 "all communities" are
 * GREEN: MISP never says "public", only a tlp:clear / tlp:white tag does, so nothing becomes
 * CLEAR by distribution alone.
 */
const DISTRIBUTION_TLP: Readonly<Record<number, Tlp>> = {
  [Distribution.ORGANISATION]: Tlp.RED,
  [Distribution.COMMUNITY]: Tlp.AMBER,
  [Distribution.CONNECTED]: Tlp.GREEN,
  [Distribution.ALL]: Tlp.GREEN,
  [Distribution.SHARING_GROUP]: Tlp.AMBER,
};

/** The arrays of an event that hold attributes (or things the parser reports on) one by one. */
const SECTIONS = new Set(["Attribute", "Object", "ShadowAttribute"]);
/** Event properties the mapping needs; attributes wait (spooled) until all are read or the event ends. */
const NEEDED = ["Tag", "distribution", "info"] as const;

/** An event shared with a sharing group also needs the group's description, if it has one. */
const hasWhatAttributesNeed = (meta: Json): boolean =>
  NEEDED.every((k) => k in meta) &&
  (distribution(meta.distribution) !== Distribution.SHARING_GROUP || "SharingGroup" in meta);

export const TO_IDS_FALSE_LABEL = "misp:to_ids=false";

function distribution(v: unknown): number | undefined {
  const n = typeof v === "string" && /^\d$/.test(v) ? Number(v) : v;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 5 ? n : undefined;
}

function tagNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((t) => (isRecord(t) && typeof t.name === "string" ? [t.name] : typeof t === "string" ? [t] : []));
}

function tlpOfTags(tags: string[]): Tlp | undefined {
  return strictestTlp(tags.filter((t) => /^tlp:/i.test(t)).map(tlpFromName));
}

/** `osint:certainty="93"`: the OSINT taxonomy's certainty is a percentage, as STIX confidence is. */
function confidenceOfTags(tags: string[]): number | undefined {
  for (const t of tags) {
    const m = /^osint:certainty="?(\d{1,3})"?$/i.exec(t.trim());
    if (m && Number(m[1]) <= 100) return Number(m[1]);
  }
  return undefined;
}

/** MISP times: epoch seconds (`timestamp`, `date_sighting`) or ISO 8601 (`first_seen`, `last_seen`). */
function epochOrIso(v: unknown): Date | undefined {
  if (typeof v === "number" || (typeof v === "string" && /^\d+$/.test(v))) {
    const d = new Date(Number(v) * 1000);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }
  return typeof v === "string" ? parseIsoDate(v) : undefined;
}

/** An attribute's time property, or a Rejection when it is present but not a time. */
function attributeTime(attr: Json, property: string): Date | undefined {
  const v = attr[property];
  if (v === undefined || v === null || v === "") return undefined;
  const d = epochOrIso(v);
  if (!d) throw new Rejection(`${property} is not a time: ${JSON.stringify(v)}`);
  return d;
}

class Rejection extends Error {}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A MISP sharing group as an event describes it: its instance-local id, its uuid and name. */
interface MispGroup {
  id?: string;
  uuid?: string;
  name?: string;
}

/** A `sharing_group_id`: a positive integer, usually written as a string; "0" means none. */
function groupId(v: unknown): string | undefined {
  const s = typeof v === "number" ? String(v) : typeof v === "string" ? v.trim() : "";
  return /^[1-9]\d*$/.test(s) ? s : undefined;
}

/** A `SharingGroup` as MISP's API attaches it to events, objects and attributes (sometimes nested once more). */
function mispGroup(v: unknown): MispGroup | undefined {
  const g = isRecord(v) && isRecord(v.SharingGroup) ? v.SharingGroup : v;
  if (!isRecord(g)) return undefined;
  const uuid = typeof g.uuid === "string" ? g.uuid.trim() : "";
  return { id: groupId(g.id), uuid: UUID.test(uuid) ? uuid.toLowerCase() : undefined, name: nonEmptyString(g.name) };
}

/** What an event, object or attribute with distribution 4 says about its group. */
interface GroupRef {
  id?: string;
  group?: MispGroup;
}

const groupRef = (level: Json): GroupRef => ({
  id: groupId(level.sharing_group_id),
  group: mispGroup(level.SharingGroup),
});

function groupLabel(g: MispGroup | undefined, id?: string): string {
  const name = g?.name ? ` ${JSON.stringify(g.name)}` : "";
  const key = g?.uuid ? ` (${g.uuid})` : (g?.id ?? id) ? ` (id ${g?.id ?? id})` : "";
  return `MISP sharing group${name}${key}`;
}

/**
 * The one sharing group an attribute's distribution-4 levels (attribute, object, event) name, or
 * why it cannot be told. A level names its group by its own `SharingGroup` or by its
 * `sharing_group_id`, looked up among the groups the attribute, its object and its event describe;
 * only the uuid identifies a group beyond its MISP instance, so one described without it is not
 * mapped. Two different groups would mean their intersection, which no hub audience expresses.
 */
function sourceGroupOf(
  refs: GroupRef[],
  known: MispGroup[],
): { group: MispGroup & { uuid: string } } | { reason: string } {
  const found = new Map<string, MispGroup & { uuid: string }>();
  for (const r of refs) {
    const own = r.group?.uuid ? r.group : undefined;
    const g = own ?? (r.id ? known.find((k) => k.id === r.id && k.uuid) : undefined);
    if (!g?.uuid) {
      return {
        reason:
          r.id || r.group
            ? `distribution 4: ${groupLabel(r.group, r.id)} is not described with its uuid in this event`
            : "distribution 4 (sharing group) without a sharing group",
      };
    }
    found.set(g.uuid, { ...g, uuid: g.uuid });
  }
  const groups = [...found.values()];
  if (groups.length !== 1 || !groups[0])
    return {
      reason: `distribution 4 names different sharing groups at different levels: ${groups.map((g) => groupLabel(g)).join(", ")}`,
    };
  return { group: groups[0] };
}

function flag(v: unknown): boolean | undefined {
  if (v === true || v === 1 || v === "1" || v === "true") return true;
  if (v === false || v === 0 || v === "0" || v === "false") return false;
  return undefined;
}

/** What an event lends its attributes, computed once its properties are read. */
interface EventContext {
  tagTlp?: Tlp;
  distribution?: number;
  /** The event's own sharing group, when its distribution is 4. */
  groupRef: GroupRef;
  tags: string[];
  confidence?: number;
  info?: string;
}

function eventContext(meta: Json): EventContext {
  const tags = tagNames(meta.Tag);
  return {
    tagTlp: tlpOfTags(tags),
    distribution: distribution(meta.distribution),
    groupRef: groupRef(meta),
    tags: tags.filter((t) => !/^tlp:/i.test(t)),
    confidence: confidenceOfTags(tags),
    info: nonEmptyString(meta.info),
  };
}

type Valued = { value: string; type: ObservableType };
type Mapped = Valued[] | { skip: string } | { reject: string };

const ipType = (v: string): ObservableType => (v.includes(":") ? "IPV6" : "IPV4");
const HASH_TYPES: ReadonlyMap<string, ObservableType> = new Map([
  ["md5", "MD5"],
  ["sha1", "SHA1"],
  ["sha256", "SHA256"],
  ["sha512", "SHA512"],
]);

/** MISP attribute types the hub stores, and how their (possibly composite) values split. */
function mapValue(type: string, value: string): Mapped {
  const hash = HASH_TYPES.get(type);
  if (hash) return [{ value, type: hash }];
  const fileHash = type.startsWith("filename|") ? HASH_TYPES.get(type.slice("filename|".length)) : undefined;
  if (fileHash) {
    // A file name may itself contain "|"; the hash is what follows the last one.
    const at = value.lastIndexOf("|");
    return at >= 0 && at < value.length - 1
      ? [{ value: value.slice(at + 1), type: fileHash }]
      : { reject: `${type} value has no hash` };
  }
  const parts = (n: number): string[] | null => {
    const p = value.split("|");
    return p.length === n ? p : null;
  };
  switch (type) {
    case "ip-src":
    case "ip-dst":
      return [{ value, type: ipType(value) }];
    case "ip-src|port":
    case "ip-dst|port": {
      const p = parts(2);
      return p?.[0] ? [{ value: p[0], type: ipType(p[0]) }] : { reject: `${type} value is not ip|port` };
    }
    case "hostname":
    case "domain":
      return [{ value, type: "DOMAIN" }];
    case "hostname|port": {
      const p = parts(2);
      return p?.[0] ? [{ value: p[0], type: "DOMAIN" }] : { reject: `${type} value is not hostname|port` };
    }
    case "domain|ip": {
      const p = parts(2);
      return p?.[0] && p[1]
        ? [
            { value: p[0], type: "DOMAIN" },
            { value: p[1], type: ipType(p[1]) },
          ]
        : { reject: `${type} value is not domain|ip` };
    }
    case "url":
      return [{ value, type: "URL" }];
    case "uri":
      // A MISP uri is usually a path ("/gate.php"); only an absolute one names something to block.
      return /^[a-z][a-z0-9+.-]*:\/\//i.test(value)
        ? [{ value, type: "URL" }]
        : { skip: "uri without scheme and host" };
    case "link":
      return { skip: "link (a reference to a source, not an indicator)" };
    case "email":
    case "email-src":
    case "email-dst":
      return [{ value, type: "EMAIL" }];
    default:
      return { skip: `MISP attribute type ${type} is not stored` };
  }
}

interface Parent {
  /** The enclosing MISP object, for attributes inside an `Object`. */
  object?: Json;
}

function attributeItems(attr: unknown, ref: string, ev: EventContext, parent: Parent): ParsedItem[] {
  if (!isRecord(attr)) return [{ kind: "rejected", ref, reason: "attribute is not a JSON object" }];
  const type = nonEmptyString(attr.type);
  const raw =
    typeof attr.value === "string" ? attr.value.trim() : typeof attr.value === "number" ? String(attr.value) : "";
  if (!type) return [{ kind: "rejected", ref, value: raw || undefined, reason: "attribute has no type" }];
  if (!raw) return [{ kind: "rejected", ref, reason: `${type} attribute has no value` }];
  const mapped = mapValue(type, raw);
  if ("skip" in mapped) return [{ kind: "skipped", ref, reason: mapped.skip }];
  if ("reject" in mapped) return [{ kind: "rejected", ref, value: raw, reason: mapped.reject }];

  const object = parent.object;
  const ownTags = tagNames(attr.Tag);
  // Distribution 0 anywhere keeps it with the owner; else an explicit tlp: tag wins (attribute over
  // event); otherwise the strictest distribution that applies, as MISP itself never shares an
  // attribute wider than its object and event.
  const tagTlp = tlpOfTags(ownTags) ?? tlpOfTags(tagNames(object?.Tag)) ?? ev.tagTlp;
  const distributions = [distribution(attr.distribution), distribution(object?.distribution), ev.distribution].filter(
    (d): d is number => d !== undefined && d !== Distribution.INHERIT,
  );
  const distTlp = strictestTlp(distributions.map((d) => DISTRIBUTION_TLP[d]));
  const orgOnly = distributions.includes(Distribution.ORGANISATION);
  // Distribution 4 shares with a sharing group only: the group is the whole audience (whatever
  // the TLP), never the feed's default. Distribution 0 at any level already narrows it further.
  let sourceGroup: SourceGroup | undefined;
  const refs: GroupRef[] = [];
  if (distribution(attr.distribution) === Distribution.SHARING_GROUP) refs.push(groupRef(attr));
  if (object && distribution(object.distribution) === Distribution.SHARING_GROUP) refs.push(groupRef(object));
  if (ev.distribution === Distribution.SHARING_GROUP) refs.push(ev.groupRef);
  if (refs.length && !orgOnly) {
    const known = [mispGroup(attr.SharingGroup), mispGroup(object?.SharingGroup), ev.groupRef.group];
    const r = sourceGroupOf(
      refs,
      known.filter((g): g is MispGroup => g !== undefined),
    );
    if ("reason" in r) return [{ kind: "rejected", ref, value: raw, reason: r.reason }];
    sourceGroup = {
      id: r.group.uuid,
      label: groupLabel(r.group),
      withinFeedAudience: distributions.includes(Distribution.COMMUNITY),
    };
  }
  const groupAudience = sourceGroup ? { audienceOrgIds: [], audienceGroupIds: [], sourceGroup } : {};
  // Distribution 0 is the owner alone, whatever a tag says (MISP itself would never share it): an
  // explicit empty audience, so no feed default widens it.
  const marking = (): Pick<ReportItem, "tlp" | "audienceOrgIds" | "audienceGroupIds" | "sourceGroup"> =>
    orgOnly
      ? { tlp: Tlp.RED, audienceOrgIds: [], audienceGroupIds: [] }
      : tagTlp
        ? { tlp: tagTlp, ...groupAudience }
        : distTlp
          ? { tlp: distTlp, ...groupAudience }
          : {};

  const labels = new Set<string>();
  const category = nonEmptyString(attr.category);
  if (category) labels.add(`misp-category:${category}`);
  if (flag(attr.to_ids) === false) labels.add(TO_IDS_FALSE_LABEL);
  for (const t of [...ownTags, ...tagNames(object?.Tag), ...ev.tags]) if (!/^tlp:/i.test(t)) labels.add(t);

  let stamp: Date | undefined, firstSeen: Date | undefined, lastSeen: Date | undefined;
  try {
    stamp = attributeTime(attr, "timestamp");
    firstSeen = attributeTime(attr, "first_seen") ?? stamp;
    lastSeen = attributeTime(attr, "last_seen") ?? stamp;
  } catch (e) {
    if (e instanceof Rejection) return [{ kind: "rejected", ref, value: raw, reason: `${type}: ${e.message}` }];
    throw e;
  }
  if (firstSeen && lastSeen && firstSeen > lastSeen) [firstSeen, lastSeen] = [lastSeen, firstSeen];

  const confidence = confidenceOfTags(ownTags) ?? ev.confidence;
  const description = nonEmptyString(attr.comment) ?? nonEmptyString(object?.comment) ?? ev.info;
  const revoked = flag(attr.deleted) === true || flag(object?.deleted) === true;

  const items: ParsedItem[] = mapped.map((v) => {
    const item: ReportItem = { kind: "report", ref, value: v.value, type: v.type, ...marking() };
    if (labels.size) item.labels = [...labels];
    if (confidence !== undefined) item.confidence = confidence;
    if (firstSeen) item.firstSeen = firstSeen;
    if (lastSeen) item.lastSeen = lastSeen;
    if (description) item.description = description;
    // A deleted attribute is the author withdrawing it: revoke the report rather than forget it.
    if (revoked) item.revoked = true;
    return item;
  });

  if (Array.isArray(attr.Sighting))
    attr.Sighting.forEach((s, k) => {
      const at = `${ref}.Sighting[${k}]`;
      const kind = isRecord(s) ? String(s.type ?? "0") : undefined;
      if (kind === undefined) items.push({ kind: "rejected", ref: at, reason: "sighting is not a JSON object" });
      else if (kind !== "0")
        items.push({
          kind: "skipped",
          ref: at,
          reason: kind === "1" ? "false-positive sighting" : "expiration sighting",
        });
      else
        for (const v of mapped) {
          const when = epochOrIso(isRecord(s) ? s.date_sighting : undefined);
          const sighting: SightingItem = {
            kind: "sighting",
            ref: at,
            value: v.value,
            type: v.type,
            ...marking(),
            count: 1,
          };
          if (when) sighting.firstSeen = sighting.lastSeen = when;
          items.push(sighting);
        }
    });
  if (Array.isArray(attr.ShadowAttribute))
    attr.ShadowAttribute.forEach((_, k) =>
      items.push({ kind: "skipped", ref: `${ref}.ShadowAttribute[${k}]`, reason: "MISP proposal (ShadowAttribute)" }),
    );
  return items;
}

interface Pending {
  section: string;
  index: number;
  value: unknown;
}

function sectionItems(p: Pending, eventPath: JsonPath, ev: EventContext): ParsedItem[] {
  const ref = pathRef([...eventPath, p.section, p.index]);
  if (p.section === "ShadowAttribute") return [{ kind: "skipped", ref, reason: "MISP proposal (ShadowAttribute)" }];
  if (p.section === "Attribute") return attributeItems(p.value, ref, ev, {});
  const object = p.value;
  if (!isRecord(object)) return [{ kind: "rejected", ref, reason: "object is not a JSON object" }];
  if (!Array.isArray(object.Attribute) || object.Attribute.length === 0)
    return [{ kind: "skipped", ref, reason: "MISP object without attributes" }];
  return object.Attribute.flatMap((a, j) => attributeItems(a, `${ref}.Attribute[${j}]`, ev, { object }));
}

interface EventScope {
  path: JsonPath;
  meta: Json;
  ready: boolean;
  /** Saw attributes, objects or nested events: it is (or wraps) an event. */
  content: boolean;
  spool: Spool;
  context?: EventContext;
}

/**
 * Parses MISP JSON as a stream, in the three wrappings real files use: a feed file
 * `{"Event": {...}}`, a bare event `{"info": ..., "Attribute": [...]}`, and an API response
 * `{"response": [{"Event": {...}}, ...]}` with any number of events (a bare array of events too).
 *
 * Attributes, objects and proposals are assembled one at a time. The event's `Tag`,
 * `distribution` and `info` usually come after them (MISP writes `Tag` last), so attributes wait
 * in a Spool (in memory up to a limit, then in a temporary file) until those are read or the event
 * ends; memory stays bounded whatever the event's size.
 *
 * Mapping: see mapValue for the types kept (others are skipped by type); `to_ids: false` is kept
 * with the label "misp:to_ids=false" (MISP exports many real indicators that way, all of the ESET
 * feed included); `category` becomes the label "misp-category:<category>", other non-tlp tags of the
 * attribute, its object and its event become labels, `osint:certainty` the confidence; `comment`
 * (else the object's comment, else the event's `info`) the description; `first_seen`/`last_seen`,
 * with the attribute's `timestamp` standing in for a missing one, the first/last seen; `deleted`
 * a revoked report; `Sighting` entries of type 0 sightings of the value (false-positive and
 * expiration sightings are skipped). TLP: see attributeItems and DISTRIBUTION_TLP.
 *
 * Sharing groups: an attribute shared with a MISP sharing group (distribution 4 on it, its object
 * or its event) gets that group, by its uuid, as its whole audience (`sourceGroup`, empty audience
 * until ingestPayload maps it to the hub sharing group with that id, or rejects the item). MISP's
 * API describes each group (`SharingGroup`) next to the `sharing_group_id` that names it; an
 * attribute whose group is not described with its uuid is rejected, naming the group.
 */
export const parseMisp: Parser = async function* (input) {
  const scopes: EventScope[] = [];
  let rootKind: ValueKind | undefined;

  // Where events are is decided from the path alone: the walker asks ahead of the events it
  // reports, so the scope stack below may lag behind the path being decided.
  const isEventList = (path: JsonPath): boolean =>
    (path.length === 1 && rootKind === "array" && typeof path[0] === "number") ||
    (path.length === 2 && rootKind === "object" && path[0] === "response" && typeof path[1] === "number");
  const isEvent = (path: JsonPath): boolean =>
    path.length === 0
      ? rootKind === "object"
      : isEventList(path) || (path.at(-1) === "Event" && isEvent(path.slice(0, -1)));

  const decide = (path: JsonPath, kind: ValueKind): Decision => {
    if (path.length === 0) {
      rootKind = kind;
      return kind === "scalar" ? "assemble" : "descend";
    }
    if (isEventList(path)) return kind === "object" ? "descend" : "assemble";
    const key = path.at(-1);
    const parent = path.slice(0, -1);
    if (isEvent(parent)) {
      if (key === "Event" && kind === "object") return "descend";
      if (key === "response" && kind === "array" && parent.length === 0) return "descend";
      if (typeof key === "string" && SECTIONS.has(key) && kind === "array") return "descend";
      return key === "Tag" || key === "SharingGroup" || kind === "scalar" ? "assemble" : "skip";
    }
    if (path.length >= 2 && SECTIONS.has(String(path.at(-2))) && isEvent(path.slice(0, -2))) return "assemble";
    return "skip";
  };

  async function* release(scope: EventScope): AsyncGenerator<ParsedItem> {
    const ev = (scope.context ??= eventContext(scope.meta));
    for await (const p of scope.spool.drain())
      for (const item of sectionItems(p as Pending, scope.path, ev)) yield item;
  }

  try {
    for await (const batch of walkJson(input, decide)) {
      for (const e of batch) {
        const scope = scopes.at(-1);
        if (e.kind === "enter") {
          // Anything walked into inside an event is a section, a nested event or the response list.
          if (scope) scope.content = true;
          if (e.container === "object")
            scopes.push({
              path: e.path,
              meta: Object.create(null) as Json,
              ready: false,
              content: false,
              spool: new Spool(),
            });
        } else if (e.kind === "exit") {
          if (e.container !== "object" || !scope) continue;
          scopes.pop();
          scope.ready = true;
          yield* release(scope);
          if (!scope.content) {
            const ref = pathRef(scope.path);
            yield "info" in scope.meta || "uuid" in scope.meta
              ? { kind: "skipped", ref, reason: "MISP event without attributes" }
              : { kind: "rejected", ref, reason: "not a MISP event (no Event, response, Attribute or Object)" };
          }
        } else if (!scope || e.path.length === 0 || isEventList(e.path)) {
          yield { kind: "rejected", ref: pathRef(e.path), reason: "not a MISP event: not a JSON object" };
        } else if (e.path.length === scope.path.length + 1) {
          scope.meta[String(e.path.at(-1))] = e.value;
          if (!scope.ready && hasWhatAttributesNeed(scope.meta)) {
            scope.ready = true;
            yield* release(scope);
          }
        } else {
          const pending: Pending = {
            section: String(e.path[scope.path.length]),
            index: Number(e.path[scope.path.length + 1]),
            value: e.value,
          };
          if (!scope.ready) await scope.spool.push(pending);
          else
            for (const item of sectionItems(pending, scope.path, (scope.context ??= eventContext(scope.meta))))
              yield item;
        }
      }
    }
  } finally {
    for (const s of scopes) await s.spool.dispose();
  }
};
