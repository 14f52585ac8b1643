import { registerNodeType } from "../access";
import { idOf } from "../../shared/ids";
import { ThreatActorResolver } from "./actor.resolver";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";

export { threatActors } from "./incidents.table";
export { ThreatActor } from "./incidents.type";

// node(id) and federation entity lookups, each through a loader (and so the access rule).
for (const [type, loader] of [[TYPE.ThreatActor, "threatActor"]] as const)
  registerNodeType(type, (ctx, globalId) => {
    const id = idOf(type, globalId);
    return id ? incidentLoadersOf(ctx)[loader].load(id) : Promise.resolve(null);
  });

export const incidentResolvers = [ThreatActorResolver] as const;
