CREATE TYPE "public"."trend_indicator_metric" AS ENUM('INDICATORS', 'SIGHTINGS');--> statement-breakpoint
CREATE TYPE "public"."trends_consent" AS ENUM('NONE', 'UP_TO_GREEN', 'ALL_BUT_RED');--> statement-breakpoint
CREATE TABLE "trend_incident_rollup" (
	"day" date NOT NULL,
	"org_id" uuid NOT NULL,
	"amber" boolean NOT NULL,
	"rsit_class" text NOT NULL,
	"severity" "incident_severity" NOT NULL,
	"sectors" text[] DEFAULT '{}'::text[] NOT NULL,
	"countries" text[] DEFAULT '{}'::text[] NOT NULL,
	"xact" bigint DEFAULT 0 NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "trend_incident_rollup_pk" PRIMARY KEY("day","org_id","amber","rsit_class","severity","sectors","countries","xact")
);
--> statement-breakpoint
CREATE TABLE "trend_indicator_rollup" (
	"metric" "trend_indicator_metric" NOT NULL,
	"day" date NOT NULL,
	"org_id" uuid NOT NULL,
	"amber" boolean NOT NULL,
	"observable_type" "observable_type" NOT NULL,
	"xact" bigint DEFAULT 0 NOT NULL,
	"n" bigint NOT NULL,
	CONSTRAINT "trend_indicator_rollup_pk" PRIMARY KEY("metric","day","org_id","amber","observable_type","xact")
);
--> statement-breakpoint
CREATE TABLE "trends_settings" (
	"organization_id" uuid PRIMARY KEY NOT NULL,
	"consent" "trends_consent" DEFAULT 'ALL_BUT_RED' NOT NULL,
	"scope_k" integer,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "trends_settings" ADD CONSTRAINT "trends_settings_organization_id_organizations_id_fk" FOREIGN KEY ("organization_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;