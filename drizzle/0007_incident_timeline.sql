CREATE TABLE "incident_timeline_entries" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"event_at" timestamp (3) with time zone NOT NULL,
	"summary" text NOT NULL,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incident_timeline_entries" ADD CONSTRAINT "incident_timeline_entries_incident_id_incidents_id_fk" FOREIGN KEY ("incident_id") REFERENCES "public"."incidents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_timeline_entries" ADD CONSTRAINT "incident_timeline_entries_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident_timeline_entries" ADD CONSTRAINT "incident_timeline_entries_created_by_accounts_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incident_timeline_order_idx" ON "incident_timeline_entries" USING btree ("incident_id","event_at","id");