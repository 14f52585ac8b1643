import { Arg, Ctx, Resolver, Root, Subscription } from "type-graphql";
import type { Context } from "../../context";
import { toGlobalId } from "../../shared/ids";
import { delivered, encodeCursor, type Delivery } from "../realtime";
import { IndicatorEvent, IndicatorEventFilter } from "./indicator-events.type";
import { subscribeIndicatorEvents, type IndicatorEventItem } from "./indicator-events.service";

interface Args {
  filter?: IndicatorEventFilter | null;
  after?: string | null;
}

@Resolver(() => IndicatorEvent)
export class IndicatorEventResolver {
  @Subscription(() => IndicatorEvent, {
    description:
      "Indicator changes as they are committed, each checked against your rights when it is delivered. With `after` (an event's cursor) it first replays what you missed, in order, then goes on live. A client that reads too slowly gets a last FELL_BEHIND error carrying `resumeAfter`; a cursor older than the log's retention gets BAD_USER_INPUT (reason CURSOR_EXPIRED): re-sync with a query.",
    subscribe: ({ args, context }) => {
      const a = args as Args;
      return subscribeIndicatorEvents(context as Context, a.filter ?? null, a.after ?? null);
    },
  })
  indicatorEvents(
    @Root() delivery: Delivery<IndicatorEventItem> | undefined,
    @Arg("filter", () => IndicatorEventFilter, { nullable: true }) _filter: IndicatorEventFilter | null,
    @Arg("after", () => String, { nullable: true, description: "Resume after this event's cursor." })
    _after: string | null,
    @Ctx() ctx: Context,
  ): IndicatorEvent {
    const item = delivered(ctx, "indicatorEvents", delivery, (i) => i.loaders);
    return Object.assign(new IndicatorEvent(), {
      kind: item.kind,
      cursor: encodeCursor(item.pos),
      id: toGlobalId("Indicator", item.observableId),
      indicator: item.indicator,
    });
  }
}
