import { registerEnumType } from "type-graphql";

/** What an organisation lets the hub count in aggregates. RED is never counted, whatever this says. */
export const TrendsConsent = {
  /** Nothing of this organisation's is counted. */
  NONE: "NONE",
  /** CLEAR and GREEN records. */
  UP_TO_GREEN: "UP_TO_GREEN",
  /** CLEAR, GREEN, AMBER and AMBER_STRICT records (the default). */
  ALL_BUT_RED: "ALL_BUT_RED",
} as const;
export type TrendsConsent = (typeof TrendsConsent)[keyof typeof TrendsConsent];
export const TRENDS_CONSENTS = Object.values(TrendsConsent) as [TrendsConsent, ...TrendsConsent[]];
export const DEFAULT_TRENDS_CONSENT: TrendsConsent = TrendsConsent.ALL_BUT_RED;

export const TrendMetric = {
  /** Indicator reports, dated when the hub received them. */
  INDICATORS: "INDICATORS",
  /** Sightings, dated when the hub received them. */
  SIGHTINGS: "SIGHTINGS",
  /** Incidents, dated when they occurred (else detected, reported, recorded). */
  INCIDENTS: "INCIDENTS",
} as const;
export type TrendMetric = (typeof TrendMetric)[keyof typeof TrendMetric];
/** The metrics the indicator rollup holds (its `metric` column). */
export const INDICATOR_METRICS = [TrendMetric.INDICATORS, TrendMetric.SIGHTINGS] as const;

export const TrendInterval = { DAY: "DAY", WEEK: "WEEK", MONTH: "MONTH" } as const;
export type TrendInterval = (typeof TrendInterval)[keyof typeof TrendInterval];

export const TrendDimension = {
  /** The observable's type (INDICATORS, SIGHTINGS). */
  INDICATOR_TYPE: "INDICATOR_TYPE",
  /** RSIT class (INCIDENTS). */
  RSIT_CLASS: "RSIT_CLASS",
  /** NCISS priority level (INCIDENTS). */
  SEVERITY: "SEVERITY",
  /** Affected sector (INCIDENTS; an incident counts once in each of its sectors). */
  SECTOR: "SECTOR",
  /**
   * INCIDENTS: an affected country (an incident counts once in each). INDICATORS, SIGHTINGS: the
   * contributing member state's country (one organisation per country, so every cell of it is
   * suppressed whenever k > 1).
   */
  COUNTRY: "COUNTRY",
  /**
   * INCIDENTS: the threat actor (or intrusion set) a countable attribution assessment of the
   * incident names (an incident counts once under each; null: none countable).
   */
  THREAT_ACTOR: "THREAT_ACTOR",
} as const;
export type TrendDimension = (typeof TrendDimension)[keyof typeof TrendDimension];

registerEnumType(TrendsConsent, {
  name: "TrendsConsent",
  description: "What an organisation lets the hub count in trends. RED is never counted.",
  valuesConfig: {
    NONE: { description: "Nothing is counted." },
    UP_TO_GREEN: { description: "CLEAR and GREEN records are counted." },
    ALL_BUT_RED: { description: "Everything but RED is counted (the default)." },
  },
});
registerEnumType(TrendMetric, {
  name: "TrendMetric",
  valuesConfig: {
    INDICATORS: { description: "Indicator reports, dated when the hub received them (UTC)." },
    SIGHTINGS: { description: "Sightings, dated when the hub received them (UTC)." },
    INCIDENTS: { description: "Incidents, dated by occurredAt, else detectedAt, reportedAt, when recorded (UTC)." },
  },
});
registerEnumType(TrendInterval, {
  name: "TrendInterval",
  description: "Bucket width; edges are UTC midnights (WEEK: ISO weeks from Monday; MONTH: the 1st).",
});
registerEnumType(TrendDimension, {
  name: "TrendDimension",
  valuesConfig: {
    INDICATOR_TYPE: { description: "Observable type (INDICATORS, SIGHTINGS)." },
    RSIT_CLASS: { description: "RSIT class (INCIDENTS)." },
    SEVERITY: { description: "NCISS priority level (INCIDENTS)." },
    SECTOR: {
      description: "Affected sector (INCIDENTS); null: none given. An incident counts in each of its sectors.",
    },
    COUNTRY: {
      description:
        "INCIDENTS: affected country (null: none given; counts in each). INDICATORS, SIGHTINGS: the contributor's country (null: not a member state).",
    },
    THREAT_ACTOR: {
      description:
        "INCIDENTS: the threat actor or intrusion set that a current (not withdrawn), countable attribution assessment of the incident names; values are the actors' global ids (axes give their names as labels); null: no countable attribution. An incident counts once under each.",
    },
  },
});
