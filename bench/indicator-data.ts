import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import type { Writable } from "node:stream";
import postgres from "postgres";
import { copyText } from "../src/db/copy";
import { normalize, type ObservableType } from "../src/modules/indicators/normalize";
import { patternFor, scoId } from "../src/modules/indicators/stix";

/**
 * Generated indicators for the ingest and lookup benchmarks: the i-th of N is always the same,
 * every one distinct, types in rotation. Each comes three ways: a STIX 2.1 `indicator` object (what
 * a feed sends), an `observables` row and a `reports` row (what the hub writes for it), so the same
 * rows can be COPYed straight into the tables.
 */

/** The mix: one of each in rotation. */
export const TYPES: readonly ObservableType[] = ["IPV4", "IPV6", "DOMAIN", "URL", "EMAIL", "SHA256", "MD5"];

/** TLP 2.0 GREEN, by the id the OASIS extension pins. */
export const TLP2_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const CREATED = "2024-03-01T12:00:00.000Z";
const VALID_FROM_BASE = Date.parse("2024-01-01T00:00:00.000Z");

export interface GeneratedIndicator {
  type: ObservableType;
  /** Already in the hub's normal form (checked against normalize()). */
  value: string;
  /** The observable's deterministic STIX id, as the hub computes it. */
  observableStixId: string;
  /** The STIX indicator's own id, which the hub keeps as the report's stix_id. */
  indicatorId: string;
  confidence: number;
  validFrom: string;
  modified: string;
}

