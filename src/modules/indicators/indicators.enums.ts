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
