import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { badInput, forbidden } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { rowsOf } from "../../shared/rows";
import { OrganizationKind } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { OBSERVABLE_TYPES } from "../indicators/normalize";
import { INCIDENT_SEVERITIES } from "../incidents/incidents.enums";
import { TAXONOMY } from "../incidents/taxonomy";
import { TrendDimension, TrendInterval, TrendMetric } from "./trends.enums";
import { scopeKOf } from "./trends-settings.service";
import type { Trends, TrendsInput } from "./trends.type";
import { bucketsOf, dayOf, MAX_CELLS, nextEdge } from "./trends.window";

/** Which dimensions each metric can be grouped by. THREAT_ACTOR comes with attribution assessments. */
export const DIMENSIONS_OF: Readonly<Record<TrendMetric, readonly TrendDimension[]>> = {
  INDICATORS: [TrendDimension.INDICATOR_TYPE, TrendDimension.COUNTRY],
  SIGHTINGS: [TrendDimension.INDICATOR_TYPE, TrendDimension.COUNTRY],
  INCIDENTS: [TrendDimension.RSIT_CLASS, TrendDimension.SEVERITY, TrendDimension.SECTOR, TrendDimension.COUNTRY],
};

const TRUNC: Record<TrendInterval, string> = { DAY: "day", WEEK: "week", MONTH: "month" };

/** How a dimension reads off a rollup row (`r`): its expression, a join it needs, and whether its values are open. */
interface DimensionSql {
  expr: SQL;
  join?: SQL;
  /** Free values (sectors, affected countries): only those with at least k contributors over the window are shown. */
  open: boolean;
}

/** Each value of an array column once per row, or one null for an empty array ("none given"). */
const unnestOrNull = (column: string, alias: string) =>
  sql.raw(
    `cross join lateral unnest(case when cardinality(r.${column}) = 0 then array[null]::text[] else r.${column} end) as ${alias}(v)`,
  );

function dimensionSql(metric: TrendMetric, d: TrendDimension): DimensionSql {
  if (metric === TrendMetric.INCIDENTS) {
    if (d === TrendDimension.RSIT_CLASS) return { expr: sql`r.rsit_class`, open: false };
    if (d === TrendDimension.SEVERITY) return { expr: sql`r.severity::text`, open: false };
    if (d === TrendDimension.SECTOR) return { expr: sql`sec.v`, join: unnestOrNull("sectors", "sec"), open: true };
    return { expr: sql`ctry.v`, join: unnestOrNull("countries", "ctry"), open: true };
  }
  if (d === TrendDimension.INDICATOR_TYPE) return { expr: sql`r.observable_type::text`, open: false };
  return {
    expr: sql`contributor.country_code`,
    join: sql`join organizations contributor on contributor.id = r.org_id`,
    open: false,
  };
}

function checkGroupBy(metric: TrendMetric, groupBy: readonly TrendDimension[]) {
  const allowed = DIMENSIONS_OF[metric];
  const seen = new Set<TrendDimension>();
  for (const d of groupBy) {
    if (!allowed.includes(d))
      throw badInput("input.groupBy", `${metric} cannot be grouped by ${d}; it can by ${allowed.join(", ")}`);
    if (seen.has(d)) throw badInput("input.groupBy", `${d} is named twice`);
    seen.add(d);
  }
}

/** The scope's predicate on a rollup row's contributing organisation. */
const inScope = (scopeDbId: string | null): SQL =>
  scopeDbId === null
    ? sql`true`
    : sql`r.org_id in (select m.member_id from regional_memberships m where m.region_id = ${scopeDbId}::uuid)`;

/**
 * The rollup rows that count: in the window and the scope, and allowed by the contributor's
 * consent as it stands now (no row: the default, ALL_BUT_RED). RED and revoked records are never
 * in the rollups. A key may have several rows (one per writing transaction until compacted, some
 * negative): callers sum per organisation and keep the organisations whose sum is positive.
 */
