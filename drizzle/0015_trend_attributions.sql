ALTER TABLE "trend_incident_rollup" ADD COLUMN "attributions" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "trend_incident_rollup" DROP CONSTRAINT "trend_incident_rollup_pk";
--> statement-breakpoint
ALTER TABLE "trend_incident_rollup" ADD CONSTRAINT "trend_incident_rollup_pk" PRIMARY KEY("day","org_id","amber","rsit_class","severity","sectors","countries","attributions","xact");