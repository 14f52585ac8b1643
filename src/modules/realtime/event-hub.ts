import type { Db } from "../../db/client";
import type { Logger } from "../../shared/logger";
import type { ViewerIdentity } from "../access/viewer";
import {
  lastPosition,
  positioned,
  pruneLog,
  prunedThrough,
  readRows,
  type LogRow,
  type PositionedChange,
} from "./event-log";
import { ORIGIN, isAfter, laterOf, type Position } from "./position";
import type { Stream } from "./realtime.enums";

/** The channel every commit that appends to the log notifies (see the event_log_seal trigger). */
export const EVENTS_CHANNEL = "hub_events";
/** Most changes in one page: the unit read, translated and delivered at once. */
const MAX_PAGE = 5000;
const PRUNE_EVERY_MS = 10 * 60_000;

/**
 * Turns one stream's changes into what subscribers receive, for one viewer identity. The hub
 * calls it once per page and identity, and every subscriber with that identity shares the
 * result: access is decided per batch and identity, never per event and subscriber.
 */
export interface StreamReader<T extends { readonly pos: Position }> {
  readonly stream: Stream;
  translate(changes: readonly PositionedChange[], viewer: ViewerIdentity): Promise<readonly T[]>;
}

export interface SubscribeOptions<T extends { readonly pos: Position }> {
  reader: StreamReader<T>;
  /** Resume after this position (replaying the log), or null to start with what comes next. */
  after: Position | null;
  /**
   * The subscriber's rights as they are now (its token checked again, at most TOKEN_CACHE_MS
   * old); null when the token no longer works, which ends the subscription.
   */
  viewer(): Promise<ViewerIdentity | null>;
  /** Keeps the items this subscriber asked for (its filter); may load what it needs to decide. */
  select(items: readonly T[], viewer: ViewerIdentity): Promise<readonly T[]>;
}

/** What a subscription yields: an item with the rights it was translated for, or its last word. */
export type Delivery<T> =
  | { readonly item: T; readonly viewer: ViewerIdentity }
  | { readonly fellBehind: Position }
  | { readonly expired: true };

export interface EventHubOptions {
  db: Db;
  /** Subscribes to a notification channel; the callback also runs on every (re)connection. */
  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
  log: Logger;
  /** How many changes a subscriber may trail the fastest subscriber of its node (EVENT_BUFFER_SIZE). */
  bufferSize: number;
  /** Safety-net poll of the log, besides the notifications (EVENT_POLL_MS). */
  pollMs: number;
  /** How long the log keeps changes (EVENT_RETENTION_HOURS). */
  retentionHours: number;
}

/** Consecutive changes of the log, held in memory and translated once per viewer identity. */
class Page {
  readonly first: Position;
  readonly last: Position;
  private readonly byStream = new Map<Stream, PositionedChange[]>();
  private readonly translations = new Map<string, Promise<readonly unknown[]>>();

  constructor(readonly changes: readonly PositionedChange[]) {
    const first = changes[0];
    const last = changes.at(-1);
    if (!first || !last) throw new Error("a page holds at least one change");
    this.first = first.pos;
    this.last = last.pos;
  }

  get size() {
    return this.changes.length;
  }

  of(stream: Stream): readonly PositionedChange[] {
    let list = this.byStream.get(stream);
    if (!list) this.byStream.set(stream, (list = this.changes.filter((c) => c.stream === stream)));
    return list;
  }

  translated<T extends { readonly pos: Position }>(reader: StreamReader<T>, viewer: ViewerIdentity) {
    const key = `${reader.stream}\u0000${identityKey(viewer)}`;
    let t = this.translations.get(key) as Promise<readonly T[]> | undefined;
    if (!t) {
      const changes = this.of(reader.stream);
      t = changes.length ? reader.translate(changes, viewer) : Promise.resolve([]);
      this.translations.set(key, t);
      // A failed translation is not kept: the next subscriber to need it tries again.
      t.catch(() => this.translations.delete(key));
    }
    return t;
  }
}

/** Viewers who see exactly the same records: same organisation (and kind), groups and role. */
export function identityKey(v: ViewerIdentity): string {
  return `${v.organizationId}|${v.organizationKind}|${v.role}|${[...v.groupIds].sort().join(",")}`;
}

