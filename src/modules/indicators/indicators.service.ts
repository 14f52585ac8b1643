import { sql, type Placeholder, type Query, type SQL } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type { Db, Executor } from "../../db/client";
import { badInput } from "../../shared/errors";
import { idOf, serialOf, toGlobalId } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { visibleTo } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { reports, sightings } from "./indicators.table";
import { Indicator } from "./indicators.type";
import type { IndicatorFilter } from "./indicators.input";
import { rowsOf } from "./ingest.service";
import { normalize, type ObservableType } from "./normalize";

/** At most this many values in one lookupIndicators call. */
export const MAX_LOOKUP = 10_000;

/**
 * `{a,b,c}`: an array literal to bind as one parameter (`${arrayLiteral(ids)}::uuid[]`), so the
 * statement's text does not grow with the list. Only for uuids and integers, which never need quoting.
 */
const arrayLiteral = (items: readonly (string | number)[]): string => `{${items.join(",")}}`;

// The same dialect drizzle renders with (client.ts configures no casing).
const dialect = new PgDialect();

/**
 * Statements rendered for a viewer, by name. Rendering (`sqlToQuery`, and building the access
 * rule's SQL before it) costs more CPU than the rest of a point lookup, so a statement is rendered
 * once per viewer object, with `sql.placeholder`s for what changes from one call to the next, and
 * only those are filled in per call. Keyed by the object: AuthService hands out one frozen viewer
 * per token and replaces it at every token check (at most TOKEN_CACHE_MS), so a rendering never
 * outlives the organisation kind and groups it was made from, and the WeakMap lets it go with the
 * viewer.
 */
const renderedByViewer = new WeakMap<ViewerIdentity, Map<string, Query>>();

function renderedFor(viewer: ViewerIdentity, name: string, build: () => SQL): Query {
  let mine = renderedByViewer.get(viewer);
  if (!mine) renderedByViewer.set(viewer, (mine = new Map()));
  let query = mine.get(name);
  if (!query) mine.set(name, (query = dialect.sqlToQuery(build())));
  return query;
}

/**
 * Runs a read statement as a prepared statement where the driver can. `db.execute` never
 * prepares: postgres.js then sends Parse/Describe and waits for the parameter types before
 * Bind/Execute, so every run costs two round trips and a parse and plan. A query drizzle prepares
 * under a name is run by its postgres-js session with `prepare: true`: postgres.js parses it once per
 * connection (cached under its text and parameter types) and afterwards only binds and executes.
 * That pays only if the text is the same from one request to the next, so every value in the
 * statement, the viewer's included, is a bound parameter (visibleTo binds them, the sharing groups
 * as one array; its text varies only with the viewer's organisation kind, so a connection caches a
 * handful of texts per statement, never one per viewer or per request). postgres.js names its statements
 * itself, and PGlite ignores the name (it runs the query as `db.execute` would). It goes through
 * drizzle's session, so the query logger (and the tests counting statements) still see it.
 */
async function runPrepared<T>(
  db: Executor,
  viewer: ViewerIdentity,
  name: string,
  build: () => SQL,
  values: Record<string, unknown>,
): Promise<T[]> {
  const query = renderedFor(viewer, name, build);
  return rowsOf<T>(await db._.session.prepareQuery(query, undefined, name, false).execute(values));
}

/** Live reports (and sightings) this viewer may see: the only rows any indicator figure comes from. */
export const liveVisibleReports = (viewer: ViewerIdentity): SQL =>
  sql`${reports.revokedAt} is null and ${visibleTo(viewer, reports)}`;
export const liveVisibleSightings = (viewer: ViewerIdentity): SQL =>
  sql`${sightings.revokedAt} is null and ${visibleTo(viewer, sightings)}`;

/**
 * Per observable: the viewer's view of it, from visible reports and sightings only. `sources`
 * is 0 when the viewer may see nothing about it, and then the indicator does not exist for it.
 */
