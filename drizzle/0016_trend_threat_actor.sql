-- Trends of incidents by threat actor (issue 5): the incident rollup's key gains the incident's
-- attributions (0015 added the column), kept right by the incident triggers and by new
-- statement-level triggers on assessments, set-based, in the writing transaction.
--
-- An incident's attributions are a sorted set of 'actor:assessor:band' entries, one per actor and
-- assessing organisation, from the assessments that have the incident as subject and are neither
-- RED nor withdrawn; band is 'A' when all of that organisation's such assessments naming that actor
-- are AMBER or AMBER_STRICT, else 'G' (a GREEN one is counted wherever an AMBER one would be).
-- The assessors' consent and the actor's own marking are applied when reading, like the incident's
-- consent, so a change of either applies at once.

CREATE FUNCTION trend_attribution_entry(actor_id uuid, assessor_id uuid, amber boolean) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT $1::text || ':' || $2::text || ':' || CASE WHEN $3 THEN 'A' ELSE 'G' END
$$;
--> statement-breakpoint
-- The attributions of an incident as the assessments table holds them now (an index lookup).
CREATE FUNCTION trend_incident_attributions(incident_id uuid) RETURNS text[] LANGUAGE sql STABLE AS $$
  SELECT coalesce(array_agg(s.e ORDER BY s.e), '{}'::text[]) FROM (
    SELECT trend_attribution_entry(a.actor_id, a.owner_org_id, bool_and(a.tlp IN ('AMBER', 'AMBER_STRICT'))) AS e
    FROM assessments a
    WHERE a.subject_incident_id = $1 AND a.status <> 'WITHDRAWN' AND a.tlp <> 'RED'
    GROUP BY a.actor_id, a.owner_org_id
  ) s
$$;
--> statement-breakpoint
-- Incidents: as in 0013, with the attributions in the key. An update whose incident keeps its key
-- (most: a title, a timeline entry's updated_at) cancels out before the attributions are looked up.
CREATE OR REPLACE FUNCTION trend_incident_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, xact, n)
    SELECT k.*, trend_incident_attributions(i.id), txid_current(), count(*)
    FROM trend_new i CROSS JOIN LATERAL trend_incident_key(i) k
    WHERE i.tlp <> 'RED'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, xact, n)
    SELECT d.day, d.org_id, d.amber, d.rsit_class, d.severity, d.sectors, d.countries,
           trend_incident_attributions(d.id), txid_current(), sum(d.n)
    FROM (
      SELECT s.id, s.day, s.org_id, s.amber, s.rsit_class, s.severity, s.sectors, s.countries, sum(s.n) AS n
      FROM (
        SELECT i.id, k.*, 1 AS n FROM trend_new i CROSS JOIN LATERAL trend_incident_key(i) k WHERE i.tlp <> 'RED'
        UNION ALL
        SELECT i.id, k.*, -1 FROM trend_old i CROSS JOIN LATERAL trend_incident_key(i) k WHERE i.tlp <> 'RED'
      ) s
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
      HAVING sum(s.n) <> 0
    ) d
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING sum(d.n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSE
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, xact, n)
    SELECT k.*, trend_incident_attributions(i.id), txid_current(), -count(*)
    FROM trend_old i CROSS JOIN LATERAL trend_incident_key(i) k
    WHERE i.tlp <> 'RED'
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Assessments: the incidents whose attributions the statement changed (an assessment's counted
-- entry appeared, went or differs: creation, withdrawal, a revision of actor, subject or marking)
-- move from their key with the attributions before the statement to the one with those after.
-- "Before" is the table now, with the statement's rows swapped back for their old versions; the
-- incident is read as it is now (a statement changes one table; an earlier statement of the same
-- transaction that changed the incident has already moved its count under the old attributions).
CREATE FUNCTION trend_assessment_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  before_rows assessments[] := '{}';
  after_rows assessments[] := '{}';
