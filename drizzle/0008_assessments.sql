CREATE TYPE "public"."analytic_confidence" AS ENUM('LOW', 'MODERATE', 'HIGH');--> statement-breakpoint
CREATE TYPE "public"."assessment_status" AS ENUM('PROVISIONAL', 'CONFIRMED', 'WITHDRAWN');--> statement-breakpoint
CREATE TYPE "public"."likelihood" AS ENUM('ALMOST_NO_CHANCE', 'VERY_UNLIKELY', 'UNLIKELY', 'ROUGHLY_EVEN_CHANCE', 'LIKELY', 'VERY_LIKELY', 'ALMOST_CERTAIN');--> statement-breakpoint
CREATE TYPE "public"."opinion_stance" AS ENUM('STRONGLY_DISAGREE', 'DISAGREE', 'NEUTRAL', 'AGREE', 'STRONGLY_AGREE');--> statement-breakpoint
CREATE TYPE "public"."revision_action" AS ENUM('CREATE', 'REVISE', 'CONFIRM', 'WITHDRAW');--> statement-breakpoint
CREATE TYPE "public"."assessment_subject_kind" AS ENUM('INCIDENT', 'CAMPAIGN', 'INTRUSION_SET');--> statement-breakpoint
CREATE TABLE "incident_indicators" (
	"incident_id" uuid NOT NULL,
	"observable_id" bigint NOT NULL,
	"added_by" uuid NOT NULL,
	"added_at" timestamp (3) with time zone NOT NULL,
	CONSTRAINT "incident_indicators_incident_id_observable_id_pk" PRIMARY KEY("incident_id","observable_id")
);
--> statement-breakpoint
CREATE TABLE "assessment_revisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"assessment_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"action" "revision_action" NOT NULL,
	"reason" text NOT NULL,
	"state" jsonb NOT NULL,
	"author_account_id" uuid NOT NULL,
	"author_org_id" uuid NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "assessments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"subject_kind" "assessment_subject_kind" NOT NULL,
	"subject_incident_id" uuid,
	"subject_actor_id" uuid,
	"subject_name" text,
	"subject_stix_id" text,
	"actor_id" uuid NOT NULL,
	"claimed_state" text,
	"state_responsibility" text,
	"likelihood" "likelihood" NOT NULL,
	"analytic_confidence" "analytic_confidence" NOT NULL,
	"rationale" text NOT NULL,
	"evidence_incidents" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"evidence_indicators" bigint[] DEFAULT '{}'::bigint[] NOT NULL,
	"evidence_references" text[] DEFAULT '{}'::text[] NOT NULL,
	"status" "assessment_status" NOT NULL,
	"next_review_at" timestamp (3) with time zone,
	"revision" integer NOT NULL,
	"stix_id" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opinion_revisions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"opinion_id" uuid NOT NULL,
	"number" integer NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"action" "revision_action" NOT NULL,
	"reason" text NOT NULL,
	"state" jsonb NOT NULL,
	"author_account_id" uuid NOT NULL,
	"author_org_id" uuid NOT NULL,
	"recorded_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "opinions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"assessment_id" uuid NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"stance" "opinion_stance" NOT NULL,
	"confidence" integer,
	"comment" text NOT NULL,
	"revision" integer NOT NULL,
	"stix_id" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"updated_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "threat_actors" ADD COLUMN "revoked_at" timestamp (3) with time zone;--> statement-breakpoint
ALTER TABLE "threat_actors" ADD COLUMN "replaced_by_id" uuid;--> statement-breakpoint
ALTER TABLE "incident_indicators" ADD CONSTRAINT "incident_indicators_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_indicators" ADD CONSTRAINT "incident_indicators_observable_id_observables_id_fk" FOREIGN KEY ("observable_id") REFERENCES "public"."observables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_indicators" ADD CONSTRAINT "incident_indicators_added_by_accounts_id_fk" FOREIGN KEY ("added_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_revisions" ADD CONSTRAINT "assessment_revisions_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_revisions" ADD CONSTRAINT "assessment_revisions_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_revisions" ADD CONSTRAINT "assessment_revisions_author_account_id_accounts_id_fk" FOREIGN KEY ("author_account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessment_revisions" ADD CONSTRAINT "assessment_revisions_author_org_id_organizations_id_fk" FOREIGN KEY ("author_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_subject_incident_id_incidents_id_fk" FOREIGN KEY ("subject_incident_id") REFERENCES "public"."incidents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_subject_actor_id_threat_actors_id_fk" FOREIGN KEY ("subject_actor_id") REFERENCES "public"."threat_actors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_actor_id_threat_actors_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."threat_actors"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "assessments" ADD CONSTRAINT "assessments_created_by_accounts_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinion_revisions" ADD CONSTRAINT "opinion_revisions_opinion_id_opinions_id_fk" FOREIGN KEY ("opinion_id") REFERENCES "public"."opinions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinion_revisions" ADD CONSTRAINT "opinion_revisions_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinion_revisions" ADD CONSTRAINT "opinion_revisions_author_account_id_accounts_id_fk" FOREIGN KEY ("author_account_id") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinion_revisions" ADD CONSTRAINT "opinion_revisions_author_org_id_organizations_id_fk" FOREIGN KEY ("author_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinions" ADD CONSTRAINT "opinions_assessment_id_assessments_id_fk" FOREIGN KEY ("assessment_id") REFERENCES "public"."assessments"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinions" ADD CONSTRAINT "opinions_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "opinions" ADD CONSTRAINT "opinions_created_by_accounts_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "assessment_revisions_number_key" ON "assessment_revisions" USING btree ("assessment_id","number");--> statement-breakpoint
CREATE INDEX "assessment_revisions_time_idx" ON "assessment_revisions" USING btree ("assessment_id","recorded_at");--> statement-breakpoint
CREATE INDEX "assessments_order_idx" ON "assessments" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "assessments_actor_idx" ON "assessments" USING btree ("actor_id");--> statement-breakpoint
CREATE INDEX "assessments_subject_incident_idx" ON "assessments" USING btree ("subject_incident_id");--> statement-breakpoint
CREATE INDEX "assessments_owner_idx" ON "assessments" USING btree ("owner_org_id");--> statement-breakpoint
CREATE UNIQUE INDEX "assessments_owner_stix_key" ON "assessments" USING btree ("owner_org_id","stix_id");--> statement-breakpoint
CREATE UNIQUE INDEX "opinion_revisions_number_key" ON "opinion_revisions" USING btree ("opinion_id","number");--> statement-breakpoint
CREATE INDEX "opinion_revisions_time_idx" ON "opinion_revisions" USING btree ("opinion_id","recorded_at");--> statement-breakpoint
CREATE UNIQUE INDEX "opinions_assessment_owner_key" ON "opinions" USING btree ("assessment_id","owner_org_id");--> statement-breakpoint
ALTER TABLE "threat_actors" ADD CONSTRAINT "threat_actors_replaced_by_id_threat_actors_id_fk" FOREIGN KEY ("replaced_by_id") REFERENCES "public"."threat_actors"("id") ON DELETE no action ON UPDATE no action;