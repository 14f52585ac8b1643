import { registerNodeType } from "../access";
import { idOf } from "../../shared/ids";
import { ThreatActorResolver } from "./actor.resolver";
import { IncidentResolver, TimelineEntryResolver } from "./incident.resolver";
import { IncidentEventResolver } from "./incident-events";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";

export { threatActors, incidents, timelineEntries } from "./incidents.table";
export { ThreatActor, Incident, TimelineEntry } from "./incidents.type";
export { IncidentSeverity, IncidentStatus } from "./incidents.enums";
export { TAXONOMY, checkRsit } from "./taxonomy";

// node(id) and federation entity lookups, each through a loader (and so the access rule).
for (const [type, loader] of [
  [TYPE.ThreatActor, "threatActor"],
  [TYPE.Incident, "incident"],
  [TYPE.TimelineEntry, "timelineEntry"],
] as const)
  registerNodeType(type, (ctx, globalId) => {
    const id = idOf(type, globalId);
    return id ? incidentLoadersOf(ctx)[loader].load(id) : Promise.resolve(null);
  });

export const incidentResolvers = [
  ThreatActorResolver,
  IncidentResolver,
  TimelineEntryResolver,
  IncidentEventResolver,
] as const;