BEGIN
  IF TG_OP <> 'INSERT' THEN
    SELECT coalesce(array_agg(o), '{}') INTO before_rows FROM trend_old o;
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT coalesce(array_agg(n), '{}') INTO after_rows FROM trend_new n;
  END IF;
  WITH old_entries AS (
    SELECT b.id, b.subject_incident_id AS incident_id, b.actor_id, b.owner_org_id, b.tlp IN ('AMBER', 'AMBER_STRICT') AS amber
    FROM unnest(before_rows) b
    WHERE b.subject_incident_id IS NOT NULL AND b.status <> 'WITHDRAWN' AND b.tlp <> 'RED'
  ), new_entries AS (
    SELECT a.id, a.subject_incident_id AS incident_id, a.actor_id, a.owner_org_id, a.tlp IN ('AMBER', 'AMBER_STRICT') AS amber
    FROM unnest(after_rows) a
    WHERE a.subject_incident_id IS NOT NULL AND a.status <> 'WITHDRAWN' AND a.tlp <> 'RED'
  ), touched AS (
    SELECT DISTINCT c.incident_id AS id FROM (
      (SELECT * FROM old_entries EXCEPT SELECT * FROM new_entries)
      UNION ALL
      (SELECT * FROM new_entries EXCEPT SELECT * FROM old_entries)
    ) c
  ), before_set AS (
    SELECT a.subject_incident_id AS incident_id, a.actor_id, a.owner_org_id, a.tlp IN ('AMBER', 'AMBER_STRICT') AS amber
    FROM assessments a
    WHERE a.subject_incident_id IN (SELECT id FROM touched) AND a.status <> 'WITHDRAWN' AND a.tlp <> 'RED'
      AND a.id NOT IN (SELECT x.id FROM unnest(after_rows) x)
    UNION ALL
    SELECT o.incident_id, o.actor_id, o.owner_org_id, o.amber FROM old_entries o
    WHERE o.incident_id IN (SELECT id FROM touched)
  ), before_attributions AS (
    SELECT s.incident_id, array_agg(s.e ORDER BY s.e) AS attributions FROM (
      SELECT incident_id, trend_attribution_entry(actor_id, owner_org_id, bool_and(amber)) AS e
      FROM before_set GROUP BY incident_id, actor_id, owner_org_id
    ) s
    GROUP BY s.incident_id
  )
  INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, xact, n)
  SELECT k.day, k.org_id, k.amber, k.rsit_class, k.severity, k.sectors, k.countries, d.attributions, txid_current(), sum(d.n)
  FROM (
    SELECT x.id, coalesce(b.attributions, '{}'::text[]) AS attributions, -1 AS n
    FROM touched x LEFT JOIN before_attributions b ON b.incident_id = x.id
    UNION ALL
    SELECT x.id, trend_incident_attributions(x.id), 1 FROM touched x
  ) d
  JOIN incidents i ON i.id = d.id AND i.tlp <> 'RED'
  CROSS JOIN LATERAL trend_incident_key(i) k
  GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
  HAVING sum(d.n) <> 0
  ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
  ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER assessments_trend_insert AFTER INSERT ON assessments REFERENCING NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_assessment_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER assessments_trend_update AFTER UPDATE ON assessments REFERENCING OLD TABLE AS trend_old NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_assessment_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER assessments_trend_delete AFTER DELETE ON assessments REFERENCING OLD TABLE AS trend_old
  FOR EACH STATEMENT EXECUTE FUNCTION trend_assessment_rollup_apply();
--> statement-breakpoint
-- The incident rollup counted once more with the attributions (rows so far all have none).
DELETE FROM trend_incident_rollup;
--> statement-breakpoint
INSERT INTO trend_incident_rollup (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, n)
SELECT k.*, trend_incident_attributions(i.id), count(*) FROM incidents i CROSS JOIN LATERAL trend_incident_key(i) k
WHERE i.tlp <> 'RED'
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
--> statement-breakpoint
-- As in 0013, with the attributions in the incident rollup's key.
CREATE OR REPLACE FUNCTION trend_rollup_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  merged bigint := 0;
  removed bigint;
BEGIN
  IF NOT pg_try_advisory_xact_lock(hashtext('trend_rollup_compact')) THEN
    RETURN -1;
  END IF;
  WITH gone AS (
    DELETE FROM trend_indicator_rollup r
    WHERE (r.metric, r.day, r.org_id, r.amber, r.observable_type) IN (
      SELECT metric, day, org_id, amber, observable_type FROM trend_indicator_rollup
      GROUP BY 1, 2, 3, 4, 5 HAVING count(*) > 1 OR sum(n) = 0)
    RETURNING r.*
  ), kept AS (
    INSERT INTO trend_indicator_rollup (metric, day, org_id, amber, observable_type, xact, n)
    SELECT metric, day, org_id, amber, observable_type, 0, sum(n) FROM gone
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0
    RETURNING 1
  )
  SELECT count(*) INTO removed FROM gone;
  merged := merged + removed;
  WITH gone AS (
    DELETE FROM trend_incident_rollup r
    WHERE (r.day, r.org_id, r.amber, r.rsit_class, r.severity, r.sectors, r.countries, r.attributions) IN (
      SELECT day, org_id, amber, rsit_class, severity, sectors, countries, attributions FROM trend_incident_rollup
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING count(*) > 1 OR sum(n) = 0)
    RETURNING r.*
  ), kept AS (
    INSERT INTO trend_incident_rollup (day, org_id, amber, rsit_class, severity, sectors, countries, attributions, xact, n)
    SELECT day, org_id, amber, rsit_class, severity, sectors, countries, attributions, 0, sum(n) FROM gone
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 HAVING sum(n) <> 0
    RETURNING 1
  )
  SELECT count(*) INTO removed FROM gone;
  RETURN merged + removed;
END
$$;
