// Every table, for drizzle-kit and for the typed client. Modules own their tables.
export * from "../modules/access/access.table";
export * from "../modules/audit/audit.table";
export * from "../modules/indicators/indicators.table";
export * from "../modules/realtime/realtime.table";
export * from "../modules/history/history.table";
export * from "../modules/incidents/incidents.table";
export * from "../modules/assessments/assessments.table";
export * from "../modules/trends/trends.table";
