import type { Tlp } from "../access/tlp";
import type { ObservableType } from "./normalize";

/**
 * A sharing group of the source (a MISP sharing group) that an item is shared with. It maps to
 * the hub sharing group with the same id; until it is mapped the item's audience is empty (the
 * owner only), so an item that skipped the mapping is never shared wider than its source says.
 */
export interface SourceGroup {
  /** The hub sharing group id it must match (a MISP sharing group's uuid, lower case). */
  id: string;
  /** How rejection reasons name it, e.g. `MISP sharing group "CERT circle" (<uuid>)`. */
  label: string;
  /**
   * The source also limits the item to the feed's audience (MISP distribution 1, "this
   * community", at another level): the group alone is that exactly only when the feed's
   * default audience names the group.
   */
  withinFeedAudience: boolean;
}

/**
 * What every parser (STIX, MISP, CSV) yields: format-neutral claims about raw values. The ingest
 * engine normalises the values, applies the feed's defaults for whatever an item leaves out,
 * and writes them set-based.
 */
export interface ReportItem {
  kind: "report";
  /** Where the item came from in the input, for the rejection list: "objects[12]", "line 40". */
  ref: string;
  /** The raw value (refanged and normalised later); for STIX_PATTERN the whole pattern. */
  value: string;
  /** The type when the source says it; otherwise it is detected from the value. */
  type?: ObservableType;
  tlp?: Tlp;
  /** Audience organisations / sharing groups by hub id, when the source maps to them. */
  audienceOrgIds?: string[];
  audienceGroupIds?: string[];
  /** The audience is this sharing group of the source, mapped by ingestPayload (see SourceGroup). */
  sourceGroup?: SourceGroup;
  /** STIX 0-100. */
  confidence?: number;
  firstSeen?: Date;
  lastSeen?: Date;
  validFrom?: Date;
  validUntil?: Date;
  labels?: string[];
  killChainPhases?: { killChainName: string; phaseName: string }[];
  description?: string;
  stixId?: string;
  stixModified?: Date;
  revoked?: boolean;
}

export interface SightingItem {
  kind: "sighting";
  ref: string;
  /** The sighted value, when the source gives it directly (MISP sightings, STIX observed-data). */
  value?: string;
  type?: ObservableType;
  /** Or the STIX id of the indicator sighted, resolved against reports in the same ingest or earlier. */
  sightingOfRef?: string;
  tlp?: Tlp;
  audienceOrgIds?: string[];
  audienceGroupIds?: string[];
  sourceGroup?: SourceGroup;
  firstSeen?: Date;
  lastSeen?: Date;
  count?: number;
  stixId?: string;
}

/** An input element that could not become an item, with the reason (never silently dropped). */
export interface RejectedItem {
  kind: "rejected";
  ref: string;
  value?: string;
  reason: string;
}

/** Something the parser noticed but is not an indicator (e.g. an unsupported object type). */
export interface SkippedItem {
  kind: "skipped";
  ref: string;
  reason: string;
}

/**
 * A STIX object of an attribution (campaign, intrusion-set, threat-actor, or an `attributed-to` /
 * `revoked-by` relationship) as sent, plain JSON, with the TLP its markings state. The ingest
 * hands these to the assessments module (assessments/stix-import.ts), which reads them.
 */
export interface StixAttributionItem {
  kind: "stix-attribution";
  ref: string;
  tlp?: Tlp;
  object: Record<string, unknown>;
}

export type ParsedItem = ReportItem | SightingItem | RejectedItem | SkippedItem | StixAttributionItem;

/** Parsers read a byte stream and yield items as they go: memory stays bounded by the item. */
export type Parser = (input: AsyncIterable<Uint8Array | string>) => AsyncIterable<ParsedItem>;
