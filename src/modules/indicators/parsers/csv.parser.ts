import { parse } from "csv-parse";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ParsedItem, Parser, ReportItem } from "../ingest.types";
import type { ObservableType } from "../normalize";
import { parseConfidence, parseIsoDate, tlpFromName } from "./common";

/** Columns a header row may name, each under its spellings (compared lower-case, letters and digits only). */
const COLUMNS = {
  value: ["value", "indicator", "ioc", "observable"],
  type: ["type"],
  confidence: ["confidence"],
  tlp: ["tlp"],
  labels: ["labels", "label", "tags"],
  firstSeen: ["firstseen"],
  lastSeen: ["lastseen"],
  validFrom: ["validfrom"],
  validUntil: ["validuntil"],
  description: ["description", "comment"],
} as const;
type Column = keyof typeof COLUMNS;

const COLUMN_BY_NAME = new Map<string, Column>(
  (Object.entries(COLUMNS) as [Column, readonly string[]][]).flatMap(([col, names]) => names.map((n) => [n, col])),
);

/** Type names a `type` cell may hold; "IP" means IPv4 or IPv6 by the value. */
const TYPE_BY_NAME: ReadonlyMap<string, ObservableType | "IP"> = new Map(
  Object.entries({
    ip: "IP",
    ipaddr: "IP",
    ipaddress: "IP",
    ipsrc: "IP",
    ipdst: "IP",
    ipv4: "IPV4",
    ipv4addr: "IPV4",
    ipv4address: "IPV4",
    ipv6: "IPV6",
    ipv6addr: "IPV6",
    ipv6address: "IPV6",
    domain: "DOMAIN",
    domainname: "DOMAIN",
    hostname: "DOMAIN",
    fqdn: "DOMAIN",
    url: "URL",
    uri: "URL",
    email: "EMAIL",
    emailaddr: "EMAIL",
    emailaddress: "EMAIL",
    md5: "MD5",
    sha1: "SHA1",
    sha256: "SHA256",
    sha512: "SHA512",
    stix: "STIX_PATTERN",
    stixpattern: "STIX_PATTERN",
  } as const),
);

const simplify = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, "");

/** The header's columns by position, or null when the row is data (some cell is not a column name). */
function headerOf(cells: string[]): (Column | undefined)[] | null {
  const named = cells.filter((c) => c.trim() !== "");
  if (named.length === 0 || !named.every((c) => COLUMN_BY_NAME.has(simplify(c)))) return null;
  const seen = new Set<Column>();
  // A repeated column name: the first one counts, later ones are ignored.
  return cells.map((c) => {
    const col = COLUMN_BY_NAME.get(simplify(c));
    if (!col || seen.has(col)) return undefined;
    seen.add(col);
    return col;
  });
}

function row(cells: string[], header: (Column | undefined)[], line: number): ParsedItem {
  const ref = `line ${line}`;
  const cell: Partial<Record<Column, string>> = {};
  header.forEach((col, i) => {
    const v = cells[i]?.trim();
    if (col && v) cell[col] = v;
  });
  const value = cell.value;
  if (!value) return { kind: "rejected", ref, reason: `${ref}: the value cell is empty` };
  const item: ReportItem = { kind: "report", ref, value };
  const problems: string[] = [];
  if (cell.type) {
    const t = TYPE_BY_NAME.get(simplify(cell.type));
    if (!t) problems.push(`unknown type ${JSON.stringify(cell.type)}`);
    else item.type = t === "IP" ? (value.includes(":") ? "IPV6" : "IPV4") : t;
  }
  if (cell.confidence) {
    const c = parseConfidence(cell.confidence);
    if (c === undefined) problems.push(`confidence must be an integer 0-100, not ${JSON.stringify(cell.confidence)}`);
    else item.confidence = c;
  }
  if (cell.tlp) {
    const t = tlpFromName(cell.tlp);
    if (!t) problems.push(`unknown TLP ${JSON.stringify(cell.tlp)}`);
    else item.tlp = t;
  }
  for (const col of ["firstSeen", "lastSeen", "validFrom", "validUntil"] as const) {
    const raw = cell[col];
    if (!raw) continue;
    const d = parseIsoDate(raw);
    if (!d)
      problems.push(
        `${col.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} is not an ISO 8601 date: ${JSON.stringify(raw)}`,
      );
    else item[col] = d;
  }
  if (cell.labels) {
    const labels = cell.labels
      .split(/[;|,]/)
      .map((l) => l.trim())
      .filter(Boolean);
    if (labels.length) item.labels = labels;
  }
  if (cell.description) item.description = cell.description;
  if (problems.length) return { kind: "rejected", ref, value, reason: `${ref}: ${problems.join("; ")}` };
  return item;
}

interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** Longest record accepted (characters); a longer one is rejected instead of filling memory. */
const MAX_RECORD_SIZE = 1_000_000;

/**
 * Parses CSV and plain lists as a stream (csv-parse), one report per row.
 *
 * - Lines starting with `#` and blank lines are ignored; cells are separated by commas or tabs,
 *   trimmed, and may be quoted.
 * - Header: the first row counts as a header when every non-empty cell names a known column
 *   (value / indicator / ioc / observable, type, confidence, tlp, labels / label / tags,
 *   first_seen, last_seen, valid_from, valid_until, description / comment; any case, with or
 *   without `_`, `-` or spaces). It must have a value column. Rows are then read by column;
 *   labels split on `;`, `|` or `,`; the type names what the value is (ipv4, domain-name, sha256...).
 * - Without a header the value is the first cell up to its first whitespace, and the rest of the
 *   row is ignored (so "1.2.3.4 # c2" and ipsum-style "1.2.3.4<TAB>5" lists work). A URL that
 *   contains a comma must be quoted.
 * - Values are passed raw (defanged ones too: normalisation refangs them). A bad cell (unknown
 *   type or TLP, confidence outside 0-100, date that is not ISO 8601) rejects the row, with every
 *   problem and the line number in the reason. A row csv-parse cannot read (a quoted cell not
 *   closed properly) throws, naming the line, as malformed JSON does.
 */
export const parseCsv: Parser = async function* (input) {
  const parser = parse({
    bom: true,
    comment: "#",
    comment_no_infix: true,
    delimiter: [",", "\t"],
    record_delimiter: ["\r\n", "\n", "\r"],
    info: true,
    max_record_size: MAX_RECORD_SIZE,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    // Not skip_records_with_error: csv-parse 6 then silently drops the rest of the chunk after a
    // quoting error. A row it cannot read fails the ingest, naming the line.
    trim: true,
  });
  const feeding = pipeline(Readable.from(input, { objectMode: false }), parser);
  // The loop below sees the same error; this only keeps an early stop from an unhandled rejection.
  feeding.catch(() => undefined);

  let header: (Column | undefined)[] | null | undefined;
  try {
    for await (const rec of parser as AsyncIterable<CsvRecord>) yield* rows(rec);
    await feeding;
  } catch (e) {
    throw new Error(`malformed CSV: ${(e as Error).message}`);
  }

  function* rows(rec: CsvRecord): Generator<ParsedItem> {
    const line = rec.info.lines;
    if (header === undefined) {
      header = headerOf(rec.record);
      if (header) {
        if (!header.includes("value"))
          throw new Error(`the header at line ${line} has no value column (value, indicator, ioc or observable)`);
        return;
      }
    }
    if (header) {
      yield row(rec.record, header, line);
    } else {
      const value = rec.record[0]?.trim().split(/\s/)[0];
      yield value
        ? { kind: "report", ref: `line ${line}`, value }
        : { kind: "rejected", ref: `line ${line}`, reason: `line ${line}: the first cell is empty` };
    }
  }
};