function countedRows(metric: TrendMetric, scopeDbId: string | null, from: Date, to: Date, joins: SQL[]): SQL {
  const table = metric === TrendMetric.INCIDENTS ? sql`trend_incident_rollup r` : sql`trend_indicator_rollup r`;
  const ofMetric = metric === TrendMetric.INCIDENTS ? sql`true` : sql`r.metric = ${metric}::trend_indicator_metric`;
  return sql`from ${table} ${sql.join(joins, sql` `)}
    left join trends_settings consent on consent.organization_id = r.org_id
    where ${ofMetric} and r.day >= ${dayOf(from)}::date and r.day < ${dayOf(to)}::date
      and ${inScope(scopeDbId)}
      and (coalesce(consent.consent, 'ALL_BUT_RED') = 'ALL_BUT_RED' or (consent.consent = 'UP_TO_GREEN' and not r.amber))`;
}

/**
 * Who may ask for a scope: the operator for any (and alone for the whole hub), a regional body for
 * its own, its member states for it. Anyone else gets FORBIDDEN, the same whether or not the id
 * names a regional body (their existence is public anyway, through `organizations`).
 */
async function authorizeScope(db: Db, viewer: ViewerIdentity, scopeGlobalId: string | null): Promise<string | null> {
  const scopeDbId = scopeGlobalId == null ? null : idOf("Organization", scopeGlobalId);
  const refuse = () => forbidden("Trends of a scope are for its regional body, its member states and the operator");
  if (viewer.organizationKind === OrganizationKind.HUB_OPERATOR) {
    if (scopeGlobalId == null) return null;
    const [row] = scopeDbId
      ? rowsOf<{ kind: string }>(await db.execute(sql`select kind from organizations where id = ${scopeDbId}::uuid`))
      : [];
    if (row?.kind !== OrganizationKind.REGIONAL_BODY) throw badInput("input.scopeId", "not a regional body");
    return scopeDbId;
  }
  if (!scopeDbId) throw refuse();
  if (viewer.organizationKind === OrganizationKind.REGIONAL_BODY && viewer.organizationId === scopeDbId)
    return scopeDbId;
  if (viewer.organizationKind === OrganizationKind.MEMBER_STATE) {
    const member = rowsOf(
      await db.execute(
        sql`select 1 from regional_memberships where region_id = ${scopeDbId}::uuid and member_id = ${viewer.organizationId}::uuid`,
      ),
    );
    if (member.length) return scopeDbId;
  }
  throw refuse();
}

/** The values a fixed dimension takes, in the order cells list them. */
async function fixedValues(
  db: Db,
  metric: TrendMetric,
  d: TrendDimension,
  scopeDbId: string | null,
): Promise<(string | null)[]> {
  if (d === TrendDimension.INDICATOR_TYPE) return [...OBSERVABLE_TYPES];
  if (d === TrendDimension.RSIT_CLASS) return TAXONOMY.classes.map((c) => c.value);
  if (d === TrendDimension.SEVERITY) return [...INCIDENT_SEVERITIES];
  if (metric === TrendMetric.INCIDENTS) throw new Error(`${d} is open for incidents`);
  // The contributor's country: the scope's member states (public through organizations), and for
  // the whole hub also null, for contributors that are not member states.
  const codes = rowsOf<{ code: string }>(
    await db.execute(sql`select o.country_code as code from organizations o
      where o.kind = 'MEMBER_STATE' and ${scopeDbId === null ? sql`true` : sql`o.id in (select m.member_id from regional_memberships m where m.region_id = ${scopeDbId}::uuid)`}
      order by o.country_code`),
  ).map((r) => r.code);
  return scopeDbId === null ? [...codes, null] : codes;
}

/** An open dimension's values: those at least k organisations contributed over the whole window. */
async function openValues(
  db: Db,
  metric: TrendMetric,
  dim: DimensionSql,
  scopeDbId: string | null,
  from: Date,
  to: Date,
  k: number,
): Promise<(string | null)[]> {
  const rows = rowsOf<{ v: string | null }>(
    await db.execute(sql`select v from (
        select ${dim.expr} as v, r.org_id ${countedRows(metric, scopeDbId, from, to, dim.join ? [dim.join] : [])}
        group by 1, 2 having sum(r.n) > 0) per_org
      group by v having count(*) >= ${k} order by v nulls last`),
  );
  return rows.map((r) => r.v);
}

