import { sql, type SQL } from "drizzle-orm";
import { alias, PgDialect } from "drizzle-orm/pg-core";
import postgres from "postgres";
import { assessmentVisibleTo } from "../src/modules/assessments/assessments.access";
import { OPINION_STANCES } from "../src/modules/assessments/assessments.enums";
import {
  assessmentRevisions,
  assessments,
  opinionRevisions,
  opinions,
} from "../src/modules/assessments/assessments.table";
import {
  stixConfidence,
  type AssessmentState,
  type OpinionState,
  type StoredMarking,
} from "../src/modules/assessments/state";
import { organizations } from "../src/modules/access/access.table";
import { visibleTo, type AccessViewer } from "../src/modules/access/tlp";
import { threatActors } from "../src/modules/incidents/incidents.table";
import { toGlobalId } from "../src/shared/ids";

/**
 * The bare side of the assessments benchmark: the answers to the benchmark's two queries computed
 * with raw SQL (postgres.js prepared statements, no drizzle, no GraphQL) and plain JavaScript, in
 * the JSON the hub answers. The access predicates in its SQL are the hub's own (`visibleTo` and
 * `assessmentVisibleTo`, rendered once for the viewer), so the rule stays in one place; everything
 * else is written here, independently of the hub's services, loaders and resolvers. The parent
 * checks that both give the same answer to every request body before it measures either.
 *
 * It knows only what the benchmark's world holds: no incident subjects and no evidence incidents or
 * indicators (the hub resolves those through loaders that then load nothing).
 */

export const POINT_QUERY = `query AssessmentAsOf($id: ID!, $asOf: DateTime!) {
  assessment(id: $id, asOf: $asOf) {
    id subjectKind campaignName actor { id name } claimedState stateResponsibility likelihood analyticConfidence
    stixConfidence rationale status nextReviewAt overdue marking { tlp } owner { id name } revision createdAt updatedAt asOf
  }
}`;

export const PAGE_QUERY = `query AssessmentPage($first: Int!, $after: String) {
  assessments(first: $first, after: $after) {
    edges {
      cursor
      node {
        id subjectKind campaignName likelihood analyticConfidence stixConfidence status nextReviewAt overdue
        actor { id name } owner { id name } marking { tlp } revision updatedAt
        revisions {
          number action reason recordedAt marking { tlp } authorOrganization { id } changes { field old new }
        }
        opinions {
          id stance confidence comment owner { id } marking { tlp } revision updatedAt
          revisions { number action reason recordedAt changes { field old new } }
        }
        opinionSummary { count meanAgreement stances { stance count } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`;

export interface PointVariables {
  id: string;
  asOf: string;
}
export interface PageVariables {
  first: number;
  after?: string;
}

/** What a GraphQL answer is compared by: its data, and its errors' codes. */
export interface Answer {
  data: unknown;
  errors?: { message: string; extensions: { code: string } }[];
}

const t = alias(threatActors, "t");
const r = alias(assessmentRevisions, "r");
const v = alias(assessmentRevisions, "v");
const orv = alias(opinionRevisions, "orv");

/** Renders a statement once with sentinel parameters; `bind` swaps the sentinels for a request's values. */
function prepared(statement: SQL, names: readonly string[]) {
  const q = new PgDialect().sqlToQuery(statement);
  for (const n of names) if (!q.params.includes(n)) throw new Error(`parameter ${n} is not in the statement`);
  return {
    text: q.sql,
    bind: (values: Record<string, unknown>) =>
      q.params.map((p) => (typeof p === "string" && p in values ? values[p] : p)) as postgres.ParameterOrJSON<never>[],
  };
}

const ID = "$bench:id";
const AS_OF = "$bench:asOf";
const IDS = "$bench:ids";
const AFTER_AT = "$bench:afterAt";
const AFTER_ID = "$bench:afterId";
const LIMIT = "$bench:limit";

