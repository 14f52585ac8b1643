import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { badInput, forbidden } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { rowsOf } from "../../shared/rows";
import { OrganizationKind } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { OBSERVABLE_TYPES } from "../indicators/normalize";
import { INCIDENT_SEVERITIES } from "../incidents/incidents.enums";
import { TYPE as INCIDENT_TYPE } from "../incidents/incidents.mappers";
import { TAXONOMY } from "../incidents/taxonomy";
import { TrendDimension, TrendInterval, TrendMetric } from "./trends.enums";
import { scopeKOf } from "./trends-settings.service";
import type { Trends, TrendsInput } from "./trends.type";
import { bucketsOf, dayOf, MAX_CELLS, nextEdge } from "./trends.window";

/** Which dimensions each metric can be grouped by. */
export const DIMENSIONS_OF: Readonly<Record<TrendMetric, readonly TrendDimension[]>> = {
  INDICATORS: [TrendDimension.INDICATOR_TYPE, TrendDimension.COUNTRY],
  SIGHTINGS: [TrendDimension.INDICATOR_TYPE, TrendDimension.COUNTRY],
  INCIDENTS: [
    TrendDimension.RSIT_CLASS,
    TrendDimension.SEVERITY,
    TrendDimension.SECTOR,
    TrendDimension.COUNTRY,
    TrendDimension.THREAT_ACTOR,
  ],
};

const TRUNC: Record<TrendInterval, string> = { DAY: "day", WEEK: "week", MONTH: "month" };

/** How a dimension reads off a rollup row (`r`): its expression, a join it needs, and whether its values are open. */
interface DimensionSql {
  expr: SQL;
  join?: SQL;
  /** Free values (sectors, affected countries, actors): only those with at least k contributors over the window are shown. */
  open: boolean;
  /**
   * Organisations besides the records' owners that a value (other than null) and a cell of it also
   * need at least k of, as a uuid[] per row: for THREAT_ACTOR, the organisations that made the
   * attributions, so that no single organisation's assessments are ever shown on their own.
   */
  attributors?: SQL;
}

/** The consent rule on a counted record's band; no settings row is the default, ALL_BUT_RED. */
const consentAllows = (consent: SQL, amber: SQL): SQL =>
  sql`(coalesce(${consent}, 'ALL_BUT_RED') = 'ALL_BUT_RED' or (${consent} = 'UP_TO_GREEN' and not ${amber}))`;

/**
 * An incident rollup row's countable attributions (its `actor:assessor:band` entries), one row per
 * actor with the organisations that attributed the incidents to it, or one row of nulls when none
 * counts. An entry counts when its assessor's consent allows the assessment's band, and its actor is
 * not RED and the actor's owner's consent allows the actor's marking.
 */