/** Every combination of the axes' values, the first axis outermost. */
function combinations(axes: (string | null)[][]): (string | null)[][] {
  let out: (string | null)[][] = [[]];
  for (const values of axes) out = out.flatMap((prefix) => values.map((v) => [...prefix, v]));
  return out;
}

/**
 * Aggregated counts for a scope, from the rollups. Computed only from the scope, the
 * contributors' consent and k, never from the viewer's own access, so every account allowed to ask
 * gets the same answer. Every bucket lists every combination of the grouped values, and a cell
 * with fewer than k distinct contributors (none included) is suppressed with its count and its
 * number of contributors withheld: a suppressed cell says nothing, not even whether anything was
 * there.
 */
export async function computeTrends(
  db: Db,
  viewer: ViewerIdentity,
  input: TrendsInput,
  defaultK: number,
): Promise<Trends> {
  const { metric, interval, from, to } = input;
  const groupBy = [...input.groupBy];
  checkGroupBy(metric, groupBy);
  const starts = bucketsOf(from, to, interval);
  const scopeDbId = await authorizeScope(db, viewer, input.scopeId ?? null);
  const k = Math.max(defaultK, scopeDbId ? ((await scopeKOf(db, scopeDbId)) ?? 0) : 0);

  const dims = groupBy.map((d) => dimensionSql(metric, d));
  const axes: (string | null)[][] = [];
  for (const [i, d] of groupBy.entries()) {
    const dim = dims[i] as DimensionSql;
    axes.push(
      dim.open
        ? await openValues(db, metric, dim, scopeDbId, from, to, k)
        : await fixedValues(db, metric, d, scopeDbId),
    );
  }
  const keys = combinations(axes);
  if (starts.length * keys.length > MAX_CELLS)
    throw badInput(
      "input.groupBy",
      `the answer would hold ${starts.length * keys.length} cells (${starts.length} buckets of ${keys.length}), more than ${MAX_CELLS}; group by less, shorten the window or use a longer interval`,
    );

  const bucket = sql.raw(`to_char(date_trunc('${TRUNC[interval]}', r.day::timestamp), 'YYYY-MM-DD')`);
  // Per organisation first, then per cell: the number of distinct contributors is the number of
  // organisation rows, which a hash aggregate counts far faster than count(distinct).
  const cols = dims.map((_, i) => sql.raw(`d${i}`));
  const rows = rowsOf<Record<string, string | number | null>>(
    await db.execute(sql`select b, ${sql.join([...cols, sql`sum(n)::float8 as n, count(*)::int as c`], sql`, `)}
      from (
        select ${bucket} as b, ${sql.join([...dims.map((d, i) => sql`${d.expr} as ${cols[i]}`), sql`r.org_id, sum(r.n) as n`], sql`, `)}
        ${countedRows(
          metric,
          scopeDbId,
          from,
          to,
          dims.flatMap((d) => (d.join ? [d.join] : [])),
        )}
        group by ${sql.join([sql.raw("b"), ...cols, sql.raw("r.org_id")], sql`, `)}
        having sum(r.n) > 0
      ) per_org
      group by ${sql.join([sql.raw("b"), ...cols], sql`, `)}`),
  );
  const found = new Map<string, { n: number; c: number }>();
  for (const r of rows) {
    const key = JSON.stringify([r.b, ...dims.map((_, i) => r[`d${i}`] ?? null)]);
    found.set(key, { n: Number(r.n), c: Number(r.c) });
  }
  return {
    metric,
    interval,
    from,
    to,
    scopeId: input.scopeId ?? null,
    k,
    groupBy,
    axes: groupBy.map((dimension, i) => ({ dimension, values: axes[i] ?? [] })),
    buckets: starts.map((start) => {
      const b = dayOf(start);
      return {
        start,
        end: nextEdge(start, interval),
        cells: keys.map((key) => {
          const hit = found.get(JSON.stringify([b, ...key]));
          const shown = hit !== undefined && hit.c >= k;
          return {
            key,
            count: shown ? hit.n : null,
            contributors: shown ? hit.c : null,
            suppressed: !shown,
          };
        }),
      };
    }),
  };
}
