CREATE TYPE "public"."actor_kind" AS ENUM('THREAT_ACTOR', 'INTRUSION_SET');--> statement-breakpoint
CREATE TABLE "threat_actors" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_org_id" uuid NOT NULL,
	"tlp" "tlp" NOT NULL,
	"audience_orgs" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"audience_groups" uuid[] DEFAULT '{}'::uuid[] NOT NULL,
	"kind" "actor_kind" NOT NULL,
	"name" text NOT NULL,
	"aliases" text[] DEFAULT '{}'::text[] NOT NULL,
	"names_lower" text[] DEFAULT '{}'::text[] NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"stix_id" text,
	"created_by" uuid NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "threat_actors" ADD CONSTRAINT "threat_actors_owner_org_id_organizations_id_fk" FOREIGN KEY ("owner_org_id") REFERENCES "public"."organizations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "threat_actors" ADD CONSTRAINT "threat_actors_created_by_accounts_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."accounts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "threat_actors_names_idx" ON "threat_actors" USING gin ("names_lower");--> statement-breakpoint
CREATE INDEX "threat_actors_order_idx" ON "threat_actors" USING btree ("name","id");