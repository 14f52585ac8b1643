import type postgres from "postgres";
import { LIKELIHOODS, ANALYTIC_CONFIDENCES, OPINION_STANCES } from "../src/modules/assessments/assessments.enums";

/**
 * The assessments benchmark's world, written set-based (one `insert ... select` from
 * `generate_series` per table, never a statement per row) straight into a migrated database.
 *
 * Assessment i (1..N) has 10 immutable revisions; each revision's `state` is the whole
 * `AssessmentState` after it, in the shape the hub writes (see state.ts and `stateOfRow`), and the
 * assessment row mirrors revision 10, as the hub keeps it. Ids are derived from i (md5 as uuid), so
 * the same N always gives the same world. What varies with i, so that the access rule does real
 * work for a reader of another member state (the viewer):
 *
 * - owner: one of five member states, in rotation; the viewer's organisation owns nothing;
 * - marking (i mod 20): 0-1 RED for revisions 1-3, then GREEN (the viewer sees revisions 4-10 only);
 *   2-12 GREEN; 13 CLEAR; 14-15 AMBER with the viewer in the audience; 16 AMBER for another
 *   organisation (not visible); 17 RED naming the viewer; 18 RED naming no one (not visible);
 *   19 AMBER for another organisation in revisions 1-5, then GREEN;
 * - actor: 16 GREEN intrusion sets; every third assessment named another one in revisions 1-5
 *   (every 150th a RED actor the viewer may not see: its history shows that actor as null); every
 *   101st names the RED actor now (not visible at all); every 97th an AMBER actor shared with the viewer;
 * - subject: every tenth an intrusion set (two reserved GREEN ones), the rest a named campaign;
 * - likelihood changes every other revision, analytic confidence every fourth, the rationale at
 *   revisions 1, 5 and 9, the next-review date with every revision; revision 10 confirms (i mod 4 =
 *   0), withdraws (i mod 8 = 1) or revises; a provisional assessment's review date is in 2027-2028
 *   for even i (not overdue) and long past for odd i (overdue);
 * - opinions: i mod 4 of them, from other owners, with 1-3 revisions each; the third is AMBER for the
 *   assessment's owner only (not visible), some start RED and become GREEN.
 */

export interface AssessmentWorld {
  /** The five owning member states and one analyst of each (authors of everything). */
  owners: string[];
  analysts: string[];
  /** The viewer's organisation (a member state owning nothing). */
  viewer: string;
  /** An organisation the AMBER audiences name instead of the viewer. */
  outsider: string;
}

export const ACTORS = 20;