function paginate(changes: readonly PositionedChange[], size: number): Page[] {
  const pages: Page[] = [];
  for (let i = 0; i < changes.length; i += size) pages.push(new Page(changes.slice(i, i + size)));
  return pages;
}

/**
 * Per process: follows the event log and serves subscriptions from it.
 *
 * Wake-up: every commit that appends to the log notifies EVENTS_CHANNEL (PostgreSQL NOTIFY, sent
 * at commit; PGlite delivers its own notifications in-process). The hub never trusts the
 * notification: it reads the log after the last position it read, so a lost or coalesced
 * notification loses nothing, and it also polls every `pollMs`.
 *
 * Delivery: the hub reads the log a page at a time into a shared window of at most `bufferSize`
 * changes. Each subscriber pulls pages at its own pace; a page is translated once per viewer
 * identity and the result shared. When the fastest subscriber waits for more while the window is
 * full, the oldest page goes, and whoever still needed it has fell behind: it gets a last message
 * with its cursor and ends. A slow subscriber so costs a bounded amount of memory and never holds
 * back the others. A subscriber that resumes from a cursor reads the log from the database, a page
 * at a time (at its own pace, so it cannot fall behind while catching up), until it reaches the
 * window, then joins it: no gap, no duplicate.
 */
export class EventHub {
  private readonly pages: Page[] = [];
  private held = 0;
  /** Every change after this position, up to `head`, is in `pages`. */
  private coveredFrom: Position = ORIGIN;
  /** The last change read from the log. */
  private head: Position = ORIGIN;
  private readonly live = new Set<Subscriber<never>>();
  /** Every open subscription, live or catching up (to end them on stop). */
  private readonly open = new Set<Subscriber<never>>();
  private readonly waiting = new Set<Subscriber<never>>();
  private pumping: Promise<void> | null = null;
  private pumpAgain = false;
  private started = false;
  private stopped = false;
  private timers: NodeJS.Timeout[] = [];
  private unlisten: (() => Promise<void>) | null = null;
  private readonly pageSize: number;

  constructor(private readonly opts: EventHubOptions) {
    // Several pages to a window: a subscriber still delivering one page is not cut off the moment
    // a faster one asks for the next.
    this.pageSize = Math.max(1, Math.min(MAX_PAGE, Math.floor(opts.bufferSize / 4)));
  }

  /** Starts following the log from its current end. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.head = this.coveredFrom = await lastPosition(this.opts.db);
    this.unlisten = await this.opts.listen(EVENTS_CHANNEL, () => this.wake());
    this.timers.push(setInterval(() => this.wake(), this.opts.pollMs).unref());
    this.timers.push(setInterval(() => void this.prune(), PRUNE_EVERY_MS).unref());
    void this.prune();
  }

  /** Stops following the log and ends every subscription. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const s of [...this.open]) s.end();
    await this.unlisten?.().catch(() => {});
    this.unlisten = null;
    await this.pumping;
  }

  /** Deletes what is older than the retention period. */
  async prune(now = new Date()): Promise<number> {
    try {
      return await pruneLog(this.opts.db, new Date(now.getTime() - this.opts.retentionHours * 3_600_000));
    } catch (err) {
      this.opts.log.warn({ err }, "could not prune the event log");
      return 0;
    }
  }

  /**
   * Why a cursor cannot be resumed from, if it cannot: "expired" when the log no longer holds
   * what follows it, "unknown" when it points past the end of the log (not a cursor of this log).
   */
  async checkResume(after: Position): Promise<"ok" | "expired" | "unknown"> {
    const [pruned, last] = await Promise.all([prunedThrough(this.opts.db), lastPosition(this.opts.db)]);
    if (after.seq <= pruned) return "expired";
    if (after.seq > Math.max(last.seq, pruned)) return "unknown";
    return "ok";
  }

  /** A subscription: an async iterator of deliveries, ended by `return()` or by the hub. */
  async subscribe<T extends { readonly pos: Position }>(
    opts: SubscribeOptions<T>,
  ): Promise<AsyncIterableIterator<Delivery<T>>> {
    const sub = new Subscriber<T>(this, opts, opts.after ?? (await this.endOfLog()), opts.after === null);
    this.open.add(sub as unknown as Subscriber<never>);
    if (opts.after === null) this.attach(sub as unknown as Subscriber<never>);
    return sub;
  }

