import { registerNodeType } from "../access";
import { serialOf } from "../../shared/ids";
import { FeedResolver } from "./feed.resolver";
import { IndicatorReportResolver, IndicatorResolver, SightingResolver } from "./indicator.resolver";
import { IngestResolver } from "./ingest.resolver";
import { ExportResolver } from "./export.resolver";
import { IndicatorEventResolver } from "./indicator-events.resolver";

export { feeds, observables, reports, sightings } from "./indicators.table";
export { normalize, detectType, ObservableType } from "./normalize";
export { ingest, type IngestReport } from "./ingest.service";
export { ingestPayload } from "./ingest.run";
export { exportKinds, exportStix } from "./export.service";
export { formatFromContentType, parserFor } from "./parsers";
export { indicatorReader } from "./indicator-events.service";
export { IndicatorRecord } from "./indicators.enums";

registerNodeType("Indicator", (ctx, globalId) => {
  const id = serialOf("Indicator", globalId);
  return id ? ctx.loaders.indicator.load(id) : Promise.resolve(null);
});

export const indicatorResolvers = [
  FeedResolver,
  IngestResolver,
  ExportResolver,
  IndicatorResolver,
  IndicatorReportResolver,
  SightingResolver,
  IndicatorEventResolver,
] as const;
