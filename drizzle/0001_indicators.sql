CREATE TYPE "public"."feed_format" AS ENUM('STIX', 'MISP', 'CSV');--> statement-breakpoint
CREATE TYPE "public"."observable_type" AS ENUM('IPV4', 'IPV6', 'DOMAIN', 'URL', 'EMAIL', 'MD5', 'SHA1', 'SHA256', 'SHA512', 'STIX_PATTERN');--> statement-breakpoint
CREATE TABLE "feeds" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"name" text NOT NULL,
	"format" "feed_format" NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"default_tlp" "tlp" NOT NULL,
	"default_audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"default_audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"default_confidence" smallint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_ingest_at" timestamp with time zone,
	"ingest_count" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "observables" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "observables_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"type" "observable_type" NOT NULL,
	"value" text NOT NULL,
	"stix_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reports" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reports_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"observable_id" bigint NOT NULL,
	"feed_id" uuid NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"confidence" smallint,
	"first_seen" timestamp with time zone,
	"last_seen" timestamp with time zone,
	"valid_from" timestamp with time zone,
	"valid_until" timestamp with time zone,
	"labels" text[] DEFAULT '{}'::text[] NOT NULL,
	"kill_chain_phases" jsonb,
	"description" text,
	"stix_id" text,
	"stix_modified" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sightings" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "sightings_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"observable_id" bigint NOT NULL,
	"feed_id" uuid NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"first_seen" timestamp with time zone,
	"last_seen" timestamp with time zone,
	"count" integer DEFAULT 1 NOT NULL,
	"stix_id" text,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "feeds" ADD CONSTRAINT "feeds_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_observable_id_observables_id_fk" FOREIGN KEY ("observable_id") REFERENCES "public"."observables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_feed_id_feeds_id_fk" FOREIGN KEY ("feed_id") REFERENCES "public"."feeds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reports" ADD CONSTRAINT "reports_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sightings" ADD CONSTRAINT "sightings_observable_id_observables_id_fk" FOREIGN KEY ("observable_id") REFERENCES "public"."observables"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sightings" ADD CONSTRAINT "sightings_feed_id_feeds_id_fk" FOREIGN KEY ("feed_id") REFERENCES "public"."feeds"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "sightings" ADD CONSTRAINT "sightings_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "feeds_owner_name_key" ON "feeds" USING btree ("owner_org_id",lower("name"));--> statement-breakpoint
CREATE UNIQUE INDEX "observables_type_value_key" ON "observables" USING btree ("type","value");--> statement-breakpoint
CREATE UNIQUE INDEX "reports_feed_observable_key" ON "reports" USING btree ("feed_id","observable_id");--> statement-breakpoint
CREATE INDEX "reports_observable_idx" ON "reports" USING btree ("observable_id");--> statement-breakpoint
CREATE INDEX "reports_stix_id_idx" ON "reports" USING btree ("stix_id");--> statement-breakpoint
CREATE UNIQUE INDEX "sightings_feed_observable_key" ON "sightings" USING btree ("feed_id","observable_id");--> statement-breakpoint
CREATE INDEX "sightings_observable_idx" ON "sightings" USING btree ("observable_id");