function statements(viewer: AccessViewer) {
  const point = prepared(
    sql`select ${assessments.id} as id, ${assessments.ownerOrgId} as owner, ${assessments.subjectKind} as subject_kind,
          ${assessments.subjectName} as subject_name, ${organizations.name} as owner_name,
          ${r.number} as number, ${r.state} as state, ${r.recordedAt} as recorded_at,
          ${t.id} as actor_id, ${t.name} as actor_name, h.n, h.first_at
        from ${assessments}
        join lateral (select * from ${assessmentRevisions} as ${sql.identifier("r")}
          where ${r.assessmentId} = ${assessments.id} and ${r.recordedAt} <= ${AS_OF}::timestamptz
          order by ${r.number} desc limit 1) ${sql.identifier("r")} on true
        join ${organizations} on ${organizations.id} = ${assessments.ownerOrgId}
        left join ${threatActors} ${sql.identifier("t")} on ${t.id} = (${r.state} ->> 'actorId')::uuid and ${visibleTo(viewer, t)}
        cross join lateral (select count(*)::int as n, min(${v.recordedAt}) as first_at from ${assessmentRevisions} ${sql.identifier("v")}
          where ${v.assessmentId} = ${assessments.id} and ${v.number} <= ${r.number} and ${visibleTo(viewer, v)}) h
        where ${assessments.id} = ${ID}::uuid and ${assessmentVisibleTo(viewer)} and ${visibleTo(viewer, r)}`,
    [ID, AS_OF],
  );
  const pageSelect = sql`select ${assessments.id} as id, ${assessments.ownerOrgId} as owner,
      ${assessments.subjectKind} as subject_kind, ${assessments.subjectName} as subject_name, ${assessments.tlp} as tlp,
      ${assessments.likelihood} as likelihood, ${assessments.analyticConfidence} as analytic_confidence,
      ${assessments.status} as status, ${assessments.nextReviewAt} as next_review_at, ${assessments.createdAt} as created_at,
      ${assessments.updatedAt} as updated_at, ${t.id} as actor_id, ${t.name} as actor_name, ${organizations.name} as owner_name
    from ${assessments}
    join ${organizations} on ${organizations.id} = ${assessments.ownerOrgId}
    join ${threatActors} ${sql.identifier("t")} on ${t.id} = ${assessments.actorId}
    where ${assessmentVisibleTo(viewer)}`;
  const order = sql`order by ${assessments.createdAt}, ${assessments.id} limit ${LIMIT}::int`;
  const firstPage = prepared(sql`${pageSelect} ${order}`, [LIMIT]);
  const nextPage = prepared(
    sql`${pageSelect} and (${assessments.createdAt}, ${assessments.id}) > (${AFTER_AT}::timestamptz, ${AFTER_ID}::uuid) ${order}`,
    [AFTER_AT, AFTER_ID, LIMIT],
  );
  const revisions = prepared(
    sql`select ${r.assessmentId} as assessment_id, ${r.number} as number, ${r.action} as action, ${r.reason} as reason,
          ${r.recordedAt} as recorded_at, ${r.ownerOrgId} as owner, ${r.authorOrgId} as author_org, ${r.state} as state,
          ${t.id} is not null as actor_visible
        from ${assessmentRevisions} ${sql.identifier("r")}
        left join ${threatActors} ${sql.identifier("t")} on ${t.id} = (${r.state} ->> 'actorId')::uuid and ${visibleTo(viewer, t)}
        where ${r.assessmentId} = any(${IDS}::uuid[]) and ${visibleTo(viewer, r)}
        order by ${r.assessmentId}, ${r.number}`,
    [IDS],
  );
  const opinionRows = prepared(
    sql`select ${opinions.id} as id, ${opinions.assessmentId} as assessment_id, ${opinions.ownerOrgId} as owner,
          ${opinions.stance} as stance, ${opinions.confidence} as confidence, ${opinions.comment} as comment,
          ${opinions.tlp} as tlp,
          coalesce((select json_agg(json_build_object('number', ${orv.number}, 'action', ${orv.action}, 'reason', ${orv.reason},
              'recordedAt', ${orv.recordedAt}, 'state', ${orv.state}) order by ${orv.number})
            from ${opinionRevisions} ${sql.identifier("orv")} where ${orv.opinionId} = ${opinions.id} and ${visibleTo(viewer, orv)}), '[]') as revisions
        from ${opinions}
        where ${opinions.assessmentId} = any(${IDS}::uuid[]) and ${visibleTo(viewer, opinions)}
        order by ${opinions.createdAt}, ${opinions.id}`,
    [IDS],
  );
  return { point, firstPage, nextPage, revisions, opinionRows };
}

// ---------------------------------------------------------------------------------------------
// what a viewer sees of a state, and a history of states (as the hub's Revision type defines it)

type Json = Record<string, unknown>;

interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

function changesBetween(before: Json | null, now: Json): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [field, value] of Object.entries(now)) {
    const old = before ? before[field] : null;
    if (!before || JSON.stringify(old) !== JSON.stringify(value)) out.push({ field, old: old ?? null, new: value });
  }
  return out;
}

const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

const NOT_FOUND = (what: string): Answer => ({
  data: null,
  errors: [{ message: `${what} not found`, extensions: { code: "NOT_FOUND" } }],
});

