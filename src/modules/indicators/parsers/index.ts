import type { FeedFormat } from "../indicators.table";
import type { Parser } from "../ingest.types";
import { parseCsv } from "./csv.parser";
import { parseMisp } from "./misp.parser";
import { parseStix } from "./stix.parser";

export { parseCsv, parseMisp, parseStix };
export { simplePatternValues } from "./stix-pattern";
export { STANDARD_TLP_MARKINGS, TLP1_MARKING_IDS, TLP2_EXTENSION_ID, TLP2_MARKING_IDS } from "./stix-markings";
export { TO_IDS_FALSE_LABEL } from "./misp.parser";

const PARSERS: Readonly<Record<FeedFormat, Parser>> = {
  STIX: parseStix,
  MISP: parseMisp,
  CSV: parseCsv,
};

export function parserFor(format: FeedFormat): Parser {
  return PARSERS[format];
}

/**
 * The format a request body's media type names, or null when it does not say (plain
 * `application/json`, which STIX and MISP share, or anything unknown): the caller then uses the
 * feed's registered format. Parameters (`; version=2.1`, `; charset=utf-8`) are ignored.
 *
 * - application/stix+json, application/taxii+json (a TAXII envelope) → STIX
 * - application/vnd.misp+json, application/misp+json → MISP
 * - text/csv, text/plain, text/tab-separated-values → CSV
 */
export function formatFromContentType(contentType: string | null | undefined): FeedFormat | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  switch (type) {
    case "application/stix+json":
    case "application/taxii+json":
      return "STIX";
    case "application/vnd.misp+json":
    case "application/misp+json":
      return "MISP";
    case "text/csv":
    case "text/plain":
    case "text/tab-separated-values":
      return "CSV";
    default:
      return null;
  }
}
