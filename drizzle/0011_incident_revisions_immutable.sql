-- Custom SQL migration (drizzle-kit generate --custom): incident revisions are immutable, like
-- assessment and opinion revisions (0009), and incidents made before revisions existed get their
-- first revision now: their state at this point, under their marking, by their creator.
CREATE TRIGGER "incident_revisions_immutable" BEFORE UPDATE OR DELETE ON "incident_revisions"
  FOR EACH ROW EXECUTE FUNCTION "revision_immutable"();--> statement-breakpoint
CREATE TRIGGER "incident_revisions_no_truncate" BEFORE TRUNCATE ON "incident_revisions"
  FOR EACH STATEMENT EXECUTE FUNCTION "revision_immutable"();--> statement-breakpoint
INSERT INTO "incident_revisions" ("incident_id", "number", "owner_org_id", "tlp", "audience_orgs",
  "audience_groups", "action", "reason", "state", "author_account_id", "author_org_id", "recorded_at")
SELECT i.id, 1, i.owner_org_id, i.tlp, i.audience_orgs, i.audience_groups, 'CREATE',
  'State when revisions were introduced',
  jsonb_build_object('title', i.title, 'description', i.description, 'rsitClass', i.rsit_class,
    'rsitType', i.rsit_type, 'severity', i.severity, 'status', i.status, 'sectors', to_jsonb(i.sectors),
    'countries', to_jsonb(i.countries),
    'occurredAt', to_char(i.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'detectedAt', to_char(i.detected_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'reportedAt', to_char(i.reported_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'marking', jsonb_build_object('tlp', i.tlp, 'audienceOrgIds', to_jsonb(i.audience_orgs),
      'audienceGroupIds', to_jsonb(i.audience_groups))),
  i.created_by, i.owner_org_id, i.updated_at
FROM "incidents" i;
