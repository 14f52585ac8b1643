import { registerEnumType } from "type-graphql";
import { OBSERVABLE_TYPES, ObservableType } from "./normalize";
import { FEED_FORMATS } from "./indicators.table";

export const FeedFormat = Object.fromEntries(FEED_FORMATS.map((f) => [f, f])) as {
  [K in (typeof FEED_FORMATS)[number]]: K;
};

registerEnumType(ObservableType, {
  name: "ObservableType",
  description: "What an observable's value is. IPV4/IPV6 values may be CIDR ranges.",
});
registerEnumType(FeedFormat, { name: "FeedFormat", description: "The format a feed's payloads come in." });

export { OBSERVABLE_TYPES };

/** The records of the indicator event stream: reports and sightings, delivered as their indicator. */
export const IndicatorRecord = { REPORT: "report", SIGHTING: "sighting" } as const;

/** What a STIX export holds; by default all of it. */
export const StixExportKind = { INDICATORS: "INDICATORS", ASSESSMENTS: "ASSESSMENTS", INCIDENTS: "INCIDENTS" } as const;
export type StixExportKind = (typeof StixExportKind)[keyof typeof StixExportKind];
export const STIX_EXPORT_KINDS = Object.values(StixExportKind) as [StixExportKind, ...StixExportKind[]];
registerEnumType(StixExportKind, {
  name: "StixExportKind",
  description:
    "INDICATORS: indicators, observables, sightings. ASSESSMENTS: attributed-to relationships with their campaigns, intrusion sets, threat actors (and subject incidents) and the opinions of them. INCIDENTS: incident objects.",
});