/** The bare answers for one viewer, on a postgres.js client of their own. */
export function bareAnswers(client: postgres.Sql, viewer: AccessViewer) {
  const s = statements(viewer);
  const run = <T>(
    st: { text: string; bind: (v: Record<string, unknown>) => postgres.ParameterOrJSON<never>[] },
    values: Record<string, unknown>,
  ) => client.unsafe<T[]>(st.text, st.bind(values), { prepare: true });

  const markingShown = (owner: string, m: StoredMarking) =>
    owner === viewer.organizationId
      ? {
          tlp: m.tlp,
          audienceOrganizationIds: m.audienceOrgIds.map((id) => toGlobalId("Organization", id)),
          audienceGroupIds: m.audienceGroupIds.map((id) => toGlobalId("SharingGroup", id)),
        }
      : { tlp: m.tlp };

  const assessmentShown = (st: AssessmentState, owner: string, actorVisible: boolean): Json => ({
    actor: actorVisible ? toGlobalId("ThreatActor", st.actorId) : null,
    claimedState: st.claimedState,
    stateResponsibility: st.stateResponsibility,
    likelihood: st.likelihood,
    analyticConfidence: st.analyticConfidence,
    rationale: st.rationale,
    // The world has no evidence incidents or indicators (see the file's comment).
    evidenceIncidents: [],
    evidenceIndicators: [],
    evidenceReferences: st.evidenceReferences,
    status: st.status,
    nextReviewAt: st.nextReviewAt,
    marking: markingShown(owner, st.marking),
  });

  const overdue = (status: string, review: Date | string | null, at: Date) =>
    status === "PROVISIONAL" && review !== null && new Date(review) < at;

  async function point(vars: PointVariables): Promise<Answer> {
    const decoded = Buffer.from(vars.id, "base64url").toString("utf8");
    const id = decoded.startsWith("Assessment:") ? decoded.slice("Assessment:".length) : null;
    if (!id) return NOT_FOUND("Assessment");
    const asOf = new Date(vars.asOf);
    const [row] = await run<{
      id: string;
      owner: string;
      subject_kind: string;
      subject_name: string | null;
      owner_name: string;
      number: number;
      state: AssessmentState;
      recorded_at: Date;
      actor_id: string | null;
      actor_name: string | null;
      n: number;
      first_at: Date;
    }>(s.point, { [ID]: id, [AS_OF]: asOf.toISOString() });
    if (!row) return NOT_FOUND("Assessment");
    const st = row.state;
    return {
      data: {
        assessment: {
          id: toGlobalId("Assessment", row.id),
          subjectKind: row.subject_kind,
          campaignName: row.subject_name,
          actor: row.actor_id ? { id: toGlobalId("ThreatActor", row.actor_id), name: row.actor_name } : null,
          claimedState: st.claimedState,
          stateResponsibility: st.stateResponsibility,
          likelihood: st.likelihood,
          analyticConfidence: st.analyticConfidence,
          stixConfidence: stixConfidence(st.likelihood, st.analyticConfidence),
          rationale: st.rationale,
          status: st.status,
          nextReviewAt: iso(st.nextReviewAt),
          overdue: overdue(st.status, st.nextReviewAt, asOf),
          marking: { tlp: st.marking.tlp },
          owner: { id: toGlobalId("Organization", row.owner), name: row.owner_name },
          revision: row.n,
          createdAt: iso(row.first_at),
          updatedAt: iso(row.recorded_at),
          asOf: asOf.toISOString(),
        },
      },
    };
  }

  interface PageRow {
    id: string;
    owner: string;
    subject_kind: string;
    subject_name: string | null;
    tlp: string;
    likelihood: AssessmentState["likelihood"];
    analytic_confidence: AssessmentState["analyticConfidence"];
    status: string;
    next_review_at: Date | null;
    created_at: Date;
    updated_at: Date;
    actor_id: string;
    actor_name: string;
    owner_name: string;
  }
  interface RevisionRow {
    assessment_id: string;
    number: number;
    action: string;
    reason: string;
    recorded_at: Date;
    owner: string;
    author_org: string;
    state: AssessmentState;
    actor_visible: boolean;
  }
  interface OpinionRow {
    id: string;
    assessment_id: string;
    owner: string;
    stance: string;
    confidence: number | null;
    comment: string;
    tlp: string;
    revisions: { number: number; action: string; reason: string; recordedAt: string; state: OpinionState }[];
  }

  const cursorOf = (createdAt: Date, id: string) =>
    Buffer.from(JSON.stringify([createdAt.toISOString(), id]), "utf8").toString("base64url");

  async function page(vars: PageVariables): Promise<Answer> {
    const limit = vars.first + 1;
    let rows: PageRow[];
    if (vars.after) {
      const [at, id] = JSON.parse(Buffer.from(vars.after, "base64url").toString("utf8")) as [string, string];
      rows = await run<PageRow>(s.nextPage, { [AFTER_AT]: at, [AFTER_ID]: id, [LIMIT]: limit });
    } else rows = await run<PageRow>(s.firstPage, { [LIMIT]: limit });
    const shown = rows.slice(0, vars.first);
    const ids = `{${shown.map((x) => x.id).join(",")}}`;
    const [revisionRows, opinionRows] = shown.length
      ? await Promise.all([
          run<RevisionRow>(s.revisions, { [IDS]: ids }),
          run<OpinionRow>(s.opinionRows, { [IDS]: ids }),
        ])
      : [[], []];
    const revisionsOf = new Map<string, RevisionRow[]>();
    for (const x of revisionRows) {
      const l = revisionsOf.get(x.assessment_id);
      if (l) l.push(x);
      else revisionsOf.set(x.assessment_id, [x]);
    }
    const opinionsOf = new Map<string, OpinionRow[]>();
    for (const x of opinionRows) {
      const l = opinionsOf.get(x.assessment_id);
      if (l) l.push(x);
      else opinionsOf.set(x.assessment_id, [x]);
    }
    const now = new Date();
    const edges = shown.map((a) => {
      const history = revisionsOf.get(a.id) ?? [];
      let before: Json | null = null;
      const revisions = history.map((x, i) => {
        const state = assessmentShown(x.state, x.owner, x.actor_visible);
        const changes = changesBetween(before, state);
        before = state;
        return {
          number: i + 1,
          action: i === 0 ? "CREATE" : x.action,
          reason: x.reason,
          recordedAt: iso(x.recorded_at),
          marking: { tlp: x.state.marking.tlp },
          authorOrganization: { id: toGlobalId("Organization", x.author_org) },
          changes,
        };
      });
      const ops = (opinionsOf.get(a.id) ?? []).map((o) => {
        let prev: Json | null = null;
        const revs = o.revisions.map((x, i) => {
          const state: Json = {
            stance: x.state.stance,
            confidence: x.state.confidence,
            comment: x.state.comment,
            marking: markingShown(o.owner, x.state.marking),
          };
          const changes = changesBetween(prev, state);
          prev = state;
          return {
            number: i + 1,
            action: i === 0 ? "CREATE" : x.action,
            reason: x.reason,
            recordedAt: iso(x.recordedAt),
            changes,
          };
        });
        return {
          id: toGlobalId("Opinion", o.id),
          stance: o.stance,
          confidence: o.confidence,
          comment: o.comment,
          owner: { id: toGlobalId("Organization", o.owner) },
          marking: { tlp: o.tlp },
          revision: revs.length,
          updatedAt: revs.at(-1)?.recordedAt ?? null,
          revisions: revs,
        };
      });
      const score = ops.reduce((sum, o) => sum + OPINION_STANCES.indexOf(o.stance as never) - 2, 0);
      return {
        cursor: cursorOf(a.created_at, a.id),
        node: {
          id: toGlobalId("Assessment", a.id),
          subjectKind: a.subject_kind,
          campaignName: a.subject_name,
          likelihood: a.likelihood,
          analyticConfidence: a.analytic_confidence,
          stixConfidence: stixConfidence(a.likelihood, a.analytic_confidence),
          status: a.status,
          nextReviewAt: iso(a.next_review_at),
          overdue: overdue(a.status, a.next_review_at, now),
          actor: { id: toGlobalId("ThreatActor", a.actor_id), name: a.actor_name },
          owner: { id: toGlobalId("Organization", a.owner), name: a.owner_name },
          marking: { tlp: a.tlp },
          revision: revisions.length,
          updatedAt: revisions.at(-1)?.recordedAt ?? null,
          revisions,
          opinions: ops,
          opinionSummary: {
            count: ops.length,
            meanAgreement: ops.length ? score / ops.length : null,
            stances: OPINION_STANCES.map((stance) => ({
              stance,
              count: ops.filter((o) => o.stance === stance).length,
            })),
          },
        },
      };
    });
    return {
      data: {
        assessments: {
          edges,
          pageInfo: { hasNextPage: rows.length > vars.first, endCursor: edges.at(-1)?.cursor ?? null },
        },
      },
    };
  }

  return { point, page };
}
