import { registerEnumType } from "type-graphql";

/** NCISS priority levels (the `priority-level` taxonomy), lowest first. */
export const IncidentSeverity = {
  BASELINE_NEGLIGIBLE: "BASELINE_NEGLIGIBLE",
  BASELINE_MINOR: "BASELINE_MINOR",
  LOW: "LOW",
  MEDIUM: "MEDIUM",
  HIGH: "HIGH",
  SEVERE: "SEVERE",
  EMERGENCY: "EMERGENCY",
} as const;
export type IncidentSeverity = (typeof IncidentSeverity)[keyof typeof IncidentSeverity];
export const INCIDENT_SEVERITIES = Object.values(IncidentSeverity) as [IncidentSeverity, ...IncidentSeverity[]];

export const IncidentStatus = {
  OPEN: "OPEN",
  CONTAINED: "CONTAINED",
  RESOLVED: "RESOLVED",
  CLOSED: "CLOSED",
} as const;
export type IncidentStatus = (typeof IncidentStatus)[keyof typeof IncidentStatus];
export const INCIDENT_STATUSES = Object.values(IncidentStatus) as [IncidentStatus, ...IncidentStatus[]];

registerEnumType(IncidentSeverity, {
  name: "IncidentSeverity",
  description: "NCISS priority level (the MISP `priority-level` taxonomy); see `incidentTaxonomy` for colours.",
});
registerEnumType(IncidentStatus, { name: "IncidentStatus" });
