import type { Context, Loaders } from "../../context";
import { bindEvent, viewerOf } from "../../context";
import { badInput, cursorExpired, fellBehind } from "../../shared/errors";
import type { ViewerIdentity } from "../access/viewer";
import type { Delivery, StreamReader } from "./event-hub";
import { decodeCursor, encodeCursor, type Position } from "./position";

/** What a subscription run over HTTP answers. */
export const webSocketOnly = (field: string) =>
  badInput(field, "subscriptions are served over WebSocket (graphql-transport-ws) on /graphql");

/**
 * Opens a subscription for the operation's viewer: checks the cursor, then subscribes to the
 * hub. Each page is delivered under the subscriber's rights as they are then; when its token no
 * longer works, its socket is closed with 4403.
 */
export async function openSubscription<T extends { readonly pos: Position }>(
  ctx: Context,
  field: string,
  reader: StreamReader<T>,
  after: string | null,
  select: (items: readonly T[], viewer: ViewerIdentity) => Promise<readonly T[]>,
): Promise<AsyncIterableIterator<Delivery<T>>> {
  viewerOf(ctx);
  const connection = ctx.connection;
  if (!connection) throw webSocketOnly(field);
  let start: Position | null = null;
  if (after) {
    start = decodeCursor(after);
    const check = await ctx.services.events.checkResume(start);
    if (check === "expired") throw cursorExpired();
    if (check === "unknown") throw badInput("after", "not a cursor this subscription issued");
  }
  const { auth } = ctx.services;
  return ctx.services.events.subscribe({
    reader,
    after: start,
    viewer: async () => {
      try {
        const v = await auth.authenticate(connection.authorization);
        if (v) return v;
      } catch {
        // a revoked or expired token: closed below
      }
      connection.forbid();
      return null;
    },
    select,
  });
}

/**
 * What a subscription's field resolver does with each delivery: over HTTP there is none (Apollo
 * runs a subscription like a query); a subscriber that fell behind or resumed past the log's
 * retention gets its last error; otherwise the item, with the operation bound to the viewer and
 * loaders it was translated for, so its fields resolve under the same rights.
 */
export function delivered<T>(
  ctx: Context,
  field: string,
  delivery: Delivery<T> | undefined,
  loaders: (item: T) => Loaders,
): T {
  if (!delivery) throw webSocketOnly(field);
  if ("fellBehind" in delivery) throw fellBehind(encodeCursor(delivery.fellBehind));
  if ("expired" in delivery) throw cursorExpired();
  bindEvent(ctx, delivery.viewer, loaders(delivery.item));
  return delivery.item;
}