const viewOf = (viewer: ViewerIdentity): SQL => sql`lateral (
  select max(v.confidence) as confidence, min(v.first_seen) as first_seen, max(v.last_seen) as last_seen,
         count(distinct v.org)::int as sources
  from (
    select ${reports.confidence} as confidence, ${reports.firstSeen} as first_seen, ${reports.lastSeen} as last_seen,
           ${reports.ownerOrgId} as org
      from ${reports} where ${reports.observableId} = observables.id and ${liveVisibleReports(viewer)}
    union all
    select null, ${sightings.firstSeen}, ${sightings.lastSeen}, ${sightings.ownerOrgId}
      from ${sightings} where ${sightings.observableId} = observables.id and ${liveVisibleSightings(viewer)}
  ) v) as view`;

interface IndicatorRow {
  id: number | string;
  type: ObservableType;
  value: string;
  stix_id: string;
  confidence: number | null;
  first_seen: string | Date | null;
  last_seen: string | Date | null;
  sources: number;
}

const date = (d: string | Date | null) => (d === null ? null : d instanceof Date ? d : new Date(d));

function toIndicator(r: IndicatorRow): Indicator {
  const id = Number(r.id);
  return Object.assign(new Indicator(), {
    id: toGlobalId("Indicator", id),
    dbId: id,
    type: r.type,
    value: r.value,
    stixId: r.stix_id,
    confidence: r.confidence === null ? null : Number(r.confidence),
    firstSeen: date(r.first_seen),
    lastSeen: date(r.last_seen),
    sourceCount: Number(r.sources),
  });
}

const SELECT = sql`select observables.id, observables.type, observables.value, observables.stix_id,
  view.confidence, view.first_seen, view.last_seen, view.sources`;

/**
 * The statement of lookup(): the viewer's view of each (type, value) of `keys`, a jsonb array of
 * `{ type, value }` bound as one parameter (or a placeholder for it). Exported for the lookup
 * benchmark, whose bare handler runs this very statement.
 */
export const lookupStatement = (viewer: ViewerIdentity, keys: string | Placeholder): SQL => sql`${SELECT}
  from jsonb_to_recordset(${keys}::jsonb) as x(type observable_type, value text)
  join observables on observables.type = x.type and observables.value = x.value
  cross join ${viewOf(viewer)}
  where view.sources > 0`;

/**
 * Looks values up in one statement: each is normalised (type detected when not given), then all
 * are matched at once. Returns one entry per input, in order.
 */
export async function lookup(
  db: Executor,
  viewer: ViewerIdentity,
  values: readonly string[],
  type?: ObservableType | null,
): Promise<{ input: string; error: string | null; indicator: Indicator | null }[]> {
  if (values.length > MAX_LOOKUP) throw badInput("values", `at most ${MAX_LOOKUP} values in one lookup`);
  const normalized = values.map((v) => normalize(v, type));
  const keys = normalized.flatMap((n) => (n.ok ? [{ type: n.type, value: n.value }] : []));
  const found = new Map<string, Indicator>();
  if (keys.length) {
    const rows = await runPrepared<IndicatorRow>(
      db,
      viewer,
      "lookup",
      () => lookupStatement(viewer, sql.placeholder("keys")),
      { keys: JSON.stringify(keys) },
    );
    for (const r of rows) found.set(`${r.type}\u0000${r.value}`, toIndicator(r));
  }
  return values.map((input, i) => {
    const n = normalized[i];
    if (!n || !n.ok) return { input, error: n?.reason ?? "unreadable", indicator: null };
    return { input, error: null, indicator: found.get(`${n.type}\u0000${n.value}`) ?? null };
  });
}

/** Loads indicators by observable id for this viewer (null where it may see nothing). */
export async function indicatorsById(db: Db, viewer: ViewerIdentity, ids: readonly number[]): Promise<Indicator[]> {
  if (!ids.length) return [];
  return (
    await runPrepared<IndicatorRow>(
      db,
      viewer,
      "indicatorsById",
      () => sql`${SELECT} from observables cross join ${viewOf(viewer)}
        where observables.id = any(${sql.placeholder("ids")}::bigint[]) and view.sources > 0`,
      { ids: arrayLiteral(ids) },
    )
  ).map(toIndicator);
}

