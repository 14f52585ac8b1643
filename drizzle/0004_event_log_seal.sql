-- Custom SQL migration (drizzle-kit generate --custom): the commit-time seal of the event log.
--
-- Rows are appended to event_log inside the transaction of the change they describe, with a
-- provisional seq. Sequence values are handed out when rows are inserted, not when they commit,
-- so a reader following `seq > last` could see seq 12 commit, move past it, and never see seq 11
-- commit a moment later. This trigger runs once per writing transaction at its commit (a deferred
-- constraint trigger), takes a transaction-scoped advisory lock, and renumbers the transaction's
-- rows from the sequence: the lock is held until the commit is visible, so seq order is commit
-- order and a reader never has to look back. The lock is held only for the commit itself, not for
-- the life of a long (bulk) transaction, so writers still run concurrently. created_at becomes the
-- commit time, in seq order (retention prunes a prefix of the log), and every node is notified.
CREATE FUNCTION "event_log_seal"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  last_seq bigint;
BEGIN
  -- Fired once per appended row; the first firing seals them all.
  IF current_setting('hub.event_log_sealed', true) = '1' THEN
    RETURN NULL;
  END IF;
  PERFORM set_config('hub.event_log_sealed', '1', true);
  PERFORM pg_advisory_xact_lock(7406003);
  -- Pending rows visible here are this transaction's own: others' are uncommitted, hence invisible.
  WITH renumbered AS MATERIALIZED (
    SELECT seq AS old_seq, nextval(pg_get_serial_sequence('event_log', 'seq')) AS new_seq
    FROM event_log WHERE pending ORDER BY seq
  ), sealed AS (
    UPDATE event_log SET seq = renumbered.new_seq, pending = false, created_at = clock_timestamp()
    FROM renumbered WHERE event_log.seq = renumbered.old_seq
    RETURNING event_log.seq
  )
  SELECT max(seq) INTO last_seq FROM sealed;
  PERFORM pg_notify('hub_events', last_seq::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE CONSTRAINT TRIGGER "event_log_seal" AFTER INSERT ON "event_log"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "event_log_seal"();
