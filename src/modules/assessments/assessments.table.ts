import { sql } from "drizzle-orm";
import { bigint, index, integer, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { accounts, markingColumns } from "../access/access.table";
import { incidents, threatActors } from "../incidents/incidents.table";
import {
  ANALYTIC_CONFIDENCES,
  ASSESSMENT_STATUSES,
  LIKELIHOODS,
  OPINION_STANCES,
  SUBJECT_KINDS,
} from "./assessments.enums";
import { revisionColumns } from "../history/history.table";
import type { AssessmentState, OpinionState } from "./state";

export const likelihoodEnum = pgEnum("likelihood", LIKELIHOODS);
export const analyticConfidenceEnum = pgEnum("analytic_confidence", ANALYTIC_CONFIDENCES);
export const assessmentStatusEnum = pgEnum("assessment_status", ASSESSMENT_STATUSES);
export const subjectKindEnum = pgEnum("assessment_subject_kind", SUBJECT_KINDS);
export const opinionStanceEnum = pgEnum("opinion_stance", OPINION_STANCES);

const ts = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });
const uuidArray = (name: string) =>
  uuid(name)
    .array()
    .notNull()
    .default(sql`'{}'::uuid[]`);

/**
 * An organisation's attribution assessment as it stands now (its latest revision), with the
 * columns filters need. The history is in `assessment_revisions`; the subject never changes.
 */
export const assessments = pgTable(
  "assessments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ...markingColumns(),
    subjectKind: subjectKindEnum("subject_kind").notNull(),
    subjectIncidentId: uuid("subject_incident_id").references(() => incidents.id),
    subjectActorId: uuid("subject_actor_id").references(() => threatActors.id),
    /** The campaign's name (CAMPAIGN subjects). */
    subjectName: text("subject_name"),
    /** `campaign--<uuid>` when the campaign came from (or goes to) STIX. */
    subjectStixId: text("subject_stix_id"),
    actorId: uuid("actor_id")
      .notNull()
      .references(() => threatActors.id),
    claimedState: text("claimed_state"),
    stateResponsibility: text("state_responsibility"),
    likelihood: likelihoodEnum("likelihood").notNull(),
    analyticConfidence: analyticConfidenceEnum("analytic_confidence").notNull(),
    rationale: text("rationale").notNull(),
    evidenceIncidents: uuidArray("evidence_incidents"),
    evidenceIndicators: bigint("evidence_indicators", { mode: "number" })
      .array()
      .notNull()
      .default(sql`'{}'::bigint[]`),
    evidenceReferences: text("evidence_references")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    status: assessmentStatusEnum("status").notNull(),
    nextReviewAt: ts("next_review_at"),
    /** The number of the latest revision: what `expectedRevision` is compared with. */
    revision: integer("revision").notNull(),
    /** The `relationship--<uuid>` id of its STIX `attributed-to` form. */
    stixId: text("stix_id").notNull(),
    /** The `modified` of the STIX version last imported (null for the hub's own): a re-import of it or of an older one changes nothing. */
    stixModified: ts("stix_modified"),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => accounts.id),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    index("assessments_order_idx").on(t.createdAt, t.id),
    index("assessments_actor_idx").on(t.actorId),
    index("assessments_subject_incident_idx").on(t.subjectIncidentId),
    index("assessments_owner_idx").on(t.ownerOrgId),
    uniqueIndex("assessments_owner_stix_key").on(t.ownerOrgId, t.stixId),
  ],
);

/**
 * Immutable revisions: each holds the whole state after it (so any past state is one row) and
 * its own marking (a revision is seen under the marking it was made with). Triggers refuse UPDATE,
 * DELETE and TRUNCATE (migration 0009), so not even the hub's own code can rewrite history.
 */
export const assessmentRevisions = pgTable(
  "assessment_revisions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    assessmentId: uuid("assessment_id")
      .notNull()
      .references(() => assessments.id),
    ...revisionColumns<AssessmentState>(),
  },
  (t) => [
    uniqueIndex("assessment_revisions_number_key").on(t.assessmentId, t.number),
    index("assessment_revisions_time_idx").on(t.assessmentId, t.recordedAt),
  ],
);

/** Another organisation's opinion of an assessment (STIX `opinion`), one per organisation. */
export const opinions = pgTable(
  "opinions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    assessmentId: uuid("assessment_id")
      .notNull()
      .references(() => assessments.id),
    ...markingColumns(),
    stance: opinionStanceEnum("stance").notNull(),
    confidence: integer("confidence"),
    comment: text("comment").notNull(),
    revision: integer("revision").notNull(),
    stixId: text("stix_id").notNull(),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => accounts.id),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [uniqueIndex("opinions_assessment_owner_key").on(t.assessmentId, t.ownerOrgId)],
);

export const opinionRevisions = pgTable(
  "opinion_revisions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    opinionId: uuid("opinion_id")
      .notNull()
      .references(() => opinions.id),
    ...revisionColumns<OpinionState>(),
  },
  (t) => [
    uniqueIndex("opinion_revisions_number_key").on(t.opinionId, t.number),
    index("opinion_revisions_time_idx").on(t.opinionId, t.recordedAt),
  ],
);