  // ---- used by Subscriber -------------------------------------------------------------------

  /** @internal */
  get window() {
    return { coveredFrom: this.coveredFrom, db: this.opts.db, pageSize: this.pageSize };
  }

  /** @internal The first page with something after `p`, if the window has one. */
  pageAfter(p: Position): Page | undefined {
    return this.pages.find((page) => isAfter(page.last, p));
  }

  /**
   * @internal With nobody live, the hub does not follow the log (no statement per commit or poll
   * while nobody listens); whoever joins first moves it to the end of the log.
   */
  async refreshIfIdle(): Promise<void> {
    if (this.live.size === 0) this.moveIfIdle(await lastPosition(this.opts.db));
  }

  /**
   * Where a subscription without a cursor starts: after everything committed so far. Not the
   * hub's head, which trails the log until the commit's notification arrives: a client that
   * subscribes after its write has been answered must not be told of that write.
   */
  private async endOfLog(): Promise<Position> {
    const last = await lastPosition(this.opts.db);
    this.moveIfIdle(last);
    return laterOf(last, this.head);
  }

  private moveIfIdle(last: Position): void {
    if (this.live.size === 0 && isAfter(last, this.head)) {
      this.pages.length = 0;
      this.held = 0;
      this.head = this.coveredFrom = last;
    }
  }

  /** @internal */
  attach(sub: Subscriber<never>): void {
    this.live.add(sub);
  }

  /** @internal */
  detach(sub: Subscriber<never>, ended = false): void {
    if (ended) this.open.delete(sub);
    this.live.delete(sub);
    this.waiting.delete(sub);
  }

  /** @internal A subscriber has taken everything there is and waits for more. */
  await(sub: Subscriber<never>): void {
    this.waiting.add(sub);
    this.wake();
  }

  private wake(): void {
    if (this.stopped || !this.started || this.live.size === 0) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.readMore();
        } while (this.pumpAgain && !this.stopped);
      } catch (err) {
        this.opts.log.warn({ err }, "could not read the event log");
      } finally {
        this.pumping = null;
      }
    })();
  }

  private async readMore(): Promise<void> {
    for (;;) {
      this.dropUnneeded();
      // Nobody to serve: the first to join catches the hub up (refreshIfIdle).
      if (this.live.size === 0) return;
      // Reading ahead fills the window; beyond it, only a subscriber that has taken everything makes
      // the hub read on (the fastest sets the pace), and only then may slower ones be cut off.
      const demanded = this.waiting.size > 0;
      if (this.held >= this.opts.bufferSize && !demanded) return;
      const room = demanded ? this.pageSize : this.opts.bufferSize - this.held;
      // The head is always the end of a row: the hub reads whole rows.
      const rows: LogRow[] = await readRows(this.opts.db, this.head.seq + 1, room);
      const fresh = positioned(rows, this.head);
      if (!fresh.length) return;
      for (const page of paginate(fresh, this.pageSize)) {
        this.pages.push(page);
        this.held += page.size;
      }
      this.head = fresh.at(-1)?.pos ?? this.head;
      if (demanded) this.evict();
      const woken = [...this.waiting];
      this.waiting.clear();
      for (const sub of woken) sub.wake();
    }
  }

  /** Drops pages no live subscriber needs any more. */
  private dropUnneeded(): void {
    while (this.pages[0] && ![...this.live].some((s) => s.needs(this.pages[0] as Page))) this.dropOldest();
  }

  /** Over the window, drops the oldest pages; whoever still needed one fell behind. */
  private evict(): void {
    this.dropUnneeded();
    while (this.held > this.opts.bufferSize && this.pages.length > 1) {
      const oldest = this.dropOldest();
      for (const s of [...this.live]) if (s.needs(oldest)) s.fallBehind();
      this.dropUnneeded();
    }
  }

  private dropOldest(): Page {
    const page = this.pages.shift() as Page;
    this.held -= page.size;
    this.coveredFrom = page.last;
    return page;
  }
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * One subscription's state. graphql-ws pulls it (`next()`) only once it has sent the previous
 * event, so how fast it pulls is how fast its client reads.
 */
