import { Arg, Ctx, Field, ID, InputType, ObjectType, Resolver, Root, Subscription } from "type-graphql";
import { loaderContext, type Context, type LoaderContext } from "../../context";
import type { Db } from "../../db/client";
import { idOf, toGlobalId } from "../../shared/ids";
import { Tlp } from "../access/tlp";
import {
  encodeCursor,
  EventKind,
  openSubscription,
  Stream,
  translateRecords,
  delivered,
  type Delivery,
  type RecordEventItem,
  type StreamReader,
} from "../realtime";
import { INCIDENT_SEVERITIES, IncidentSeverity } from "./incidents.enums";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";
import { Incident } from "./incidents.type";

export type IncidentEventItem = RecordEventItem<Incident, LoaderContext>;

/**
 * The incident stream's reader: changes to incidents, their timeline entries (each with its own
 * marking) and their linked indicators, translated per subscriber by `translateRecords`.
 */
export function incidentReader(db: Db): StreamReader<IncidentEventItem> {
  return {
    stream: Stream.INCIDENT,
    translate: (changes, viewer) =>
      translateRecords(
        {
          stream: Stream.INCIDENT,
          record: "incident",
          loaders: (v) => loaderContext(db, v),
          load: async (lc, ids) => {
            const found = await incidentLoadersOf(lc).incident.loadMany(ids);
            return new Map(found.filter((i): i is Incident => i instanceof Incident).map((i) => [i.dbId, i]));
          },
          partsVisible: async (lc, parts) => {
            const entries = parts.filter((p) => p.record === "timeline").map((p) => p.id);
            const links = parts.filter((p) => p.record === "link").map((p) => Number(p.id));
            const [e, l] = await Promise.all([
              incidentLoadersOf(lc).timelineEntry.loadMany(entries),
              lc.loaders.indicator.loadMany(links),
            ]);
            const seen = new Set<string>();
            e.forEach((x, n) => x && !(x instanceof Error) && seen.add(`timeline:${entries[n]}`));
            l.forEach((x, n) => x && !(x instanceof Error) && seen.add(`link:${links[n]}`));
            return seen;
          },
        },
        changes,
        viewer,
      ),
  };
}

@InputType({ description: "Which incident events to receive; every field narrows, all must hold." })
export class IncidentEventFilter {
  @Field(() => [String], { nullable: true, description: "RSIT classes." })
  rsitClasses?: string[] | null;
  @Field(() => IncidentSeverity, { nullable: true, description: "This severity or a higher one." })
  minSeverity?: IncidentSeverity | null;
  @Field(() => [ID], { nullable: true })
  ownerIds?: string[] | null;
  @Field(() => [Tlp], { nullable: true })
  tlps?: Tlp[] | null;
}

@ObjectType({
  description:
    "A change to an incident (or to its timeline or linked indicators), as you may see it when it is delivered. Filters apply to CREATED and UPDATED, which carry the incident; REMOVED carries only the id.",
})
export class IncidentEvent {
  @Field(() => EventKind)
  kind: EventKind;
  @Field(() => String, { description: "Resume after this event with incidentEvents(after: cursor)." })
  cursor: string;
  @Field(() => ID)
  id: string;
  @Field(() => Incident, { nullable: true, description: "The incident as you may see it now; null for REMOVED." })
  incident: Incident | null;
}

function matches(f: IncidentEventFilter, i: Incident): boolean {
  if (f.rsitClasses?.length && !f.rsitClasses.includes(i.rsitClass)) return false;
  if (f.minSeverity && INCIDENT_SEVERITIES.indexOf(i.severity) < INCIDENT_SEVERITIES.indexOf(f.minSeverity))
    return false;
  if (f.ownerIds?.length && !f.ownerIds.some((g) => idOf("Organization", g) === i.ownerDbId)) return false;
  if (f.tlps?.length && !f.tlps.includes(i.marking.tlp)) return false;
  return true;
}

interface Args {
  filter?: IncidentEventFilter | null;
  after?: string | null;
}

@Resolver(() => IncidentEvent)
export class IncidentEventResolver {
  @Subscription(() => IncidentEvent, {
    description:
      "Incident changes as they are committed, each checked against your rights when it is delivered; `after` resumes from a cursor, as for indicatorEvents.",
    subscribe: ({ args, context }) => {
      const { filter, after } = args as Args;
      return openSubscription(
        context as Context,
        "incidentEvents",
        incidentReader((context as Context).services.db),
        after ?? null,
        async (items) => (filter ? items.filter((i) => !i.record || matches(filter, i.record)) : items),
      );
    },
  })
  incidentEvents(
    @Root() delivery: Delivery<IncidentEventItem> | undefined,
    @Arg("filter", () => IncidentEventFilter, { nullable: true }) _filter: IncidentEventFilter | null,
    @Arg("after", () => String, { nullable: true, description: "Resume after this event's cursor." })
    _after: string | null,
    @Ctx() ctx: Context,
  ): IncidentEvent {
    const item = delivered(ctx, "incidentEvents", delivery, (i) => i.loaders.loaders);
    return Object.assign(new IncidentEvent(), {
      kind: item.kind,
      cursor: encodeCursor(item.pos),
      id: toGlobalId(TYPE.Incident, item.subject),
      incident: item.record,
    });
  }
}
