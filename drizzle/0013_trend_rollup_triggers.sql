-- Trend rollups (issue 5), maintained by the database with every write: statement-level triggers
-- with transition tables, so every write path (ingest, revocation, incident create and update,
-- anything added later) keeps them right, set-based, whatever the number of rows a statement
-- touches. Each trigger turns the statement's rows into signed counts (+1 for a row that counts
-- after the statement, -1 for one that counted before), adds them up per rollup key, and upserts
-- the non-zero sums into rows of the writing transaction's own (xact = txid_current()), so that
-- concurrent writers never wait on each other's row locks; readers sum a key's rows, and
-- trend_rollup_compact() (below; the hub runs it every TRENDS_COMPACT_MS) merges committed rows.
-- A row counts when it is not RED and not revoked; consent is applied when reading.

-- Reports (INDICATORS) and sightings (SIGHTINGS): TG_ARGV[0] names the metric. The observable's
-- type is looked up per distinct observable (a lateral index lookup, `offset 0` so it is never
-- turned into a scan of observables whatever the plan cached for the function).
CREATE FUNCTION trend_indicator_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trend_indicator_rollup AS t (metric, day, org_id, amber, observable_type, xact, n)
    SELECT TG_ARGV[0]::trend_indicator_metric, d.day, d.org_id, d.amber, o.type, txid_current(), sum(d.n)
    FROM (
      SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, r.owner_org_id AS org_id,
             r.tlp IN ('AMBER', 'AMBER_STRICT') AS amber, r.observable_id, count(*) AS n
      FROM trend_new r
      WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
      GROUP BY 1, 2, 3, 4
    ) d
    CROSS JOIN LATERAL (SELECT x.type FROM observables x WHERE x.id = d.observable_id OFFSET 0) o
    GROUP BY 2, 3, 4, 5
    ORDER BY 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT trend_indicator_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    -- Rows whose counted key did not change cancel out before any lookup.
    INSERT INTO trend_indicator_rollup AS t (metric, day, org_id, amber, observable_type, xact, n)
    SELECT TG_ARGV[0]::trend_indicator_metric, d.day, d.org_id, d.amber, o.type, txid_current(), sum(d.n)
    FROM (
      SELECT s.day, s.org_id, s.amber, s.observable_id, sum(s.n) AS n
      FROM (
        SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, r.owner_org_id AS org_id,
               r.tlp IN ('AMBER', 'AMBER_STRICT') AS amber, r.observable_id, 1 AS n
        FROM trend_new r
        WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
        UNION ALL
        SELECT (r.created_at AT TIME ZONE 'UTC')::date, r.owner_org_id,
               r.tlp IN ('AMBER', 'AMBER_STRICT'), r.observable_id, -1
        FROM trend_old r
        WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
      ) s
      GROUP BY 1, 2, 3, 4
      HAVING sum(s.n) <> 0
    ) d
    CROSS JOIN LATERAL (SELECT x.type FROM observables x WHERE x.id = d.observable_id OFFSET 0) o
    GROUP BY 2, 3, 4, 5
    HAVING sum(d.n) <> 0
    ORDER BY 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT trend_indicator_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSE
    INSERT INTO trend_indicator_rollup AS t (metric, day, org_id, amber, observable_type, xact, n)
    SELECT TG_ARGV[0]::trend_indicator_metric, d.day, d.org_id, d.amber, o.type, txid_current(), -sum(d.n)
    FROM (
      SELECT (r.created_at AT TIME ZONE 'UTC')::date AS day, r.owner_org_id AS org_id,
             r.tlp IN ('AMBER', 'AMBER_STRICT') AS amber, r.observable_id, count(*) AS n
      FROM trend_old r
      WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
      GROUP BY 1, 2, 3, 4
    ) d
    CROSS JOIN LATERAL (SELECT x.type FROM observables x WHERE x.id = d.observable_id OFFSET 0) o
    GROUP BY 2, 3, 4, 5
    ORDER BY 2, 3, 4, 5
    ON CONFLICT ON CONSTRAINT trend_indicator_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- A transition table is allowed only on a trigger for one event: three triggers per table.
CREATE TRIGGER reports_trend_insert AFTER INSERT ON reports REFERENCING NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('INDICATORS');
--> statement-breakpoint
CREATE TRIGGER reports_trend_update AFTER UPDATE ON reports REFERENCING OLD TABLE AS trend_old NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('INDICATORS');
--> statement-breakpoint
CREATE TRIGGER reports_trend_delete AFTER DELETE ON reports REFERENCING OLD TABLE AS trend_old
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('INDICATORS');
--> statement-breakpoint
CREATE TRIGGER sightings_trend_insert AFTER INSERT ON sightings REFERENCING NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('SIGHTINGS');
--> statement-breakpoint
CREATE TRIGGER sightings_trend_update AFTER UPDATE ON sightings REFERENCING OLD TABLE AS trend_old NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('SIGHTINGS');
--> statement-breakpoint
CREATE TRIGGER sightings_trend_delete AFTER DELETE ON sightings REFERENCING OLD TABLE AS trend_old
  FOR EACH STATEMENT EXECUTE FUNCTION trend_indicator_rollup_apply('SIGHTINGS');
