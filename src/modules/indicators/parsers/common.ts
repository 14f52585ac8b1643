import { Tlp } from "../../access/tlp";

/** TLP levels from least to most restrictive; when sources disagree, parsers keep the strictest. */
const TLP_ORDER: readonly Tlp[] = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT, Tlp.RED];

export function strictestTlp(levels: Iterable<Tlp | undefined>): Tlp | undefined {
  let best: Tlp | undefined;
  for (const l of levels) if (l && (!best || TLP_ORDER.indexOf(l) > TLP_ORDER.indexOf(best))) best = l;
  return best;
}

/**
 * TLP names as feeds and tags spell them (TLP 1.0 and 2.0, with or without the `TLP:` prefix,
 * any case); WHITE is TLP 1.0's name for CLEAR.
 */
export function tlpFromName(name: string): Tlp | undefined {
  switch (
    name
      .trim()
      .toLowerCase()
      .replace(/^tlp:\s*/, "")
  ) {
    case "clear":
    case "white":
      return Tlp.CLEAR;
    case "green":
      return Tlp.GREEN;
    case "amber":
      return Tlp.AMBER;
    case "amber+strict":
    case "amber_strict":
    case "amber-strict":
      return Tlp.AMBER_STRICT;
    case "red":
      return Tlp.RED;
    default:
      return undefined;
  }
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** An ISO 8601 / RFC 3339 date or timestamp, or undefined when the text is anything else. */
export function parseIsoDate(text: string): Date | undefined {
  const t = text.trim();
  if (!ISO_DATE.test(t)) return undefined;
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** STIX and CSV confidence: an integer 0-100 (a numeric string in CSV). */
export function parseConfidence(raw: unknown): number | undefined {
  const n = typeof raw === "string" && /^\s*\d{1,3}\s*$/.test(raw) ? Number(raw) : raw;
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 100 ? n : undefined;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function stringList(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string" && x.trim() !== "") : [];
}

export function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}
