import { sql } from "drizzle-orm";
import {
  bigint,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  type AnyPgColumn,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { observables } from "../indicators/indicators.table";
import type { StoredMarking } from "../history";
import { revisionColumns } from "../history/history.table";
import { accounts, markingColumns } from "../access/access.table";
import { INCIDENT_SEVERITIES, INCIDENT_STATUSES } from "./incidents.enums";

export const ACTOR_KINDS = ["THREAT_ACTOR", "INTRUSION_SET"] as const;
export const actorKindEnum = pgEnum("actor_kind", ACTOR_KINDS);
export const incidentSeverityEnum = pgEnum("incident_severity", INCIDENT_SEVERITIES);
export const incidentStatusEnum = pgEnum("incident_status", INCIDENT_STATUSES);

const textArray = (name: string) =>
  text(name)
    .array()
    .notNull()
    .default(sql`'{}'::text[]`);

/**
 * Threat actors and intrusion sets. Marked like every contributed record: naming an actor can
 * itself be sensitive (a RED cluster one CERT tracks), so who sees an actor follows the access rule,
 * and a name is unique only among the actors a caller may see (no global unique index: it would
 * be an existence oracle).
 */
export const threatActors = pgTable(
  "threat_actors",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ...markingColumns(),
    kind: actorKindEnum("kind").notNull(),
    name: text("name").notNull(),
    aliases: textArray("aliases"),
    /** lower(name) and lower(aliases): what searches and the duplicate check compare. */
    namesLower: textArray("names_lower"),
    description: text("description").notNull().default(""),
    stixId: text("stix_id"),
    /** Set when the owner retired the actor (STIX `revoked`), e.g. merged into another. */
    revokedAt: timestamp("revoked_at", { withTimezone: true, precision: 3 }),
    /** The actor that replaces a retired one (STIX `revoked-by`), if any. */
    replacedById: uuid("replaced_by_id").references((): AnyPgColumn => threatActors.id),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => accounts.id),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    index("threat_actors_names_idx").using("gin", t.namesLower),
    index("threat_actors_order_idx").on(t.name, t.id),
  ],
);

/** Incidents (DESIGN section 7), classified with RSIT and NCISS priority levels. */
export const incidents = pgTable(
  "incidents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ...markingColumns(),
    title: text("title").notNull(),
    description: text("description").notNull().default(""),
    rsitClass: text("rsit_class").notNull(),
    rsitType: text("rsit_type").notNull(),
    severity: incidentSeverityEnum("severity").notNull(),
    status: incidentStatusEnum("status").notNull().default("OPEN"),
    sectors: textArray("sectors"),
    countries: textArray("countries"),
    occurredAt: timestamp("occurred_at", { withTimezone: true, precision: 3 }),
    detectedAt: timestamp("detected_at", { withTimezone: true, precision: 3 }),
    reportedAt: timestamp("reported_at", { withTimezone: true, precision: 3 }),
    /** The number of the latest revision (see incident_revisions). */
    revision: integer("revision").notNull().default(1),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => accounts.id),
    // Millisecond precision: (created_at, id) is the keyset order, and a cursor carries it as JS does.
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index("incidents_order_idx").on(t.createdAt, t.id), index("incidents_owner_idx").on(t.ownerOrgId)],
);

/**
 * Dated entries of an incident's timeline, each with a marking of its own. An entry is seen by
 * whoever may see both it and its incident.
 */
export const timelineEntries = pgTable(
  "incident_timeline_entries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    incidentId: uuid("incident_id")
      .notNull()
      .references(() => incidents.id, { onDelete: "cascade" }),
    ...markingColumns(),
    eventAt: timestamp("event_at", { withTimezone: true, precision: 3 }).notNull(),
    summary: text("summary").notNull(),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => accounts.id),
    createdAt: timestamp("created_at", { withTimezone: true, precision: 3 }).notNull().defaultNow(),
  },
  (t) => [index("incident_timeline_order_idx").on(t.incidentId, t.eventAt, t.id)],
);

/** Indicators linked to an incident by its owner's analysts. */
export const incidentIndicators = pgTable(
  "incident_indicators",
  {
    incidentId: uuid("incident_id")
      .notNull()
      .references(() => incidents.id),
    observableId: bigint("observable_id", { mode: "number" })
      .notNull()
      .references(() => observables.id),
    addedBy: uuid("added_by")
      .notNull()
      .references(() => accounts.id),
    addedAt: timestamp("added_at", { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.observableId] })],
);

/** Everything a revision of an incident can change: the whole state after that revision. */
export interface IncidentState {
  title: string;
  description: string;
  rsitClass: string;
  rsitType: string;
  severity: string;
  status: string;
  sectors: string[];
  countries: string[];
  occurredAt: string | null;
  detectedAt: string | null;
  reportedAt: string | null;
  marking: StoredMarking;
}

/**
 * Immutable revisions of incidents, as for assessments: each holds the whole state after it and
 * the marking it was made under, so a change of marking is a recorded revision like any other and
 * a viewer sees only the revisions it may see. Triggers refuse UPDATE, DELETE and TRUNCATE.
 */
export const incidentRevisions = pgTable(
  "incident_revisions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    incidentId: uuid("incident_id")
      .notNull()
      .references(() => incidents.id),
    ...revisionColumns<IncidentState>(),
  },
  (t) => [uniqueIndex("incident_revisions_number_key").on(t.incidentId, t.number)],
);
