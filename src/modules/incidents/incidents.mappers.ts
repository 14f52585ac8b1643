import type { Tlp } from "../access/tlp";
import { toGlobalId } from "../../shared/ids";
import type { threatActors } from "./incidents.table";
import { ThreatActor, type ActorKind } from "./incidents.type";

export const TYPE = { ThreatActor: "ThreatActor" } as const;

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
  });
}