/** Conditions on a report row from the filter's report-level fields (feeds, owners, confidence, ...). */
export function reportConditions(f: IndicatorFilter | null | undefined): SQL[] {
  const on: SQL[] = [];
  if (!f) return on;
  const uuids = (type: string, ids: string[]) =>
    arrayLiteral(ids.map((g) => idOf(type, g) ?? "00000000-0000-0000-0000-000000000000"));
  if (f.feedIds?.length) on.push(sql`${reports.feedId} = any(${uuids("Feed", f.feedIds)}::uuid[])`);
  if (f.ownerIds?.length) on.push(sql`${reports.ownerOrgId} = any(${uuids("Organization", f.ownerIds)}::uuid[])`);
  if (f.minConfidence != null) on.push(sql`${reports.confidence} >= ${f.minConfidence}`);
  if (f.seenSince) on.push(sql`${reports.lastSeen} >= ${f.seenSince.toISOString()}::timestamptz`);
  if (f.label) on.push(sql`${f.label} = any(${reports.labels})`);
  if (f.tlps?.length)
    on.push(
      sql`${reports.tlp} in (${sql.join(
        f.tlps.map((t) => sql`${t}`),
        sql`, `,
      )})`,
    );
  return on;
}

/** The observable-level condition of a filter (its types). */
export function typeCondition(f: IndicatorFilter | null | undefined): SQL | undefined {
  return f?.types?.length
    ? sql`observables.type in (${sql.join(
        f.types.map((t) => sql`${t}`),
        sql`, `,
      )})`
    : undefined;
}

function filterSql(viewer: ViewerIdentity, f: IndicatorFilter | null | undefined): SQL[] {
  const where: SQL[] = [sql`view.sources > 0`];
  const byType = typeCondition(f);
  if (byType) where.push(byType);
  const onReports = reportConditions(f);
  if (onReports.length)
    where.push(sql`exists (select 1 from ${reports} where ${reports.observableId} = observables.id
      and ${liveVisibleReports(viewer)} and ${sql.join(onReports, sql` and `)})`);
  return where;
}

/** A page of indicators the viewer may see, in observable-id order (stable; new ones come last). */
export function listIndicators(
  db: Db,
  viewer: ViewerIdentity,
  filter: IndicatorFilter | null | undefined,
  args: PageArgs,
  maxPageSize: number,
) {
  const where = filterSql(viewer, filter);
  return paginate({
    args,
    maxPageSize,
    orderBy: [sql`observables.id` as never],
    keyOf: (i: Indicator) => [i.dbId],
    fetch: async (after, limit) =>
      rowsOf<IndicatorRow>(
        await db.execute(sql`${SELECT} from observables cross join ${viewOf(viewer)}
          where ${sql.join([...where, ...(after ? [after] : [])], sql` and `)}
          order by observables.id limit ${limit}`),
      ).map(toIndicator),
    count: async () =>
      Number(
        rowsOf<{ n: number }>(
          await db.execute(sql`select count(*)::int as n from observables cross join ${viewOf(viewer)}
            where ${sql.join(where, sql` and `)}`),
        )[0]?.n ?? 0,
      ),
  });
}

/** Indicator ids the viewer may see (through a visible report or sighting), or BAD_USER_INPUT. */
export async function visibleIndicatorIds(
  tx: Executor,
  viewer: ViewerIdentity,
  globalIds: readonly string[],
  field: string,
): Promise<number[]> {
  const ids = [...new Set(globalIds)].map((g) => {
    const id = serialOf("Indicator", g);
    if (id == null) throw badInput(field, `unknown indicator ${g}`);
    return id;
  });
  if (!ids.length) return [];
  // The same read (and access rule) as `indicator(id)`; a transaction runs it like the pool does.
  const found = new Set((await indicatorsById(tx as Db, viewer, ids)).map((i) => i.dbId));
  const missing = ids.find((id) => !found.has(id));
  if (missing != null) throw badInput(field, `unknown indicator ${toGlobalId("Indicator", missing)}`);
  return ids;
}