const list = (xs: readonly string[]) => `array[${xs.map((x) => `'${x}'`).join(", ")}]`;
/** An ISO 8601 timestamp as `Date.toISOString()` writes it (what the hub stores in a state). */
const iso = (expr: string) => `to_char((${expr}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Threat actors: 0-15 GREEN, 16-17 GREEN (subjects), 18 AMBER shared with the viewer, 19 RED. */
async function loadActors(sql: postgres.TransactionSql, w: AssessmentWorld) {
  await sql.unsafe(
    `insert into threat_actors (id, owner_org_id, tlp, audience_orgs, kind, name, aliases, names_lower, stix_id, created_by, created_at)
     select md5('bench-actor:' || k)::uuid,
            (${list(w.owners)}::uuid[])[k % 5 + 1],
            (case k when 18 then 'AMBER' when 19 then 'RED' else 'GREEN' end)::tlp,
            case k when 18 then array['${w.viewer}']::uuid[] else '{}'::uuid[] end,
            'INTRUSION_SET', 'Bench intrusion set ' || k, '{}', array['bench intrusion set ' || k],
            'intrusion-set--' || md5('bench-actor-stix:' || k)::uuid,
            (${list(w.analysts)}::uuid[])[k % 5 + 1],
            timestamptz '2022-06-01 00:00:00+00'
     from generate_series(0, ${ACTORS - 1}) k`,
  );
}

/**
 * Every revision of every assessment, computed once into a staging table (i, r, and each column),
 * then copied into `assessment_revisions` (all of them) and `assessments` (revision 10).
 */
async function loadAssessments(sql: postgres.TransactionSql, w: AssessmentWorld, n: number) {
  const likelihoods = list(LIKELIHOODS);
  const confidences = list(ANALYTIC_CONFIDENCES);
  await sql.unsafe(`create temporary table bench_revision_stage on commit drop as
    with base as (
      select i, r, least(r, 9) as q, i % 5 + 1 as o, i % 20 as m,
             timestamptz '2023-01-01 00:00:00+00' + i * interval '631 seconds' as created,
             timestamptz '2023-01-01 00:00:00+00' + i * interval '631 seconds'
               + (r - 1) * ((i % 5) + 1) * interval '1 day' + (r - 1) * interval '37 minutes' as at
      from generate_series(1, ${n}) i, generate_series(1, 10) r
    ), fields as (
      select *,
        md5('bench-actor:' || case
          when i % 3 = 0 and r <= 5 then (case when i % 150 = 9 then 19 else (i + 7) % 16 end)
          when i % 101 = 3 then 19 when i % 97 = 5 then 18 else i % 16 end)::uuid::text as actor,
        case when i % 5 = 1 then 'XZ' end as claimed,
        case when i % 5 = 1 then (case when q >= 4 then 'state-coordinated' else 'state-encouraged' end) end as responsibility,
        (${likelihoods})[(i + (q + 1) / 2) % 7 + 1] as likelihood,
        (${confidences})[(i + q / 4) % 3 + 1] as confidence,
        'Bench rationale for assessment ' || i || ', version ' || ((q + 3) / 4) ||
          ': infrastructure overlaps with earlier operations of the same cluster, shared tooling and a matching working-hours pattern.' as rationale,
        case when q >= 3 then array['https://example.org/bench/' || i] else '{}'::text[] end as refs,
        case when r < 10 then 'PROVISIONAL' when i % 4 = 0 then 'CONFIRMED' when i % 8 = 1 then 'WITHDRAWN' else 'PROVISIONAL' end as status,
        case
          when m in (0, 1) and r <= 3 then 'RED'
          when m in (14, 15, 16) or (m = 19 and r <= 5) then 'AMBER'
          when m in (17, 18) then 'RED'
          when m = 13 then 'CLEAR'
          else 'GREEN' end as tlp,
        case
          when m in (14, 15, 17) then array['${w.viewer}']::uuid[]
          when m = 16 or (m = 19 and r <= 5) then array['${w.outsider}']::uuid[]
          else '{}'::uuid[] end as audience
      from base
    ), stated as (
      select *,
        case when status <> 'PROVISIONAL' then null
             when r = 10 and i % 2 = 0 then timestamptz '2027-06-01 00:00:00+00' + (i % 300) * interval '1 day'
             else at + interval '90 days' end as review
      from fields
    )
    select i, r, md5('bench-assessment:' || i)::uuid as aid, o, created, at, actor, claimed, responsibility, likelihood,
           confidence, rationale, refs, status, review, tlp, audience,
           case when r = 1 then 'CREATE' when r = 10 and status = 'CONFIRMED' then 'CONFIRM'
                when r = 10 and status = 'WITHDRAWN' then 'WITHDRAW' else 'REVISE' end as action,
           jsonb_build_object(
             'actorId', actor, 'claimedState', claimed, 'stateResponsibility', responsibility,
             'likelihood', likelihood, 'analyticConfidence', confidence, 'rationale', rationale,
             'evidenceIncidentIds', '[]'::jsonb, 'evidenceIndicatorIds', '[]'::jsonb,
             'evidenceReferences', to_jsonb(refs), 'status', status,
             'nextReviewAt', case when review is null then null else ${iso("review")} end,
             'marking', jsonb_build_object('tlp', tlp, 'audienceOrgIds', to_jsonb(audience::text[]), 'audienceGroupIds', '[]'::jsonb)
           ) as state
    from stated`);
  await sql.unsafe(
    `insert into assessments (id, owner_org_id, tlp, audience_orgs, audience_groups, subject_kind, subject_actor_id,
       subject_name, actor_id, claimed_state, state_responsibility, likelihood, analytic_confidence, rationale,
       evidence_references, status, next_review_at, revision, stix_id, created_by, created_at, updated_at)
     select aid, (${list(w.owners)}::uuid[])[o], tlp::tlp, audience, '{}',
       (case when i % 10 = 0 then 'INTRUSION_SET' else 'CAMPAIGN' end)::assessment_subject_kind,
       case when i % 10 = 0 then md5('bench-actor:' || (16 + (i / 10) % 2))::uuid end,
       case when i % 10 = 0 then null else 'Bench campaign ' || (i % 997) end,
       actor::uuid, claimed, responsibility, likelihood::likelihood, confidence::analytic_confidence, rationale,
       refs, status::assessment_status, review, 10, 'relationship--' || md5('bench-relationship:' || i)::uuid,
       (${list(w.analysts)}::uuid[])[o], created, at
     from bench_revision_stage where r = 10 order by i`,
  );
  await sql.unsafe(
    `insert into assessment_revisions (assessment_id, number, owner_org_id, tlp, audience_orgs, audience_groups, action,
       reason, state, author_account_id, author_org_id, recorded_at)
     select aid, r, (${list(w.owners)}::uuid[])[o], tlp::tlp, audience, '{}', action::revision_action,
       'Bench revision ' || r || ' of assessment ' || i || ': new reporting', state,
       (${list(w.analysts)}::uuid[])[o], (${list(w.owners)}::uuid[])[o], at
     from bench_revision_stage order by i, r`,
  );
}

/** i mod 4 opinions per assessment from other owners, with 1-3 revisions each. */
async function loadOpinions(sql: postgres.TransactionSql, w: AssessmentWorld, n: number) {
  const stances = list(OPINION_STANCES);
  await sql.unsafe(`create temporary table bench_opinion_stage on commit drop as
    with base as (
      select i, j, s, n_rev,
             md5('bench-opinion:' || i || ':' || j)::uuid as oid,
             md5('bench-assessment:' || i)::uuid as aid,
             (i % 5 + j + 1) % 5 + 1 as o,
             i % 5 + 1 as assessment_owner,
             timestamptz '2023-01-01 00:00:00+00' + i * interval '631 seconds'
               + (j + 1) * interval '2 days' + (s - 1) * interval '3 days' + j * interval '1 minute' as at
      from generate_series(1, ${n}) i
      cross join lateral generate_series(0, i % 4 - 1) j
      cross join lateral (select 1 + (i + j) % 3 as n_rev) k
      cross join lateral generate_series(1, n_rev) s
    ), fields as (
      select *,
        (${stances})[(i + j + s) % 5 + 1] as stance,
        case when (i + j) % 4 = 0 then null else 40 + ((i + s) % 5) * 10 end as confidence,
        'Opinion ' || j || ' of assessment ' || i || ', take ' || s || ': the overlap is ' ||
          (case when (i + s) % 2 = 0 then 'convincing' else 'thin' end) || '.' as comment,
        case when j = 2 then 'AMBER' when (i + j) % 9 = 4 and s = 1 then 'RED' else 'GREEN' end as tlp,
        case when j = 2 then array[(${list(w.owners)}::uuid[])[i % 5 + 1]] else '{}'::uuid[] end as audience
      from base
    )
    select *, jsonb_build_object('stance', stance, 'confidence', confidence, 'comment', comment,
             'marking', jsonb_build_object('tlp', tlp, 'audienceOrgIds', to_jsonb(audience::text[]), 'audienceGroupIds', '[]'::jsonb)) as state,
           case when s = 1 then 'CREATE' else 'REVISE' end as action
    from fields`);
  await sql.unsafe(
    `insert into opinions (id, assessment_id, owner_org_id, tlp, audience_orgs, audience_groups, stance, confidence, comment,
       revision, stix_id, created_by, created_at, updated_at)
     select l.oid, l.aid, (${list(w.owners)}::uuid[])[l.o], l.tlp::tlp, l.audience, '{}', l.stance::opinion_stance, l.confidence,
       l.comment, l.s, 'opinion--' || md5('bench-opinion-stix:' || l.i || ':' || l.j)::uuid,
       (${list(w.analysts)}::uuid[])[l.o], f.at, l.at
     from bench_opinion_stage l join bench_opinion_stage f on f.oid = l.oid and f.s = 1
     where l.s = l.n_rev order by l.i, l.j`,
  );
  await sql.unsafe(
    `insert into opinion_revisions (opinion_id, number, owner_org_id, tlp, audience_orgs, audience_groups, action, reason,
       state, author_account_id, author_org_id, recorded_at)
     select oid, s, (${list(w.owners)}::uuid[])[o], tlp::tlp, audience, '{}', action::revision_action,
       'Bench opinion revision ' || s, state, (${list(w.analysts)}::uuid[])[o], (${list(w.owners)}::uuid[])[o], at
     from bench_opinion_stage order by i, j, s`,
  );
}

export interface LoadedCounts {
  assessments: number;
  revisions: number;
  opinions: number;
  opinionRevisions: number;
}

/** Loads N assessments (10 revisions each) and their opinions in one transaction, then vacuum-analyzes. */
export async function loadAssessmentWorld(sql: postgres.Sql, w: AssessmentWorld, n: number): Promise<LoadedCounts> {
  await sql.begin(async (tx) => {
    await loadActors(tx, w);
    await loadAssessments(tx, w, n);
    await loadOpinions(tx, w, n);
  });
  for (const t of ["threat_actors", "assessments", "assessment_revisions", "opinions", "opinion_revisions"])
    await sql.unsafe(`vacuum analyze ${t}`);
  const [c] = await sql<{ a: string; r: string; o: string; or: string }[]>`
    select (select count(*) from assessments) a, (select count(*) from assessment_revisions) r,
           (select count(*) from opinions) o, (select count(*) from opinion_revisions) "or"`;
  return {
    assessments: Number(c?.a),
    revisions: Number(c?.r),
    opinions: Number(c?.o),
    opinionRevisions: Number(c?.or),
  };
}
