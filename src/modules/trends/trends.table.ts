import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  date,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from "drizzle-orm/pg-core";
import { organizations } from "../access/access.table";
import { observableTypeEnum } from "../indicators/indicators.table";
import { incidentSeverityEnum } from "../incidents/incidents.table";
import { INDICATOR_METRICS, TRENDS_CONSENTS } from "./trends.enums";

export const trendsConsentEnum = pgEnum("trends_consent", TRENDS_CONSENTS);
export const trendIndicatorMetricEnum = pgEnum("trend_indicator_metric", INDICATOR_METRICS);

/**
 * Per organisation: what it lets the hub count (its admins set it), and for a regional body the k
 * its scope uses when higher than the operator's. No row means the defaults.
 */
export const trendsSettings = pgTable("trends_settings", {
  organizationId: uuid("organization_id")
    .primaryKey()
    .references(() => organizations.id),
  consent: trendsConsentEnum("consent").notNull().default("ALL_BUT_RED"),
  /** Regional bodies only: k for their scope, never below the operator's TRENDS_K. */
  scopeK: integer("scope_k"),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/*
 * The rollups below are written ONLY by statement-level triggers on reports, sightings,
 * incidents and assessments (drizzle/*_trend_rollup_triggers.sql, *_trend_threat_actor.sql),
 * never by application code. Each row counts the
 * records of one contributing organisation on one UTC day with one set of dimension values; RED
 * and revoked records are never in them. `amber` says whether the records are AMBER or
 * AMBER_STRICT (else CLEAR or GREEN), so that consent can be applied when reading, and a change of
 * consent takes effect at once. The contributing organisation stays in the key because distinct
 * contributors over a week or a month cannot be summed from daily counts. No foreign keys: the
 * triggers run inside every ingest chunk, and each would cost a check per row.
 *
 * `xact` is the writing transaction's id: each transaction adds to rows of its own, so concurrent
 * writers never wait on each other's row locks (two ingests of one organisation on one day would
 * otherwise queue behind each other's whole transaction). A key may so have several rows, some
 * negative (a revocation); readers sum them. trend_rollup_compact(), run by the hub every
 * TRENDS_COMPACT_MS, merges the committed rows of each key into one with xact 0.
 */
const xact = () => bigint("xact", { mode: "number" }).notNull().default(0);

/** Indicator reports (INDICATORS) and sightings (SIGHTINGS) per day, organisation, band and observable type. */
export const trendIndicatorRollup = pgTable(
  "trend_indicator_rollup",
  {
    metric: trendIndicatorMetricEnum("metric").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    orgId: uuid("org_id").notNull(),
    amber: boolean("amber").notNull(),
    observableType: observableTypeEnum("observable_type").notNull(),
    xact: xact(),
    n: bigint("n", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({
      name: "trend_indicator_rollup_pk",
      columns: [t.metric, t.day, t.orgId, t.amber, t.observableType, t.xact],
    }),
  ],
);

/**
 * Incidents per day, organisation, band, RSIT class, severity, and the (sorted, distinct) sets of
 * sectors, countries and attributions: kept as sets so that a count without a sector grouping
 * counts each incident once, and one by sector counts it in each of its sectors (and likewise by
 * threat actor).
 */
export const trendIncidentRollup = pgTable(
  "trend_incident_rollup",
  {
    day: date("day", { mode: "string" }).notNull(),
    orgId: uuid("org_id").notNull(),
    amber: boolean("amber").notNull(),
    rsitClass: text("rsit_class").notNull(),
    severity: incidentSeverityEnum("severity").notNull(),
    sectors: text("sectors")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    countries: text("countries")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    /**
     * The incident's current attributions as a sorted set of `actor:assessor:band` entries (band
     * `A` for AMBER or AMBER_STRICT, else `G`), one per actor and assessing organisation: from its
     * assessments that are not RED and not withdrawn (trend_incident_attributions()). Consent and
     * the actor's own marking are applied when reading, as for the incident's.
     */
    attributions: text("attributions")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    xact: xact(),
    n: bigint("n", { mode: "number" }).notNull(),
  },
  (t) => [
    primaryKey({
      name: "trend_incident_rollup_pk",
      columns: [t.day, t.orgId, t.amber, t.rsitClass, t.severity, t.sectors, t.countries, t.attributions, t.xact],
    }),
  ],
);