function rawValue(i: number, type: ObservableType): string {
  const j = Math.floor(i / TYPES.length);
  switch (type) {
    case "IPV4": {
      const n = 0x0b000000 + j; // 11.0.0.0 upwards
      return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
    }
    case "IPV6":
      // No zero group before the "::", so the text is already the RFC 5952 form.
      return `2001:db8:${(0x1000 + Math.floor(j / 65535)).toString(16)}:${((j % 65535) + 1).toString(16)}::1`;
    case "DOMAIN":
      return `h${j.toString(36)}.bench-${j % 97}.example`;
    case "URL":
      return `https://u${j.toString(36)}.example.net/p/${j}?q=${j % 13}`;
    case "EMAIL":
      return `user${j}@m${j % 1000}.example.org`;
    case "SHA256":
      return createHash("sha256").update(`bench ${j}`).digest("hex");
    case "MD5":
      return createHash("md5").update(`bench ${j}`).digest("hex");
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** The i-th indicator (0-based). Throws if the generator ever makes a value the hub would rewrite. */
export function indicatorAt(i: number): GeneratedIndicator {
  const type = TYPES[i % TYPES.length] as ObservableType;
  const raw = rawValue(i, type);
  const n = normalize(raw, type);
  if (!n.ok || n.type !== type || n.value !== raw)
    throw new Error(`generated ${type} ${raw} is not in normal form (${n.ok ? n.value : n.reason})`);
  const observableStixId = scoId(type, raw);
  if (!observableStixId) throw new Error(`no STIX id for ${type}`);
  return {
    type,
    value: raw,
    observableStixId,
    indicatorId: `indicator--6e5c0000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`,
    confidence: (i * 37) % 101,
    validFrom: new Date(VALID_FROM_BASE + i * 1000).toISOString(),
    modified: CREATED,
  };
}

/** The STIX 2.1 indicator object, as one line of JSON. */
export function stixIndicator(g: GeneratedIndicator): string {
  return JSON.stringify({
    type: "indicator",
    spec_version: "2.1",
    id: g.indicatorId,
    created: CREATED,
    modified: g.modified,
    pattern: patternFor(g.type, g.value),
    pattern_type: "stix",
    valid_from: g.validFrom,
    confidence: g.confidence,
    object_marking_refs: [TLP2_GREEN],
  });
}

/** The `observables` columns COPY_OBSERVABLES names, as one line of COPY text. */
export const observableLine = (g: GeneratedIndicator) =>
  `${g.type}\t${copyText(g.value)}\t${copyText(g.observableStixId)}\n`;
export const COPY_OBSERVABLES = "copy observables (type, value, stix_id) from stdin";

/**
 * The `reports` columns COPY_REPORTS names, as one line of COPY text; the columns not named get
 * their defaults, which are what the hub writes for these indicators (no audience, no labels, no
 * kill-chain phases, no description, not revoked).
 */
export const reportLine = (g: GeneratedIndicator, observableId: number, feedId: string, ownerOrgId: string) =>
  `${observableId}\t${feedId}\t${ownerOrgId}\tGREEN\t${g.confidence}\t${g.validFrom}\t${g.indicatorId}\t${g.modified}\n`;
export const COPY_REPORTS =
  "copy reports (observable_id, feed_id, owner_org_id, tlp, confidence, valid_from, stix_id, stix_modified) from stdin";

/** Writes to a stream, waiting when its buffer is full. */
async function write(w: Writable, s: string) {
  if (!w.write(s)) await once(w, "drain");
}

async function finish(w: Writable) {
  w.end();
  await once(w, "finish");
}

/**
 * Writes a STIX bundle of indicators [0, count) to a file, one object at a time (never the whole
 * bundle in memory). Returns its size in bytes.
 */
export async function writeBundle(path: string, count: number): Promise<number> {
  const w = createWriteStream(path);
  let bytes = 0;
  const put = async (s: string) => {
    bytes += Buffer.byteLength(s);
    await write(w, s);
  };
  await put(
    `{"type":"bundle","id":"bundle--6e5c0000-0000-4000-8000-${count.toString(16).padStart(12, "0")}","objects":[`,
  );
  let batch = "";
  for (let i = 0; i < count; i++) {
    batch += `${i ? ",\n" : "\n"}${stixIndicator(indicatorAt(i))}`;
    if (batch.length > 1 << 16) {
      await put(batch);
      batch = "";
    }
  }
  await put(`${batch}\n]}\n`);
  await finish(w);
  return bytes;
}

/**
 * Writes the COPY text of indicators [0, count) to two files, observables and reports. Observable
 * i gets id i + 1: the rows are COPYed in order into a table whose identity restarts at 1.
 */
export async function writeCopyFiles(
  observablesPath: string,
  reportsPath: string,
  count: number,
  feedId: string,
  ownerOrgId: string,
): Promise<{ observableBytes: number; reportBytes: number }> {
  const o = createWriteStream(observablesPath);
  const r = createWriteStream(reportsPath);
  let observableBytes = 0;
  let reportBytes = 0;
  let ob = "";
  let rb = "";
  const flush = async () => {
    observableBytes += Buffer.byteLength(ob);
    reportBytes += Buffer.byteLength(rb);
    await Promise.all([write(o, ob), write(r, rb)]);
    ob = "";
    rb = "";
  };
  for (let i = 0; i < count; i++) {
    const g = indicatorAt(i);
    ob += observableLine(g);
    rb += reportLine(g, i + 1, feedId, ownerOrgId);
    if (ob.length > 1 << 16) await flush();
  }
  await flush();
  await Promise.all([finish(o), finish(r)]);
  return { observableBytes, reportBytes };
}

/** Streams a producer's text into `COPY ... FROM STDIN`. */
export async function copyIn(
  sql: postgres.Sql | postgres.TransactionSql,
  statement: string,
  source: AsyncIterable<string | Buffer>,
) {
  const sink = await sql.unsafe(statement).writable();
  for await (const chunk of source) if (!sink.write(chunk)) await once(sink, "drain");
  await finish(sink);
}

/** Lines of COPY text for indicators [0, count), in blocks of about 64 KB. */
export async function* copyLines(
  count: number,
  line: (g: GeneratedIndicator, i: number) => string,
): AsyncIterable<string> {
  let block = "";
  for (let i = 0; i < count; i++) {
    block += line(indicatorAt(i), i);
    if (block.length > 1 << 16) {
      yield block;
      block = "";
    }
  }
  if (block) yield block;
}

/**
 * A fingerprint of what the tables hold for a feed, independent of row order and generated ids:
 * the number of reports, of observables, and a sum of hashes over every report joined with its
 * observable (all the columns the hub writes, none of its timestamps). The hub's rows and the
 * COPYed rows must give the same one.
 */
export async function fingerprint(sql: postgres.Sql): Promise<{ reports: number; observables: number; hash: string }> {
  const [r] = await sql<{ reports: string; hash: string | null }[]>`
    select count(*)::text as reports, coalesce(sum(hashtextextended(row(
      o.type, o.value, o.stix_id, r.feed_id, r.owner_org_id, r.tlp, r.audience_orgs, r.audience_groups,
      r.confidence, r.first_seen, r.last_seen, r.valid_from, r.valid_until, r.labels, r.kill_chain_phases,
      r.description, r.stix_id, r.stix_modified, r.revoked_at is null)::text, 0)::numeric), 0)::text as hash
    from reports r join observables o on o.id = r.observable_id`;
  const [o] = await sql<{ n: string }[]>`select count(*)::text as n from observables`;
  return { reports: Number(r?.reports ?? 0), observables: Number(o?.n ?? 0), hash: r?.hash ?? "" };
}
