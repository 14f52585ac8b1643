import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { markingColumns, organizations, tlpEnum } from "../access/access.table";
import { OBSERVABLE_TYPES } from "./normalize";

export const FEED_FORMATS = ["STIX", "MISP", "CSV"] as const;
export type FeedFormat = (typeof FEED_FORMATS)[number];

export const observableTypeEnum = pgEnum("observable_type", OBSERVABLE_TYPES);
export const feedFormatEnum = pgEnum("feed_format", FEED_FORMATS);

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** A source of reports owned by one organisation, with the defaults its items inherit. */
export const feeds = pgTable(
  "feeds",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerOrgId: uuid("owner_org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    format: feedFormatEnum("format").notNull(),
    description: text("description").notNull().default(""),
    defaultTlp: tlpEnum("default_tlp").notNull(),
    defaultAudienceOrgs: uuid("default_audience_orgs")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    defaultAudienceGroups: uuid("default_audience_groups")
      .array()
      .notNull()
      .default(sql`'{}'::uuid[]`),
    defaultConfidence: smallint("default_confidence"),
    createdAt: ts("created_at").notNull().defaultNow(),
    lastIngestAt: ts("last_ingest_at"),
    ingestCount: integer("ingest_count").notNull().default(0),
    /** The last ingest's report counts ({ reports, sightings, rejected, skipped }). */
    lastIngestCounts: jsonb("last_ingest_counts").$type<Record<string, unknown>>(),
  },
  (t) => [uniqueIndex("feeds_owner_name_key").on(t.ownerOrgId, sql`lower(${t.name})`)],
);

/**
 * One row per normalised value, whoever reported it. Holds no claim and no marking: what a
 * viewer learns about it comes only from the reports and sightings it may see.
 */
export const observables = pgTable(
  "observables",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    type: observableTypeEnum("type").notNull(),
    value: text("value").notNull(),
    /** Deterministic STIX 2.1 id (UUIDv5 over the id-contributing properties). */
    stixId: text("stix_id").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
  },
  (t) => [uniqueIndex("observables_type_value_key").on(t.type, t.value)],
);

/** One organisation's claim about an observable, from one feed. */
export const reports = pgTable(
  "reports",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    observableId: bigint("observable_id", { mode: "number" })
      .notNull()
      .references(() => observables.id),
    feedId: uuid("feed_id")
      .notNull()
      .references(() => feeds.id),
    ...markingColumns(),
    confidence: smallint("confidence"),
    firstSeen: ts("first_seen"),
    lastSeen: ts("last_seen"),
    validFrom: ts("valid_from"),
    validUntil: ts("valid_until"),
    labels: text("labels")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    killChainPhases: jsonb("kill_chain_phases").$type<{ killChainName: string; phaseName: string }[]>(),
    description: text("description"),
    /** The STIX indicator's id and version, when the report came from STIX. */
    stixId: text("stix_id"),
    stixModified: ts("stix_modified"),
    revokedAt: ts("revoked_at"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("reports_feed_observable_key").on(t.feedId, t.observableId),
    index("reports_observable_idx").on(t.observableId),
    index("reports_stix_id_idx").on(t.stixId),
  ],
);

/** An organisation saying it saw a value: when, and how often. */
export const sightings = pgTable(
  "sightings",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    observableId: bigint("observable_id", { mode: "number" })
      .notNull()
      .references(() => observables.id),
    feedId: uuid("feed_id")
      .notNull()
      .references(() => feeds.id),
    ...markingColumns(),
    firstSeen: ts("first_seen"),
    lastSeen: ts("last_seen"),
    count: integer("count").notNull().default(1),
    stixId: text("stix_id"),
    revokedAt: ts("revoked_at"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("sightings_feed_observable_key").on(t.feedId, t.observableId),
    index("sightings_observable_idx").on(t.observableId),
  ],
);
