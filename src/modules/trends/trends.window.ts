import { badInput } from "../../shared/errors";
import { TrendInterval } from "./trends.enums";

/** At most this many buckets in one answer (a year of days; 7 years of weeks; 33 of months). */
export const MAX_BUCKETS = 400;
/** At most this many cells (buckets times the combinations of the grouped values) in one answer. */
export const MAX_CELLS = 10_000;

const DAY_MS = 86_400_000;

/** The next bucket edge after `d` (a UTC midnight), in UTC. */
export function nextEdge(d: Date, interval: TrendInterval): Date {
  if (interval === TrendInterval.DAY) return new Date(d.getTime() + DAY_MS);
  if (interval === TrendInterval.WEEK) return new Date(d.getTime() + 7 * DAY_MS);
  return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
}

/** Whether `d` is a bucket edge: a UTC midnight; for WEEK a Monday (ISO weeks); for MONTH the 1st. */
export function isEdge(d: Date, interval: TrendInterval): boolean {
  if (d.getTime() % DAY_MS !== 0) return false;
  if (interval === TrendInterval.WEEK) return d.getUTCDay() === 1;
  if (interval === TrendInterval.MONTH) return d.getUTCDate() === 1;
  return true;
}

const EDGE_RULE: Record<TrendInterval, string> = {
  DAY: "a UTC midnight",
  WEEK: "a Monday, UTC midnight (ISO weeks)",
  MONTH: "the 1st of a month, UTC midnight",
};

/** `YYYY-MM-DD` of a UTC date. */
export const dayOf = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The buckets of a window [from, to): both ends must be bucket edges, `from` before `to`, and at
 * most MAX_BUCKETS of them; anything else is BAD_USER_INPUT saying what to send instead.
 */
export function bucketsOf(from: Date, to: Date, interval: TrendInterval): Date[] {
  if (Number.isNaN(from.getTime())) throw badInput("input.from", "not a date-time");
  if (Number.isNaN(to.getTime())) throw badInput("input.to", "not a date-time");
  if (!isEdge(from, interval))
    throw badInput("input.from", `must be a bucket edge for ${interval}: ${EDGE_RULE[interval]}`);
  if (!isEdge(to, interval))
    throw badInput("input.to", `must be a bucket edge for ${interval}: ${EDGE_RULE[interval]}`);
  if (to <= from) throw badInput("input.to", "must be after input.from");
  const starts: Date[] = [];
  for (let d = from; d < to; d = nextEdge(d, interval)) {
    if (starts.length === MAX_BUCKETS)
      throw badInput(
        "input.to",
        `the window holds more than ${MAX_BUCKETS} ${interval} buckets; shorten it or use a longer interval`,
      );
    starts.push(d);
  }
  return starts;
}
