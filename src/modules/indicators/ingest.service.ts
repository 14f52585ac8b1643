import { eq, sql, type SQL } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { copyArray, copyFrom, copyJson, copyText, copyValue } from "../../db/copy";
import { toGlobalId } from "../../shared/ids";
import { badInput } from "../../shared/errors";
import { visibleTo, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { appendAudit } from "../audit";
import { StixAttributionImport, type AttributionImportCounts } from "../assessments/stix-import";
import { ChangeKind, changesetInsert, prevMarkingJson, Stream } from "../realtime";
import { IndicatorRecord } from "./indicators.enums";
import { feeds, reports, sightings } from "./indicators.table";
import type { ParsedItem, ReportItem, SightingItem } from "./ingest.types";
import { normalize, type ObservableType } from "./normalize";
import { HUB_STIX_NAMESPACE, scoId, uuidv5 } from "./stix";

/**
 * Items written per chunk (one COPY and a few set-based statements). Larger chunks spread each
 * statement's fixed cost over more rows; this size keeps a chunk's rows and COPY text to a few
 * megabytes, so memory stays bounded (bench/ingest.ts: peak RSS ~370 MB for a million).
 */
export const CHUNK = 10_000;
/** Rejections listed one by one in a report; beyond that only counted. */
export const MAX_LISTED = 1000;
/** Items parsed between two turns of the event loop (see ingest()). */
const YIELD_EVERY = 200;
/** Sightings that name an indicator by STIX id wait for the end of the ingest; at most this many. */
const MAX_PENDING_SIGHTINGS = 200_000;

export interface IngestProblem {
  ref: string;
  value?: string;
  reason: string;
}

/**
 * `merged`: items that named a value another item of the same ingest (and chunk) already named;
 * they became one report (the latest STIX version, else the later item).
 */
export interface IngestCounts {
  created: number;
  updated: number;
  unchanged: number;
  merged: number;
}

/** What an ingest did, item by item counted. `unchanged` items were already there as sent. */
export interface IngestReport {
  feedId: string;
  reports: IngestCounts;
  sightings: IngestCounts;
  rejected: number;
  skipped: number;
  rejections: IngestProblem[];
  skips: IngestProblem[];
  /** STIX attributions (assessments/stix-import.ts): assessments and actors written. */
  attributions: AttributionImportCounts;
}

export type FeedRow = typeof feeds.$inferSelect;

interface ReportRow {
  type: ObservableType;
  value: string;
  stix_id: string;
  tlp: Tlp;
  audience_orgs: string[];
  audience_groups: string[];
  confidence: number | null;
  first_seen: string | null;
  last_seen: string | null;
  valid_from: string | null;
  valid_until: string | null;
  labels: string[];
  kill_chain_phases: { killChainName: string; phaseName: string }[] | null;
  description: string | null;
  report_stix_id: string | null;
  stix_modified: string | null;
  revoked: boolean;
}

interface SightingRow {
  ref: string;
  type: ObservableType | null;
  value: string | null;
  of_ref: string | null;
  tlp: Tlp;
  audience_orgs: string[];
  audience_groups: string[];
  first_seen: string | null;
  last_seen: string | null;
  count: number;
  stix_id: string | null;
}

/** SCOs get their deterministic id; a bare pattern gets one derived the same way from its text. */
function observableStixId(type: ObservableType, value: string): string {
  return scoId(type, value) ?? `indicator--${uuidv5(value, HUB_STIX_NAMESPACE)}`;
}

const iso = (d: Date | undefined) => (d && !Number.isNaN(d.getTime()) ? d.toISOString() : null);

/**
 * Ingests parsed items for one feed in ONE transaction: all of it lands or none of it does.
 * Values are normalised here; bad ones are listed with their reason and the rest goes in. Rows
 * go to the database a chunk at a time: reports COPYed into a staging table and merged from it,
 * sightings as one jsonb parameter expanded by jsonb_to_recordset; never a statement per item.
 *
 * The report says only what happened to this feed's own rows, so submitting a value that someone
 * else holds under RED looks exactly like submitting a new one (no existence oracle).
 */
export async function ingest(
  db: Db,
  viewer: ViewerIdentity,
  feed: FeedRow,
  items: AsyncIterable<ParsedItem>,
  onProgress?: (report: IngestReport) => void,
): Promise<IngestReport> {
  const report: IngestReport = {
    feedId: toGlobalId("Feed", feed.id),
    reports: { created: 0, updated: 0, unchanged: 0, merged: 0 },
    sightings: { created: 0, updated: 0, unchanged: 0, merged: 0 },
    rejected: 0,
    skipped: 0,
    rejections: [],
    skips: [],
    attributions: {
      assessments: { created: 0, updated: 0, unchanged: 0, withdrawn: 0 },
      actors: { created: 0, revoked: 0 },
    },
  };
  const reject = (p: IngestProblem) => {
    report.rejected++;
    if (report.rejections.length < MAX_LISTED) report.rejections.push(p);
  };
  const skip = (p: IngestProblem) => {
    report.skipped++;
    if (report.skips.length < MAX_LISTED) report.skips.push(p);
  };
  const attributions = new StixAttributionImport(viewer, feed, reject, skip);
  report.attributions = attributions.counts;
  const marking = (i: { tlp?: Tlp; audienceOrgIds?: string[]; audienceGroupIds?: string[] }) => ({
    tlp: i.tlp ?? (feed.defaultTlp as Tlp),
    audience_orgs: i.audienceOrgIds ?? feed.defaultAudienceOrgs,
    audience_groups: i.audienceGroupIds ?? feed.defaultAudienceGroups,
  });

  await db.transaction(async (tx) => {
    await prepareIngestTransaction(tx);
    let reportRows = new Map<string, ReportRow>();
    let sightingRows: SightingRow[] = [];
    const pendingSightings: SightingRow[] = [];

    // A chunk is written while the next one is parsed: the parser's CPU and the database's work
    // overlap instead of taking turns. Writes still run one after the other, in chunk order.
    let writing: Promise<void> = Promise.resolve();
    const flush = async () => {
      await writing; // the previous chunk's write, and its error if it failed
      const rows = [...reportRows.values()];
      const sightingsOfChunk = sightingRows;
      reportRows = new Map();
      sightingRows = [];
      writing = (async () => {
        if (rows.length) await writeReports(tx, feed, rows, report);
        if (sightingsOfChunk.length) await writeSightings(tx, feed, viewer, sightingsOfChunk, report);
        await attributions.write(tx, false);
        onProgress?.(report);
      })();
      // Its failure is thrown where it is awaited next, not reported as unhandled meanwhile.
      writing.catch(() => {});
    };

    try {
      let sinceYield = 0;
      for await (const item of items) {
        // Parsing buffered input never waits, so without a turn of the event loop now and then
        // the in-flight write's next protocol step would wait for the whole buffer to be parsed.
        if (++sinceYield === YIELD_EVERY) {
          sinceYield = 0;
          await new Promise((resolve) => setImmediate(resolve));
        }
        switch (item.kind) {
          case "rejected":
            reject(item);
            break;
          case "skipped":
            skip(item);
            break;
          case "stix-attribution":
            attributions.add(item);
            break;
          case "report": {
            const row = toReportRow(item, marking(item), feed);
            if ("reason" in row) {
              reject({ ref: item.ref, value: item.value, reason: row.reason });
              break;
            }
            // One row per observable per chunk: a later version (or a later line) wins.
            const key = `${row.type}\u0000${row.value}`;
            const prev = reportRows.get(key);
            if (prev) report.reports.merged++;
            if (!prev || !prev.stix_modified || !row.stix_modified || row.stix_modified >= prev.stix_modified)
              reportRows.set(key, row);
            break;
          }
          case "sighting": {
            const row = toSightingRow(item, marking(item));
            if ("reason" in row) {
              reject({ ref: item.ref, value: item.value, reason: row.reason });
              break;
            }
            if (row.of_ref) {
              if (pendingSightings.length >= MAX_PENDING_SIGHTINGS) {
                reject({
                  ref: item.ref,
                  reason: `more than ${MAX_PENDING_SIGHTINGS} sightings by reference in one ingest`,
                });
                break;
              }
              pendingSightings.push(row);
            } else sightingRows.push(row);
            break;
          }
        }
        if (reportRows.size >= CHUNK || sightingRows.length >= CHUNK) await flush();
      }
      await flush();
      await writing;
    } catch (e) {
      // No statement may still be running when the transaction rolls back.
      await writing.catch(() => {});
      throw e;
    }
    for (let i = 0; i < pendingSightings.length; i += CHUNK)
      await writeSightings(tx, feed, viewer, pendingSightings.slice(i, i + CHUNK), report);
    await attributions.write(tx, true);

    await tx
      .update(feeds)
      .set({
        lastIngestAt: new Date(),
        ingestCount: sql`${feeds.ingestCount} + 1`,
        lastIngestCounts: {
          reports: report.reports,
          sightings: report.sightings,
          rejected: report.rejected,
          skipped: report.skipped,
        },
      })
      .where(eq(feeds.id, feed.id));
    await appendAudit(tx, {
      accountId: viewer.accountId,
      organizationId: viewer.organizationId,
      operation: "ingest",
      targetIds: [report.feedId],
      outcome: "SUCCESS",
      detail: {
        reports: report.reports,
        sightings: report.sightings,
        rejected: report.rejected,
        skipped: report.skipped,
        attributions: report.attributions,
      },
    });
  });
  return report;
}

/** PostgreSQL text cannot hold U+0000 (COPY and jsonb both refuse it, failing the whole ingest). */
const hasNul = (v: unknown): boolean =>
  typeof v === "string" ? v.includes("\u0000") : v !== undefined && v !== null && JSON.stringify(v).includes("\\u0000");

function toReportRow(
  item: ReportItem,
  m: { tlp: Tlp; audience_orgs: string[]; audience_groups: string[] },
  feed: FeedRow,
): ReportRow | { reason: string } {
  const n = normalize(item.value, item.type);
  if (!n.ok) return { reason: n.reason };
  const confidence = item.confidence ?? feed.defaultConfidence ?? null;
  if (confidence !== null && !(Number.isInteger(confidence) && confidence >= 0 && confidence <= 100))
    return { reason: "confidence must be an integer from 0 to 100" };
  if (hasNul(item.description) || item.labels?.some(hasNul) || hasNul(item.stixId) || hasNul(item.killChainPhases))
    return { reason: "text with a NUL character (U+0000), which the database cannot store" };
  return {
    type: n.type,
    value: n.value,
    stix_id: observableStixId(n.type, n.value),
    ...m,
    confidence,
    first_seen: iso(item.firstSeen),
    last_seen: iso(item.lastSeen),
    valid_from: iso(item.validFrom),
    valid_until: iso(item.validUntil),
    labels: item.labels ?? [],
    kill_chain_phases: item.killChainPhases ?? null,
    description: item.description ?? null,
    report_stix_id: item.stixId ?? null,
    stix_modified: iso(item.stixModified),
    revoked: item.revoked === true,
  };
}

function toSightingRow(
  item: SightingItem,
  m: { tlp: Tlp; audience_orgs: string[]; audience_groups: string[] },
): SightingRow | { reason: string } {
  const count = item.count ?? 1;
  if (!Number.isInteger(count) || count < 0) return { reason: "count must be a non-negative integer" };
  let type: ObservableType | null = null;
  let value: string | null = null;
  if (item.value !== undefined) {
    const n = normalize(item.value, item.type);
    if (!n.ok) return { reason: n.reason };
    ({ type, value } = n);
  } else if (!item.sightingOfRef) return { reason: "a sighting needs a value or the indicator it sights" };
  return {
    ref: item.ref,
    type,
    value,
    of_ref: value === null ? (item.sightingOfRef ?? null) : null,
    ...m,
    first_seen: iso(item.firstSeen),
    last_seen: iso(item.lastSeen),
    count,
    stix_id: item.stixId ?? null,
  };
}

/**
 * The chunk's reports are COPYed into this temporary table (dropped at commit), then merged from
 * it: COPY text costs PostgreSQL a fraction of what parsing the same rows as jsonb does.
 */
const STAGE = "ingest_reports";
const STAGE_COLUMNS = `type observable_type, value text, stix_id text, tlp tlp, audience_orgs uuid[],
  audience_groups uuid[], confidence smallint, first_seen timestamptz, last_seen timestamptz, valid_from timestamptz,
  valid_until timestamptz, labels text[], kill_chain_phases jsonb, description text, report_stix_id text,
  stix_modified timestamptz, revoked boolean`;

/**
 * Settings for the ingest transaction. Every statement of an ingest joins one chunk against tables
 * that may have grown by a million rows in this very transaction, before autovacuum could give
 * the planner statistics: a hash or merge join would then read a whole table per chunk
 * (quadratic), so only index lookups are allowed. JIT compiles each statement for tens of
 * milliseconds because the (wrong) estimates look expensive; these statements never need it.
 */
async function prepareIngestTransaction(tx: Tx) {
  await tx.execute(sql`set local enable_hashjoin = off`);
  await tx.execute(sql`set local enable_mergejoin = off`);
  await tx.execute(sql`set local jit = off`);
  await tx.execute(sql.raw(`create temp table ${STAGE} (${STAGE_COLUMNS}) on commit drop`));
}

/**
 * The event-log insert (a data-modifying CTE) for rows a statement wrote, given the CTE that
 * returned them (`id, observable_id, inserted, live`): every change lands in the outbox in the
 * same statement as the change itself. `prev`, the row's marking before the change, is read from
 * the table in the same statement, which still sees the rows as they were before it (every part
 * of a statement shares one snapshot): one primary-key lookup per row updated, none per row
 * inserted, and no statement at all for rows left unchanged.
 */
function logChanges(record: string, table: typeof reports | typeof sightings, written: SQL): SQL {
  return changesetInsert(
    Stream.INDICATOR,
    sql`select ${record}::text as record, w.id, w.observable_id as subject,
          case when w.inserted then ${ChangeKind.CREATED}::text
               when not w.live and (p.prev->>'live')::boolean then ${ChangeKind.REVOKED}::text
               else ${ChangeKind.UPDATED}::text end as kind,
          p.prev
        from ${written} w
        left join lateral (select ${prevMarkingJson("t")} as prev from ${table} t where t.id = w.id and not w.inserted) p
          on true
        order by w.id`,
  );
}
const logReportChanges = (written: SQL) => logChanges(IndicatorRecord.REPORT, reports, written);

/** One report row as a line of COPY text, in STAGE_COLUMNS order. */
function stageLine(r: ReportRow): string {
  return (
    [
      r.type,
      copyText(r.value),
      copyText(r.stix_id),
      r.tlp,
      copyArray(r.audience_orgs),
      copyArray(r.audience_groups),
      copyValue(r.confidence),
      copyValue(r.first_seen),
      copyValue(r.last_seen),
      copyValue(r.valid_from),
      copyValue(r.valid_until),
      copyArray(r.labels),
      copyJson(r.kill_chain_phases),
      copyValue(r.description),
      copyValue(r.report_stix_id),
      copyValue(r.stix_modified),
      r.revoked ? "t" : "f",
    ].join("\t") + "\n"
  );
}

async function writeReports(tx: Tx, feed: FeedRow, rows: ReportRow[], report: IngestReport) {
  await tx.execute(sql.raw(`truncate ${STAGE}`));
  await copyFrom(tx, STAGE, rows.map(stageLine).join(""));
  // Observables first: stored once per normalised value, whoever reports them.
  await tx.execute(sql`
    insert into observables (type, value, stix_id)
    select x.type, x.value, x.stix_id from ${sql.raw(STAGE)} x
    on conflict (type, value) do nothing`);
  // Then this feed's claims. A STIX version older than the stored one is ignored; an identical
  // row is left alone (so a second ingest of the same content changes nothing).
  const result = await tx.execute(sql`
    with written as (
    insert into reports (observable_id, feed_id, owner_org_id, tlp, audience_orgs, audience_groups, confidence,
      first_seen, last_seen, valid_from, valid_until, labels, kill_chain_phases, description, stix_id, stix_modified,
      revoked_at)
    select o.id, ${feed.id}::uuid, ${feed.ownerOrgId}::uuid, x.tlp, x.audience_orgs, x.audience_groups, x.confidence,
      x.first_seen, x.last_seen, x.valid_from, x.valid_until, x.labels, x.kill_chain_phases, x.description,
      x.report_stix_id, x.stix_modified, case when x.revoked then now() end
    from ${sql.raw(STAGE)} x
    join observables o on o.type = x.type and o.value = x.value
    on conflict (feed_id, observable_id) do update set
      tlp = excluded.tlp, audience_orgs = excluded.audience_orgs, audience_groups = excluded.audience_groups,
      confidence = excluded.confidence, first_seen = excluded.first_seen, last_seen = excluded.last_seen,
      valid_from = excluded.valid_from, valid_until = excluded.valid_until, labels = excluded.labels,
      kill_chain_phases = excluded.kill_chain_phases, description = excluded.description,
      stix_id = excluded.stix_id, stix_modified = excluded.stix_modified,
      revoked_at = case when excluded.revoked_at is null then null else coalesce(reports.revoked_at, excluded.revoked_at) end,
      updated_at = now()
    where (reports.stix_modified is null or excluded.stix_modified is null or excluded.stix_modified > reports.stix_modified
        or (excluded.stix_modified = reports.stix_modified and reports.revoked_at is null and excluded.revoked_at is not null))
      and (reports.tlp, reports.audience_orgs, reports.audience_groups, reports.confidence, reports.first_seen,
           reports.last_seen, reports.valid_from, reports.valid_until, reports.labels, reports.kill_chain_phases,
           reports.description, reports.stix_id, reports.stix_modified, reports.revoked_at is null)
        is distinct from
          (excluded.tlp, excluded.audience_orgs, excluded.audience_groups, excluded.confidence, excluded.first_seen,
           excluded.last_seen, excluded.valid_from, excluded.valid_until, excluded.labels, excluded.kill_chain_phases,
           excluded.description, excluded.stix_id, excluded.stix_modified, excluded.revoked_at is null)
    returning reports.id, reports.observable_id, (xmax = 0) as inserted, reports.revoked_at is null as live),
    logged as (${logReportChanges(sql`written`)})
    select inserted from written`);
  const written = rowsOf<{ inserted: boolean }>(result);
  const created = written.filter((r) => r.inserted).length;
  // A newer version of a STIX indicator may name other values than the old one: the feed's
  // reports from older versions of the same indicator id are revoked. Each staged indicator id is
  // looked up on its own in reports_stix_id_idx (`offset 0` keeps the lateral from being
  // flattened), and the rows found are updated by primary key (`= any(array(...))`): whatever the
  // planner believes about a table that grew inside this transaction, nothing scans it whole.
  const retired = rowsOf<{ id: number }>(
    await tx.execute(sql`
      with retired as (
      update reports set revoked_at = now(), updated_at = now()
      where reports.id = any(array(
        select same.id from ${sql.raw(STAGE)} x
        cross join lateral (
          select r.id, r.feed_id, r.stix_modified, r.revoked_at from reports r
          where r.stix_id = x.report_stix_id offset 0) same
        where x.report_stix_id is not null and same.feed_id = ${feed.id}::uuid
          and same.stix_modified < x.stix_modified and same.revoked_at is null))
      returning reports.id, reports.observable_id, false as inserted, false as live),
      logged as (${logReportChanges(sql`retired`)})
      select id from retired`),
  );
  report.reports.created += created;
  report.reports.updated += written.length - created + retired.length;
  report.reports.unchanged += rows.length - written.length;
}

const SIGHTING_RECORD = sql.raw(`x(n integer, type observable_type, value text, stix_id text, of_ref text)`);

async function writeSightings(
  tx: Tx,
  feed: FeedRow,
  viewer: ViewerIdentity,
  rows: SightingRow[],
  report: IngestReport,
) {
  const keyed = rows.map((r, n) => ({
    n,
    type: r.type,
    value: r.value,
    stix_id: r.type && r.value ? observableStixId(r.type, r.value) : null,
    of_ref: r.of_ref,
  }));
  const payload = JSON.stringify(keyed);
  if (keyed.some((k) => k.value !== null))
    await tx.execute(sql`
      insert into observables (type, value, stix_id)
      select x.type, x.value, x.stix_id from jsonb_to_recordset(${payload}::jsonb) as ${SIGHTING_RECORD}
      where x.value is not null
      on conflict (type, value) do nothing`);
  // A sighting by reference names a STIX indicator id. It resolves only against reports this
  // viewer may see, so an id it cannot resolve reveals nothing about reports it may not see.
  const resolved = rowsOf<{ n: number; observable_id: number | null }>(
    await tx.execute(sql`
      select x.n, coalesce(
        (select o.id from observables o where o.type = x.type and o.value = x.value),
        (select ${reports.observableId} from ${reports}
          where ${reports.stixId} = x.of_ref and ${reports.revokedAt} is null and ${visibleTo(viewer, reports)}
          order by ${reports.id} limit 1)) as observable_id
      from jsonb_to_recordset(${payload}::jsonb) as ${SIGHTING_RECORD}`),
  );
  const byObservable = new Map<number, SightingRow & { observable_id: number }>();
  for (const { n, observable_id } of resolved) {
    const row = rows[n];
    if (!row) continue;
    if (observable_id === null) {
      report.rejected++;
      if (report.rejections.length < MAX_LISTED)
        report.rejections.push({ ref: row.ref, reason: `sighting of an indicator not known here: ${row.of_ref}` });
    } else {
      if (byObservable.has(Number(observable_id))) report.sightings.merged++;
      byObservable.set(Number(observable_id), { ...row, observable_id: Number(observable_id) }); // later wins
    }
  }
  if (byObservable.size === 0) return;
  const result = await tx.execute(sql`
    with written as (
    insert into sightings (observable_id, feed_id, owner_org_id, tlp, audience_orgs, audience_groups, first_seen,
      last_seen, count, stix_id)
    select x.observable_id, ${feed.id}::uuid, ${feed.ownerOrgId}::uuid, x.tlp, coalesce(x.audience_orgs, '{}'),
      coalesce(x.audience_groups, '{}'), x.first_seen, x.last_seen, x.count, x.stix_id
    from jsonb_to_recordset(${JSON.stringify([...byObservable.values()])}::jsonb) as x(observable_id bigint, tlp tlp,
      audience_orgs uuid[], audience_groups uuid[], first_seen timestamptz, last_seen timestamptz, count integer,
      stix_id text)
    on conflict (feed_id, observable_id) do update set
      tlp = excluded.tlp, audience_orgs = excluded.audience_orgs, audience_groups = excluded.audience_groups,
      first_seen = excluded.first_seen, last_seen = excluded.last_seen, count = excluded.count,
      stix_id = excluded.stix_id, revoked_at = null, updated_at = now()
    where (sightings.tlp, sightings.audience_orgs, sightings.audience_groups, sightings.first_seen, sightings.last_seen,
           sightings.count, sightings.stix_id, sightings.revoked_at is null)
      is distinct from
          (excluded.tlp, excluded.audience_orgs, excluded.audience_groups, excluded.first_seen, excluded.last_seen,
           excluded.count, excluded.stix_id, true)
    returning sightings.id, sightings.observable_id, (xmax = 0) as inserted, true as live),
    logged as (${logChanges(IndicatorRecord.SIGHTING, sightings, sql`written`)})
    select inserted from written`);
  const written = rowsOf<{ inserted: boolean }>(result);
  const created = written.filter((r) => r.inserted).length;
  report.sightings.created += created;
  report.sightings.updated += written.length - created;
  report.sightings.unchanged += byObservable.size - written.length;
}

/**
 * Wraps a parser's output: whatever the parser throws is about the input (malformed JSON, a CSV
 * without a value column), so it becomes BAD_USER_INPUT on `content` and rolls the ingest back.
 */
export async function* readItems(items: AsyncIterable<ParsedItem>): AsyncIterable<ParsedItem> {
  const it = items[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<ParsedItem>;
    try {
      next = await it.next();
    } catch (e) {
      throw badInput("content", e instanceof Error ? e.message : String(e));
    }
    if (next.done) return;
    yield next.value;
  }
}

/** drizzle's execute returns rows directly (postgres.js) or in `.rows` (PGlite). */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
