import { OrganizationTrendsResolver, TrendsResolver } from "./trends.resolver";

export { trendsSettings, trendIndicatorRollup, trendIncidentRollup } from "./trends.table";
export { TrendsConsent, TrendMetric, TrendInterval, TrendDimension } from "./trends.enums";
export { MAX_BUCKETS, MAX_CELLS } from "./trends.window";

export const trendsResolvers = [TrendsResolver, OrganizationTrendsResolver] as const;
export { trendsPageAssets, type StaticAsset } from "./trends.page";
export { compactTrends, startTrendsCompactor } from "./trends-compactor";