class Subscriber<T extends { readonly pos: Position }> implements AsyncIterableIterator<Delivery<T>> {
  /** Everything up to here has been taken from the log (delivered, queued or filtered out). */
  private position: Position;
  /** The last position handed over: where a client that fell behind resumes. */
  private delivered: Position;
  private queue: T[] = [];
  private queueViewer: ViewerIdentity | null = null;
  private queuePage: Page | null = null;
  private mode: "catch-up" | "live";
  private behind = false;
  private expired = false;
  private ended = false;
  private wakeUp: (() => void) | null = null;

  constructor(
    private readonly hub: EventHub,
    private readonly opts: SubscribeOptions<T>,
    start: Position,
    live: boolean,
  ) {
    this.position = this.delivered = start;
    this.mode = live ? "live" : "catch-up";
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  async next(): Promise<IteratorResult<Delivery<T>>> {
    for (;;) {
      if (this.ended) return DONE;
      if (this.behind || this.expired) {
        const last: Delivery<T> = this.behind ? { fellBehind: this.delivered } : { expired: true };
        this.end();
        return { done: false, value: last };
      }
      const item = this.queue.shift();
      if (item && this.queueViewer) {
        this.delivered = item.pos;
        return { done: false, value: { item, viewer: this.queueViewer } };
      }
      this.queuePage = null;
      if (this.mode === "live") await this.fromWindow();
      else await this.fromLog();
    }
  }

  async return(): Promise<IteratorResult<Delivery<T>>> {
    this.end();
    return DONE;
  }

  /** Ends the subscription: a pending `next()` returns done. */
  end(): void {
    this.ended = true;
    this.queue = [];
    this.hub.detach(this as unknown as Subscriber<never>, true);
    this.wake();
  }

  /** Whether this subscriber still has to deliver something of `page`. */
  needs(page: Page): boolean {
    return isAfter(page.last, this.position) || (this.queuePage === page && this.queue.length > 0);
  }

  fallBehind(): void {
    this.behind = true;
    this.queue = [];
    this.hub.detach(this as unknown as Subscriber<never>);
    this.wake();
  }

  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  private async fromWindow(): Promise<void> {
    const page = this.hub.pageAfter(this.position);
    if (!page) {
      if (isAfter(this.hub.window.coveredFrom, this.position)) return this.fallBehind();
      await new Promise<void>((resolve) => {
        this.wakeUp = resolve;
        this.hub.await(this as unknown as Subscriber<never>);
      });
      return;
    }
    await this.take(page);
  }

  /** Catching up: reads the log from the database, a page at a time, until it reaches the window. */
  private async fromLog(): Promise<void> {
    await this.hub.refreshIfIdle();
    const { coveredFrom, db, pageSize } = this.hub.window;
    if (!isAfter(coveredFrom, this.position)) {
      this.mode = "live";
      this.hub.attach(this as unknown as Subscriber<never>);
      return;
    }
    // From the row of the position (which may be partly delivered), not counting its delivered part.
    const [rows, pruned] = await Promise.all([
      readRows(db, this.position.seq, pageSize + this.position.idx + 1),
      prunedThrough(db),
    ]);
    if (this.ended) return;
    const lostRow = this.position.idx >= 0 && rows[0]?.seq !== this.position.seq;
    if (this.position.seq < pruned || (lostRow && this.position.seq <= pruned)) {
      this.expired = true;
      return;
    }
    const changes = positioned(rows, this.position).slice(0, pageSize);
    if (!changes.length) {
      // Nothing after this position in the database: the window holds whatever comes next (unless
      // it moved on meanwhile, when the next read finds the rows it moved past).
      if (!isAfter(this.hub.window.coveredFrom, this.position)) {
        this.mode = "live";
        this.hub.attach(this as unknown as Subscriber<never>);
      }
      return;
    }
    await this.take(new Page(changes));
  }

  /** Translates a page for this subscriber's current rights and queues what it asked for. */
  private async take(page: Page): Promise<void> {
    const viewer = await this.opts.viewer();
    if (!viewer) return this.end();
    if (this.ended || this.behind) return;
    const all = await page.translated(this.opts.reader, viewer);
    if (this.ended || this.behind) return;
    const mine = await this.opts.select(
      all.filter((i) => isAfter(i.pos, this.position)),
      viewer,
    );
    if (this.ended || this.behind) return;
    this.queue = [...mine];
    this.queueViewer = viewer;
    this.queuePage = page;
    this.position = laterOf(page.last, this.position);
  }
}
