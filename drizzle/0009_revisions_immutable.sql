-- Custom SQL migration (drizzle-kit generate --custom): revisions are immutable.
--
-- An assessment's or opinion's revisions are its history: who changed what, when and why. The
-- database itself refuses to change or remove one (UPDATE, DELETE, TRUNCATE), so neither a bug in
-- the hub nor anyone with the hub's database role short of a superuser dropping the trigger can
-- rewrite that history. Assessments and opinions are never deleted either: a withdrawn one keeps
-- its history, and the foreign keys from revisions (no cascade) keep their rows in place.
CREATE FUNCTION "revision_immutable"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'revisions are immutable: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "assessment_revisions_immutable" BEFORE UPDATE OR DELETE ON "assessment_revisions"
  FOR EACH ROW EXECUTE FUNCTION "revision_immutable"();--> statement-breakpoint
CREATE TRIGGER "assessment_revisions_no_truncate" BEFORE TRUNCATE ON "assessment_revisions"
  FOR EACH STATEMENT EXECUTE FUNCTION "revision_immutable"();--> statement-breakpoint
CREATE TRIGGER "opinion_revisions_immutable" BEFORE UPDATE OR DELETE ON "opinion_revisions"
  FOR EACH ROW EXECUTE FUNCTION "revision_immutable"();--> statement-breakpoint
CREATE TRIGGER "opinion_revisions_no_truncate" BEFORE TRUNCATE ON "opinion_revisions"
  FOR EACH STATEMENT EXECUTE FUNCTION "revision_immutable"();