--> statement-breakpoint
-- An incident's rollup key: its UTC day (occurred, else detected, reported, recorded), owner, band,
-- class, severity, and its sectors and countries as sorted sets.
CREATE FUNCTION trend_incident_key(i incidents) RETURNS TABLE (
  day date, org_id uuid, amber boolean, rsit_class text, severity incident_severity, sectors text[], countries text[]
) LANGUAGE sql IMMUTABLE AS $$
  SELECT (coalesce(i.occurred_at, i.detected_at, i.reported_at, i.created_at) AT TIME ZONE 'UTC')::date,
         i.owner_org_id, i.tlp IN ('AMBER', 'AMBER_STRICT'), i.rsit_class, i.severity,
         ARRAY(SELECT DISTINCT s FROM unnest(i.sectors) s ORDER BY s),
         ARRAY(SELECT DISTINCT c FROM unnest(i.countries) c ORDER BY c)
$$;
--> statement-breakpoint
CREATE FUNCTION trend_incident_rollup_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, xact, n)
    SELECT k.*, txid_current(), count(*) FROM trend_new i CROSS JOIN LATERAL trend_incident_key(i) k
    WHERE i.tlp <> 'RED'
    GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, xact, n)
    SELECT s.day, s.org_id, s.amber, s.rsit_class, s.severity, s.sectors, s.countries, txid_current(), sum(s.n)
    FROM (
      SELECT k.*, 1 AS n FROM trend_new i CROSS JOIN LATERAL trend_incident_key(i) k WHERE i.tlp <> 'RED'
      UNION ALL
      SELECT k.*, -1 FROM trend_old i CROSS JOIN LATERAL trend_incident_key(i) k WHERE i.tlp <> 'RED'
    ) s
    GROUP BY 1, 2, 3, 4, 5, 6, 7
    HAVING sum(s.n) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  ELSE
    INSERT INTO trend_incident_rollup AS t (day, org_id, amber, rsit_class, severity, sectors, countries, xact, n)
    SELECT k.*, txid_current(), -count(*) FROM trend_old i CROSS JOIN LATERAL trend_incident_key(i) k
    WHERE i.tlp <> 'RED'
    GROUP BY 1, 2, 3, 4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7
    ON CONFLICT ON CONSTRAINT trend_incident_rollup_pk DO UPDATE SET n = t.n + excluded.n;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER incidents_trend_insert AFTER INSERT ON incidents REFERENCING NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_incident_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER incidents_trend_update AFTER UPDATE ON incidents REFERENCING OLD TABLE AS trend_old NEW TABLE AS trend_new
  FOR EACH STATEMENT EXECUTE FUNCTION trend_incident_rollup_apply();
--> statement-breakpoint
CREATE TRIGGER incidents_trend_delete AFTER DELETE ON incidents REFERENCING OLD TABLE AS trend_old
  FOR EACH STATEMENT EXECUTE FUNCTION trend_incident_rollup_apply();
--> statement-breakpoint
-- What was written before these triggers existed, counted once the same way.
INSERT INTO trend_indicator_rollup (metric, day, org_id, amber, observable_type, n)
SELECT 'INDICATORS', (r.created_at AT TIME ZONE 'UTC')::date, r.owner_org_id, r.tlp IN ('AMBER', 'AMBER_STRICT'), o.type, count(*)
FROM reports r JOIN observables o ON o.id = r.observable_id
WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
GROUP BY 2, 3, 4, 5;
--> statement-breakpoint
INSERT INTO trend_indicator_rollup (metric, day, org_id, amber, observable_type, n)
SELECT 'SIGHTINGS', (r.created_at AT TIME ZONE 'UTC')::date, r.owner_org_id, r.tlp IN ('AMBER', 'AMBER_STRICT'), o.type, count(*)
FROM sightings r JOIN observables o ON o.id = r.observable_id
WHERE r.revoked_at IS NULL AND r.tlp <> 'RED'
GROUP BY 2, 3, 4, 5;
--> statement-breakpoint
INSERT INTO trend_incident_rollup (day, org_id, amber, rsit_class, severity, sectors, countries, n)
SELECT k.*, count(*) FROM incidents i CROSS JOIN LATERAL trend_incident_key(i) k
WHERE i.tlp <> 'RED'
GROUP BY 1, 2, 3, 4, 5, 6, 7;
--> statement-breakpoint
-- Merges each key's committed rows (one per writing transaction, some negative) into one row with
-- xact 0, dropping keys that sum to zero; rows of transactions still in progress are invisible here
-- and left alone. One compaction at a time (an advisory lock; returns -1 when another holds it);
-- writers are never blocked, since none of them ever touches another transaction's rows.
CREATE FUNCTION trend_rollup_compact() RETURNS bigint LANGUAGE plpgsql AS $$
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
    WHERE (r.day, r.org_id, r.amber, r.rsit_class, r.severity, r.sectors, r.countries) IN (
      SELECT day, org_id, amber, rsit_class, severity, sectors, countries FROM trend_incident_rollup
      GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING count(*) > 1 OR sum(n) = 0)
    RETURNING r.*
  ), kept AS (
    INSERT INTO trend_incident_rollup (day, org_id, amber, rsit_class, severity, sectors, countries, xact, n)
    SELECT day, org_id, amber, rsit_class, severity, sectors, countries, 0, sum(n) FROM gone
    GROUP BY 1, 2, 3, 4, 5, 6, 7 HAVING sum(n) <> 0
    RETURNING 1
  )
  SELECT count(*) INTO removed FROM gone;
  RETURN merged + removed;
END
$$;