const countedActors = sql`left join lateral (
    select att.actor_id, array_agg(att.assessor_id) as assessors
    from (select split_part(x.e, ':', 1)::uuid as actor_id, split_part(x.e, ':', 2)::uuid as assessor_id,
                 split_part(x.e, ':', 3) = 'A' as amber
          from unnest(r.attributions) as x(e)) att
    left join trends_settings assessor_consent on assessor_consent.organization_id = att.assessor_id
    join threat_actors actor on actor.id = att.actor_id and actor.tlp <> 'RED'
    left join trends_settings actor_consent on actor_consent.organization_id = actor.owner_org_id
    where ${consentAllows(sql`assessor_consent.consent`, sql`att.amber`)}
      and ${consentAllows(sql`actor_consent.consent`, sql`actor.tlp in ('AMBER', 'AMBER_STRICT')`)}
    group by att.actor_id
  ) act on true`;

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
    if (d === TrendDimension.THREAT_ACTOR)
      return { expr: sql`act.actor_id::text`, join: countedActors, open: true, attributors: sql`act.assessors` };
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
      and ${consentAllows(sql`consent.consent`, sql`r.amber`)}`;
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

/**
 * An open dimension's values: those at least k organisations contributed over the whole window
 * (and, for a dimension with attributors, that at least k organisations attributed).
 */
async function openValues(
  db: Db,
  metric: TrendMetric,
  dim: DimensionSql,
  scopeDbId: string | null,
  from: Date,
  to: Date,
  k: number,
): Promise<(string | null)[]> {
  const joins = dim.join ? [dim.join] : [];
  const attributed = dim.attributors
    ? sql`v is null or v in (select v from (
          select ${dim.expr} as v, a.org_id
          ${countedRows(metric, scopeDbId, from, to, [...joins, sql`cross join lateral unnest(${dim.attributors}) as a(org_id)`])}
          group by 1, 2 having sum(r.n) > 0) per_attributor
        group by v having count(*) >= ${k})`
    : sql`true`;
  const rows = rowsOf<{ v: string | null }>(
    await db.execute(sql`select v from (
        select ${dim.expr} as v, r.org_id ${countedRows(metric, scopeDbId, from, to, joins)}
        group by 1, 2 having sum(r.n) > 0) per_org
      group by v having count(*) >= ${k} and (${attributed}) order by v nulls last`),
  );
  return rows.map((r) => r.v);
}

/** An axis: the values cells are matched on, the values the answer gives, and their labels. */
interface Axis {
  raw: (string | null)[];
  values: (string | null)[];
  labels: (string | null)[];
}

const plainAxis = (values: (string | null)[]): Axis => ({ raw: values, values, labels: values });

/** Actors by id as the answer shows them: ordered by name, as global ids labelled with their names. */
async function actorAxis(db: Db, ids: (string | null)[]): Promise<Axis> {
  const known = ids.filter((id): id is string => id !== null);
  const actors = known.length
    ? rowsOf<{ id: string; name: string }>(
        await db.execute(sql`select id::text as id, name from threat_actors
          where id = any(${`{${known.join(",")}}`}::uuid[]) order by name, id`),
      )
    : [];
  const tail = ids.includes(null) ? [null] : [];
  return {
    raw: [...actors.map((a) => a.id), ...tail],
    values: [...actors.map((a) => toGlobalId(INCIDENT_TYPE.ThreatActor, a.id)), ...tail],
    labels: [...actors.map((a) => a.name), ...tail],
  };
}

/** Every combination of the axes' values, the first axis outermost. */
function combinations(axes: (string | null)[][]): (string | null)[][] {
  let out: (string | null)[][] = [[]];
  for (const values of axes) out = out.flatMap((prefix) => values.map((v) => [...prefix, v]));
  return out;
}

/** The bucket's start day and a cell's matched values, as a map key. */
const cellKey = (b: unknown, values: readonly unknown[]) => JSON.stringify([b, ...values]);

/**
 * Aggregated counts for a scope, from the rollups. Computed only from the scope, the
 * contributors' consent and k, never from the viewer's own access, so every account allowed to ask
 * gets the same answer. Every bucket lists every combination of the grouped values, and a cell
 * with fewer than k distinct contributors (none included) is suppressed with its count and its
 * number of contributors withheld: a suppressed cell says nothing, not even whether anything was
 * there. A cell of a threat actor is also suppressed when fewer than k organisations made its
 * attributions.
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
  const axes: Axis[] = [];
  for (const [i, d] of groupBy.entries()) {
    const dim = dims[i] as DimensionSql;
    if (!dim.open) axes.push(plainAxis(await fixedValues(db, metric, d, scopeDbId)));
    else {
      const values = await openValues(db, metric, dim, scopeDbId, from, to, k);
      axes.push(d === TrendDimension.THREAT_ACTOR ? await actorAxis(db, values) : plainAxis(values));
    }
  }
  const keys = combinations(axes.map((a) => a.raw));
  const shownKeys = combinations(axes.map((a) => a.values));
  if (starts.length * keys.length > MAX_CELLS)
    throw badInput(
      "input.groupBy",
      `the answer would hold ${starts.length * keys.length} cells (${starts.length} buckets of ${keys.length}), more than ${MAX_CELLS}; group by less, shorten the window or use a longer interval`,
    );

  const bucket = sql.raw(`to_char(date_trunc('${TRUNC[interval]}', r.day::timestamp), 'YYYY-MM-DD')`);
  const cols = dims.map((_, i) => sql.raw(`d${i}`));
  const joins = dims.flatMap((d) => (d.join ? [d.join] : []));
  /** Per cell, the number of distinct organisations in `who` whose records sum to more than nothing. */
  const perCell = async (who: SQL, extraJoins: SQL[], measure: SQL) =>
    rowsOf<Record<string, string | number | null>>(
      await db.execute(sql`select b, ${sql.join([...cols, measure], sql`, `)}
        from (
          select ${bucket} as b, ${sql.join([...dims.map((d, i) => sql`${d.expr} as ${cols[i]}`), sql`${who} as who, sum(r.n) as n`], sql`, `)}
          ${countedRows(metric, scopeDbId, from, to, [...joins, ...extraJoins])}
          group by ${sql.join([sql.raw("b"), ...cols, sql.raw("who")], sql`, `)}
          having sum(r.n) > 0
        ) per_who
        group by ${sql.join([sql.raw("b"), ...cols], sql`, `)}`),
    );
  const keyOf = (r: Record<string, unknown>) =>
    cellKey(
      r.b,
      dims.map((_, i) => r[`d${i}`] ?? null),
    );
  // Per organisation first, then per cell: the number of distinct contributors is the number of
  // organisation rows, which a hash aggregate counts far faster than count(distinct).
  const found = new Map<string, { n: number; c: number }>();
  for (const r of await perCell(sql`r.org_id`, [], sql`sum(n)::float8 as n, count(*)::int as c`))
    found.set(keyOf(r), { n: Number(r.n), c: Number(r.c) });
  // A dimension with attributors: its cells (but null's) also need k distinct attributing organisations.
  const attributed = dims.findIndex((d) => d.attributors);
  const attributors = new Map<string, number>();
  const attributorsOf = dims[attributed]?.attributors;
  if (attributorsOf)
    for (const r of await perCell(
      sql`a.org_id`,
      [sql`cross join lateral unnest(${attributorsOf}) as a(org_id)`],
      sql`count(*)::int as c`,
    ))
      attributors.set(keyOf(r), Number(r.c));
  return {
    metric,
    interval,
    from,
    to,
    scopeId: input.scopeId ?? null,
    k,
    groupBy,
    axes: groupBy.map((dimension, i) => ({
      dimension,
      values: axes[i]?.values ?? [],
      labels: axes[i]?.labels ?? [],
    })),
    buckets: starts.map((start) => {
      const b = dayOf(start);
      return {
        start,
        end: nextEdge(start, interval),
        cells: keys.map((key, j) => {
          const at = cellKey(b, key);
          const hit = found.get(at);
          const shown =
            hit !== undefined &&
            hit.c >= k &&
            (attributed < 0 || key[attributed] == null || (attributors.get(at) ?? 0) >= k);
          return {
            key: shownKeys[j] ?? key,
            count: shown ? hit.n : null,
            contributors: shown ? hit.c : null,
            suppressed: !shown,
          };
        }),
      };
    }),
  };
}
