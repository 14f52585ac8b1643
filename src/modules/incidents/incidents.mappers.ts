import type { Tlp } from "../access/tlp";
import { toGlobalId } from "../../shared/ids";
import type { incidents, threatActors, timelineEntries } from "./incidents.table";
import { Incident, ThreatActor, TimelineEntry, type ActorKind } from "./incidents.type";
import type { IncidentSeverity, IncidentStatus } from "./incidents.enums";

export const TYPE = { ThreatActor: "ThreatActor", Incident: "Incident", TimelineEntry: "TimelineEntry" } as const;

const marking = (r: { ownerOrgId: string; tlp: string; audienceOrgs: string[]; audienceGroups: string[] }) => ({
  tlp: r.tlp as Tlp,
  ownerDbId: r.ownerOrgId,
  audienceOrgDbIds: r.audienceOrgs,
  audienceGroupDbIds: r.audienceGroups,
});

export function toThreatActor(r: typeof threatActors.$inferSelect): ThreatActor {
  return Object.assign(new ThreatActor(), {
    id: toGlobalId(TYPE.ThreatActor, r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    kind: r.kind as ActorKind,
    name: r.name,
    aliases: r.aliases,
    description: r.description,
    stixId: r.stixId,
    marking: marking(r),
    createdAt: r.createdAt,
    revokedAt: r.revokedAt,
    replacedByDbId: r.replacedById,
  });
}

export function toIncident(r: typeof incidents.$inferSelect): Incident {
  return Object.assign(new Incident(), {
    id: toGlobalId(TYPE.Incident, r.id),
    dbId: r.id,
    ownerDbId: r.ownerOrgId,
    title: r.title,
    description: r.description,
    rsitClass: r.rsitClass,
    rsitType: r.rsitType,
    severity: r.severity as IncidentSeverity,
    status: r.status as IncidentStatus,
    sectors: r.sectors,
    countries: r.countries,
    occurredAt: r.occurredAt,
    detectedAt: r.detectedAt,
    reportedAt: r.reportedAt,
    marking: marking(r),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  });
}

export function toTimelineEntry(r: typeof timelineEntries.$inferSelect): TimelineEntry {
  return Object.assign(new TimelineEntry(), {
    id: toGlobalId(TYPE.TimelineEntry, r.id),
    dbId: r.id,
    incidentDbId: r.incidentId,
    ownerDbId: r.ownerOrgId,
    eventAt: r.eventAt,
    summary: r.summary,
    marking: marking(r),
    createdAt: r.createdAt,
  });
}
