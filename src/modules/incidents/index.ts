import { registerNodeType } from "../access";
import { idOf } from "../../shared/ids";
import { ThreatActorResolver } from "./actor.resolver";
import { IncidentResolver } from "./incident.resolver";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";

export { threatActors, incidents } from "./incidents.table";
export { ThreatActor, Incident } from "./incidents.type";
export { IncidentSeverity, IncidentStatus } from "./incidents.enums";
export { TAXONOMY, checkRsit } from "./taxonomy";

// node(id) and federation entity lookups, each through a loader (and so the access rule).
for (const [type, loader] of [
  [TYPE.ThreatActor, "threatActor"],
  [TYPE.Incident, "incident"],
] as const)
  registerNodeType(type, (ctx, globalId) => {
    const id = idOf(type, globalId);
    return id ? incidentLoadersOf(ctx)[loader].load(id) : Promise.resolve(null);
  });

export const incidentResolvers = [ThreatActorResolver, IncidentResolver] as const;
