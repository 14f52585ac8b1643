// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import {
  adminUrlFromEnv,
  argv,
  createBenchDatabase,
  flag,
  fmt,
  listen,
  machineInfo,
  mb,
  median,
  memoryOf,
  option,
  out,
  positive,
  postgresCpu,
  printHeader,
  ratio3,
  readBody,
  runChild,
  startChild,
  table,
  type Child,
  type Served,
} from "./common";
import { indicatorAt, stixIndicator } from "./indicator-data";

/**
 * Live-update benchmark (issue 4 section 6): graphql-ws subscribers in a process of their own, first
 * on the hub (PostgreSQL), then on a bare graphql-ws server (`useServer` on `ws`, a trivial schema fed
 * by an in-memory emitter), with the same subscriber process, the same subscription document and the
 * same batch rate. Batches of indicators go through the hub's real `POST /ingest?feed=…` (a STIX
 * bundle); the bare server publishes the same indicators when told to (`POST /publish`). For each
 * batch it measures the time from the commit (the hub: the event log row's commit seal; bare: the
 * publish) to the last subscriber holding the whole batch, and the delivered messages/s; then it
 * sends more batches back to back, for the most messages/s each side delivers. Last, it opens 1,000
 * and 10,000 idle subscribers on a fresh hub (and a fresh bare server) and reads their RSS.
 *
 * Nothing here asserts a speed. The exit code is non-zero only when a subscriber missed an event,
 * received one twice or something unexpected, or a connection or an ingest failed.
 *
 *   npm run bench:live -- [--subscribers 1000] [--batches 100] [--batch-size 10] [--rate 1]
 *                         [--burst 20] [--idle 10000] [--orgs 5] [--per-token 20] [--patience 60]
 *                         [--profile dir] [--dump file] [--tiny]
 *
 * The same file is every child: `--serve hub|bare` starts a server and reports its URL over IPC,
 * `--subscriber-process` runs the subscriber process (commands over IPC).
 */

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  tiny: boolean;
  subscribers: number;
  batches: number;
  batchSize: number;
  /** Batches per second. */
  rate: number;
  /** Batches sent back to back after the steady ones, for the most messages/s a side delivers. */
  burst: number;
  idle: number;
  orgs: number;
  perToken: number;
  /** Seconds without any progress after which the missing events count as missed. */
  patience: number;
  adminUrl: string;
  profileDir: string | undefined;
  /** Write every batch's timings (both sides) to this JSON file. */
  dump: string | undefined;
}

function readOptions(): Options {
  const tiny = flag("tiny", "BENCH_TINY");
  const int = (name: string, env: string, full: number, small: number) =>
    Math.round(positive(name, env, tiny ? small : full));
  return {
    tiny,
    subscribers: int("subscribers", "BENCH_SUBSCRIBERS", 1000, 20),
    batches: int("batches", "BENCH_BATCHES", 100, 5),
    batchSize: int("batch-size", "BENCH_BATCH_SIZE", 10, 10),
    rate: positive("rate", "BENCH_RATE", tiny ? 5 : 1),
    burst: nonNegative(option("burst", "BENCH_BURST"), tiny ? 2 : 20),
    idle: int("idle", "BENCH_IDLE", 10_000, 200),
    orgs: int("orgs", "BENCH_ORGS", 5, 5),
    perToken: int("per-token", "BENCH_PER_TOKEN", 20, 20),
    patience: positive("patience", "BENCH_PATIENCE", 60),
    adminUrl: adminUrlFromEnv(),
    profileDir: option("profile", "BENCH_PROFILE_DIR"),
    dump: option("dump", "BENCH_DUMP"),
  };
}

/** --burst may be 0 (no back-to-back phase). */
function nonNegative(raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--burst (BENCH_BURST) must be a whole number >= 0, got "${raw}"`);
  return n;
}

const SELF = fileURLToPath(import.meta.url);
const now = () => Date.now();
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Both servers answer this document; the variables carry the subscriber's filter (or none). */
const SUBSCRIPTION = `subscription Live($filter: IndicatorEventFilter) {
  indicatorEvents(filter: $filter) { kind cursor id indicator { type value confidence sourceCount lastSeen } }
}`;
/** Every other subscriber asks for GREEN only (the hub then filters by report, through its loaders). */
const filterOf = (i: number) => (i % 2 ? { tlps: ["GREEN"] } : null);

/** How many warm-up indicators a run may send (one per attempt, per side and phase). */
const WARM_SPACE = 1000;

// ---------------------------------------------------------------------------------------------
// the servers (children)

/**
 * The hub as production runs it: createApp, HUB_ENV=production, the request log to this child's
 * stdout (/dev/null), and the default per-token rate limit (the bench spreads subscribers over
 * tokens instead of raising it).
 */
async function serveHubDefaults(): Promise<Served> {
  const databaseUrl = process.env.BENCH_CHILD_DATABASE_URL;
  if (!databaseUrl) throw new Error("BENCH_CHILD_DATABASE_URL is not set");
  const { createApp } = await import("../src/app");
  const { testConfig } = await import("../src/config");
  const app = await createApp(
    testConfig({ HUB_ENV: "production", HOST: "127.0.0.1", PORT: 0, DATABASE_URL: databaseUrl, LOG_LEVEL: "info" }),
  );
  return { url: app.url, stop: () => app.dispose() };
}

interface BareEvent {
  indicatorEvents: {
    kind: "CREATED";
    cursor: string;
    id: string;
    indicator: { type: string; value: string; confidence: number; sourceCount: number; lastSeen: string };
  };
}

/** What the bare server sends for indicator i of log row `seq`: the hub's shape, fixed values. */
function bareEvent(i: number, seq: number, idx: number): BareEvent {
  const g = indicatorAt(i);
  return {
    indicatorEvents: {
      kind: "CREATED",
      cursor: Buffer.from(JSON.stringify(["event", seq, idx])).toString("base64url"),
      id: Buffer.from(`Indicator:${i + 1}`).toString("base64url"),
      indicator: { type: g.type, value: g.value, confidence: g.confidence, sourceCount: 1, lastSeen: g.validFrom },
    },
  };
}

/** A push/pull queue per subscription: the emitter pushes, graphql-ws pulls when it has sent the last. */
class Queue<T> implements AsyncIterableIterator<T> {
  private items: T[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | null = null;
  private done = false;
  constructor(private readonly onEnd: () => void) {}
  push(item: T) {
    if (this.done) return;
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      w({ done: false, value: item });
    } else this.items.push(item);
  }
  next(): Promise<IteratorResult<T>> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve({ done: false, value: item });
    if (this.done) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => (this.waiter = resolve));
  }
  return(): Promise<IteratorResult<T>> {
    this.done = true;
    this.items = [];
    this.onEnd();
    this.waiter?.({ done: true, value: undefined });
    this.waiter = null;
    return Promise.resolve({ done: true, value: undefined });
  }
  [Symbol.asyncIterator]() {
    return this;
  }
}

/**
 * The bare fan-out: graphql-ws `useServer` on a `ws` server on node:http, the same subscription
 * document (a schema of the same shape, no authentication, no filter applied), each subscription an
 * in-memory queue fed by an emitter. `POST /publish` with `{ indices }` takes the time, pushes every
 * event into every queue, and answers `{ at }`.
 */
async function serveBare(): Promise<Served> {
  const { buildSchema } = await import("graphql");
  const { WebSocketServer } = await import("ws");
  const { useServer } = await import("graphql-ws/use/ws");
  const schema = buildSchema(`
    type Query { hello: String }
    enum EventKind { CREATED UPDATED REVOKED REMOVED }
    enum Tlp { CLEAR GREEN AMBER AMBER_STRICT RED }
    enum ObservableType { IPV4 IPV6 DOMAIN URL EMAIL SHA256 MD5 }
    input IndicatorEventFilter { tlps: [Tlp!] }
    type Indicator { type: ObservableType! value: String! confidence: Int sourceCount: Int! lastSeen: String }
    type IndicatorEvent { kind: EventKind! cursor: String! id: ID! indicator: Indicator }
    type Subscription { indicatorEvents(filter: IndicatorEventFilter): IndicatorEvent! }`);
  const queues = new Set<Queue<BareEvent>>();
  let seq = 0;
  // POST /publish {batch, indices}: the time, then every event into every queue (the hub's ingest
  // also arrives over HTTP on the server's own event loop).
  const server = createServer((req, res) => {
    if (req.method !== "POST" || req.url !== "/publish") return void res.writeHead(404).end();
    void readBody(req).then((raw) => {
      const p = JSON.parse(raw) as { indices: number[] };
      seq++;
      const events = p.indices.map((i, idx) => bareEvent(i, seq, idx));
      const at = now();
      for (const e of events) for (const q of queues) q.push(e);
      const body = JSON.stringify({ at });
      res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) }).end(body);
    });
  });
  const wss = new WebSocketServer({ server, path: "/graphql" });
  const disposable = useServer(
    {
      schema,
      roots: {
        subscription: {
          indicatorEvents: () => {
            const q: Queue<BareEvent> = new Queue(() => queues.delete(q));
            queues.add(q);
            return q;
          },
        },
      },
    },
    wss,
  );
  const url = await listen(server);
  return {
    url,
    stop: async () => {
      for (const c of wss.clients) c.close(1001, "Server shutting down");
      await disposable.dispose();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the subscriber process

interface ConnectRequest {
  url: string;
  /** One per subscriber: its token (hub) or null (bare). */
  tokens: (string | null)[];
  /** The subscriber's number, for its filter. */
  firstIndex: number;
}

interface Collected {
  subscribers: number;
  batches: number;
  /** Per subscriber, per batch: when it held the batch's last event (ms since the epoch, NaN if never). */
  done: Float64Array;
  /** Per batch: the first receipt of any of its events by any subscriber. */
  firstAt: Float64Array;
  /** Per batch: the event-log rows (from the cursors) its events came from. */
  minSeq: Float64Array;
  maxSeq: Float64Array;
  received: number;
  missing: number;
  duplicates: number;
  unexpected: number;
  wrongKind: number;
  errors: string[];
  closedEarly: number;
}

/** Runs in the subscriber child: graphql-ws clients, counting what each receives. */
async function subscriberProcess() {
  const { createClient } = await import("graphql-ws");
  const { default: WebSocket } = await import("ws");
  type Client = ReturnType<typeof createClient>;
  const limit = Number(process.env.BENCH_INDEX_LIMIT ?? "0");
  const warmStart = Number(process.env.BENCH_WARM_START ?? "0");
  // value -> index, for every indicator either side may send.
  const indexOf = new Map<string, number>();
  for (let i = 0; i < limit; i++) indexOf.set(indicatorAt(i).value, i);

  interface Sub {
    client: Client;
    warm: Set<number>;
    counts: Uint8Array | null;
    batchCount: Uint16Array | null;
    unexpected: number;
    wrongKind: number;
    errors: string[];
    closed: boolean;
  }
  let subs: Sub[] = [];
  // The measured phase: batches x batchSize indices, [base, base + measured).
  let base = 0;
  let batches = 0;
  let batchSize = 1;
  let measured = 0;
  let done = new Float64Array(0);
  let firstAt = new Float64Array(0);
  let minSeq = new Float64Array(0);
  let maxSeq = new Float64Array(0);
  let received = 0;
  let completions = 0;

  const seqOf = (cursor: unknown): number => {
    try {
      const v: unknown = JSON.parse(Buffer.from(String(cursor), "base64url").toString("utf8"));
      return Array.isArray(v) && typeof v[1] === "number" ? v[1] : NaN;
    } catch {
      return NaN;
    }
  };

  function open(url: string, token: string | null, n: number): Promise<Sub> {
    return new Promise((resolve) => {
      let settled = false;
      const sub: Sub = {
        client: undefined as unknown as Client,
        warm: new Set(),
        counts: null,
        batchCount: null,
        unexpected: 0,
        wrongKind: 0,
        errors: [],
        closed: false,
      };
      const s = subs.length;
      sub.client = createClient({
        url,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        lazy: false,
        retryAttempts: 0,
        onNonLazyError: () => {},
        on: {
          connected: () => {
            if (settled) return;
            settled = true;
            resolve(sub);
          },
          closed: (e) => {
            sub.closed = true;
            const code = (e as { code?: number }).code;
            if (!settled) {
              settled = true;
              sub.errors.push(`could not connect (close ${code})`);
              resolve(sub);
            }
          },
        },
      });
      sub.client.subscribe<BareEvent["indicatorEvents"] extends infer E ? { indicatorEvents: E } : never>(
        { query: SUBSCRIPTION, variables: { filter: filterOf(n) } },
        {
          next: (r) => {
            const t = now();
            const ev = r.data?.indicatorEvents;
            if (r.errors?.length || !ev) {
              if (sub.errors.length < 5) sub.errors.push(JSON.stringify(r.errors ?? r).slice(0, 300));
              return;
            }
            const idx = indexOf.get(ev.indicator?.value ?? "");
            if (idx === undefined) return void sub.unexpected++;
            if (ev.kind !== "CREATED") sub.wrongKind++;
            if (idx >= warmStart) return void sub.warm.add(idx);
            const rel = idx - base;
            if (rel < 0 || rel >= measured || !sub.counts || !sub.batchCount) return void sub.unexpected++;
            received++;
            const c = (sub.counts[rel] ?? 0) + 1;
            sub.counts[rel] = c;
            if (c !== 1) return;
            const b = Math.floor(rel / batchSize);
            if (!((firstAt[b] as number) <= t)) firstAt[b] = t;
            const seq = seqOf(ev.cursor);
            if (!(seq >= (minSeq[b] as number))) minSeq[b] = seq;
            if (!(seq <= (maxSeq[b] as number))) maxSeq[b] = seq;
            const held = (sub.batchCount[b] ?? 0) + 1;
            sub.batchCount[b] = held;
            if (held === batchSize) {
              done[s * batches + b] = t;
              completions++;
            }
          },
          error: (e) => {
            if (sub.errors.length < 5) sub.errors.push(`subscription error: ${JSON.stringify(e).slice(0, 300)}`);
          },
          complete: () => {
            if (sub.errors.length < 5) sub.errors.push("subscription completed by the server");
          },
        },
      );
      subs.push(sub);
    });
  }

  const handlers: Record<string, (arg: never) => Promise<unknown> | unknown> = {
    /** Opens subscribers, at most 100 connecting at once; answers how many failed. */
    connect: async (req: ConnectRequest) => {
      let failed = 0;
      for (let i = 0; i < req.tokens.length; i += 100) {
        const wave = req.tokens
          .slice(i, i + 100)
          .map((token, k) => open(req.url, token, req.firstIndex + i + k).then((s) => s.closed && failed++));
        await Promise.all(wave);
      }
      return { subscribers: subs.length, failed };
    },
    /** How many subscribers hold warm-up indicator i. */
    seen: (i: number) => subs.filter((s) => s.warm.has(i)).length,
    /** Starts counting the measured phase (every current subscriber). */
    expect: (p: { base: number; batches: number; batchSize: number }) => {
      base = p.base;
      batches = p.batches;
      batchSize = p.batchSize;
      measured = batches * batchSize;
      done = new Float64Array(subs.length * batches).fill(NaN);
      firstAt = new Float64Array(batches).fill(NaN);
      minSeq = new Float64Array(batches).fill(NaN);
      maxSeq = new Float64Array(batches).fill(NaN);
      received = completions = 0;
      for (const s of subs) {
        s.counts = new Uint8Array(measured);
        s.batchCount = new Uint16Array(batches);
      }
      return true;
    },
    progress: () => ({ received, completions, expected: subs.length * batches }),
    collect: (): Collected => {
      let missing = 0;
      let duplicates = 0;
      for (const s of subs)
        for (const c of s.counts ?? []) {
          if (c === 0) missing++;
          else if (c > 1) duplicates += c - 1;
        }
      return {
        subscribers: subs.length,
        batches,
        done,
        firstAt,
        minSeq,
        maxSeq,
        received,
        missing,
        duplicates,
        unexpected: subs.reduce((n, s) => n + s.unexpected, 0),
        wrongKind: subs.reduce((n, s) => n + s.wrongKind, 0),
        errors: subs.flatMap((s) => s.errors).slice(0, 10),
        closedEarly: subs.filter((s) => s.closed).length,
      };
    },
    /** Closes every subscriber (1000) and forgets them. */
    close: async () => {
      const all = subs;
      subs = [];
      measured = 0;
      await Promise.all(all.map((s) => s.client.dispose()));
      return true;
    },
    cpu: () => {
      const { user, system } = process.cpuUsage();
      return user + system;
    },
  };
  process.on("message", (m: { id: number; cmd: string; arg: unknown }) => {
    void (async () => {
      try {
        const handler = handlers[m.cmd];
        if (!handler) throw new Error(`unknown command ${m.cmd}`);
        process.send?.({ id: m.id, ok: true, result: await handler(m.arg as never) });
      } catch (e) {
        process.send?.({ id: m.id, ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready: true });
}

/** The parent's handle on the subscriber process. */
class Subscribers {
  private next = 1;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private constructor(private readonly proc: ChildProcess) {
    proc.on("message", (m: { id?: number; ok?: boolean; result?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p || m.id === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    proc.once("exit", (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`the subscriber process exited (${code})`));
      this.pending.clear();
    });
  }

  static start(indexLimit: number, warmStart: number): Promise<Subscribers> {
    // "advanced" serialisation carries typed arrays as they are.
    const proc = spawn(process.execPath, [...process.execArgv, SELF, "--subscriber-process"], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, BENCH_INDEX_LIMIT: String(indexLimit), BENCH_WARM_START: String(warmStart) },
      serialization: "advanced",
    });
    return new Promise((resolve, reject) => {
      proc.once("exit", (code) => reject(new Error(`the subscriber process exited with code ${code}`)));
      proc.once("message", () => resolve(new Subscribers(proc)));
    });
  }

  get pid() {
    return this.proc.pid ?? 0;
  }

  call<T>(cmd: string, arg?: unknown): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.proc.send({ id, cmd, arg });
    });
  }

  async stop() {
    if (this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc.once("exit", r));
    this.proc.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------
// the parent

interface Seeded {
  publisherToken: string;
  /** Subscriber tokens: token k belongs to organisation k % orgs. */
  tokens: string[];
  orgNames: string[];
}

/** Organisations, accounts and tokens, straight into the bench database. */
async function seed(url: string, opts: Options, tokenCount: number): Promise<Seeded> {
  const { openDatabase } = await import("../src/db/client");
  const { World } = await import("../test/harness");
  const database = await openDatabase({ url, poolMax: 10 });
  try {
    await database.migrate();
    const world = new World(database);
    const tag = randomBytes(3).toString("hex");
    const publisher = await world.org("MEMBER_STATE", `Bench publishing CERT ${tag}`);
    const publisherToken = (await world.account(publisher, "ANALYST")).token;
    const orgs: Awaited<ReturnType<typeof world.org>>[] = [];
    for (let k = 0; k < opts.orgs; k++) orgs.push(await world.org("MEMBER_STATE", `Bench CERT ${k + 1} ${tag}`));
    const tokens: string[] = new Array<string>(tokenCount);
    for (let k = 0; k < tokenCount; k += 10)
      await Promise.all(
        Array.from({ length: Math.min(10, tokenCount - k) }, async (_, j) => {
          const org = orgs[(k + j) % orgs.length];
          if (!org) throw new Error("no organisation");
          tokens[k + j] = (await world.account(org, "READER")).token;
        }),
      );
    return { publisherToken, tokens, orgNames: orgs.map((o) => o.name) };
  } finally {
    await database.close();
  }
}

/** The subscriber tokens for subscribers [from, to): perToken subscribers share a token. */
const tokensFor = (s: Seeded, opts: Options, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => s.tokens[Math.floor((from + i) / opts.perToken)] ?? null);

const wsUrl = (url: string) => `${url.replace(/^http/, "ws")}/graphql`;

/** Nearest-rank percentile of the finite values. */
function percentile(xs: number[], p: number): number {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] as number;
}

/** One side's way of sending batches. */
interface Sender {
  /** Sends batch b (indices), resolves once the side has it: the hub's ingest answered, or the bare publish done. */
  send(b: number, indices: number[]): Promise<void>;
  /** Sends one warm-up indicator. */
  warm(index: number): Promise<void>;
}

interface PhaseResult {
  side: "hub" | "bare";
  collected: Collected;
  /** Per batch: its commit (hub: event-log seal; bare: publish), ms since the epoch. */
  origin: number[];
  /** hub: per batch, when the ingest's answer arrived, and how long the request took. */
  answeredAt?: number[];
  requestMs?: number[];
  /** Batches sent later than scheduled by more than one interval. */
  late: number;
  seconds: number;
  serverCpuS: number;
  clientCpuS: number;
  pgCpuS: number | undefined;
  rssIdleBefore: number | undefined;
  rssAfter: number | undefined;
  hwm: number | undefined;
  /** hub: database transactions and event-log reads per batch (from pg_stat, approximate). */
  xactsPerBatch?: number;
  logReadsPerBatch?: number;
  /** hub: the pg_stat counters when the measured batches started. */
  counters0?: { xacts: number; logReads: number };
  problems: string[];
}

/** The bare side's sender: POST /publish; `publishedAt[b]` is when the server published batch b. */
function publishTo(server: Child, publishedAt: number[]): Sender {
  const publish = async (indices: number[]) => {
    const res = await fetch(`${server.url}/publish`, { method: "POST", body: JSON.stringify({ indices }) });
    return ((await res.json()) as { at: number }).at;
  };
  return {
    send: async (b, indices) => void (publishedAt[b] = await publish(indices)),
    warm: async (i) => void (await publish([i])),
  };
}

interface IdleStep {
  subscribers: number;
  rss: number | undefined;
  cpuPct: number;
  pgCpuPct: number | undefined;
}

type Summary = ReturnType<typeof summarize>;

/** Per-batch latencies of a steady run, from each batch's origin (commit or publish). */
function summarize(r: PhaseResult) {
  const { done, subscribers, batches } = r.collected;
  const lastLat: number[] = [];
  const medianLat: number[] = [];
  const firstLat: number[] = [];
  const sinceAnswer: number[] = [];
  let overlapped = 0;
  let previousLast = NaN;
  for (let b = 0; b < batches; b++) {
    const times: number[] = [];
    for (let s = 0; s < subscribers; s++) times.push(done[s * batches + b] as number);
    const origin = r.origin[b] ?? NaN;
    // A batch some subscriber never completed has no "last subscriber" time (and fails the checks).
    const last = times.every(Number.isFinite) ? Math.max(...times) : NaN;
    lastLat.push(last - origin);
    // Committed while the previous batch was still on its way: it waits behind that one.
    if (origin < previousLast) overlapped++;
    previousLast = last;
    medianLat.push(median(times.filter(Number.isFinite)) - origin);
    firstLat.push((r.collected.firstAt[b] ?? NaN) - origin);
    if (r.answeredAt) sinceAnswer.push(last - (r.answeredAt[b] ?? NaN));
  }
  return {
    lastP50: percentile(lastLat, 0.5),
    lastP90: percentile(lastLat, 0.9),
    lastP99: percentile(lastLat, 0.99),
    lastMax: percentile(lastLat, 1),
    medianP50: percentile(medianLat, 0.5),
    firstP50: percentile(firstLat, 0.5),
    sinceAnswerP50: sinceAnswer.length ? percentile(sinceAnswer, 0.5) : undefined,
    sinceAnswerP99: sinceAnswer.length ? percentile(sinceAnswer, 0.99) : undefined,
    requestP50: r.requestMs ? percentile(r.requestMs, 0.5) : undefined,
    requestP99: r.requestMs ? percentile(r.requestMs, 0.99) : undefined,
    perSecond: r.collected.received / r.seconds,
    overlapped,
  };
}

/** Sends warm-up indicators until one reaches every subscriber: then every subscription is live. */
async function warmUp(
  subs: Subscribers,
  sender: Sender,
  expected: number,
  nextWarm: () => number,
  problems: string[],
  label: string,
) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const i = nextWarm();
    await sender.warm(i);
    const until = now() + 30_000;
    let seen = 0;
    while (now() < until) {
      seen = await subs.call<number>("seen", i);
      if (seen >= expected) return;
      await sleep(50);
    }
    if (attempt === 4) problems.push(`${label}: only ${seen} of ${expected} subscribers received a warm-up event`);
  }
}

async function main() {
  const opts = readOptions();
  // Pauses that let a figure settle (RSS, PostgreSQL's statistics): short in tiny mode, whose
  // figures mean nothing; the checks never wait on them.
  const settle = (ms: number) => sleep(opts.tiny ? ms / 10 : ms);
  const machine = machineInfo();
  const nofile = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
  const need = Math.max(opts.idle, opts.subscribers) + 200;
  if (nofile && nofile !== "unlimited" && Number(nofile) < need)
    throw new Error(
      `open files limit ${nofile} is below the ${need} sockets this run opens per process: ` +
        `run it after \`ulimit -n ${need}\` (or with --idle smaller)`,
    );
  // Indicator indices: the steady batches, then the back-to-back ones, then warm-up indicators.
  const warmStart = (opts.batches + opts.burst) * opts.batchSize;
  const problems: string[] = [];
  let warmNext = warmStart;
  const nextWarm = () => warmNext++;

  const bench = await createBenchDatabase(opts.adminUrl);
  let sql: postgres.Sql | undefined;
  let subs: Subscribers | undefined;
  const children: Child[] = [];
  const stopChild = async (c: Child) => {
    children.splice(children.indexOf(c), 1);
    await c.stop();
  };
  try {
    const tokenCount = Math.ceil(Math.max(opts.subscribers, opts.idle) / opts.perToken);
    const seeded = await seed(bench.url, opts, tokenCount);
    sql = postgres(bench.url, { max: 1, onnotice: () => {} });
    const sp = await Subscribers.start(warmStart + WARM_SPACE, warmStart);
    subs = sp;

    printHeader("Live-update benchmark", opts.tiny, machine, bench.pgVersion);
    out(
      `subscribers: ${fmt(opts.subscribers)} graphql-ws clients in one process of their own, readers of ` +
        `${opts.orgs} member states (${opts.perToken} per token, ${fmt(Math.ceil(opts.subscribers / opts.perToken))} tokens), ` +
        "every other one filtering tlps: [GREEN]",
    );
    out(
      `load: ${opts.batches} batches of ${opts.batchSize} new GREEN STIX indicators at ${opts.rate}/s ` +
        `(${fmt(opts.subscribers * opts.batchSize * opts.rate)} messages/s offered); hub: POST /ingest?feed=… by ` +
        "another member state's analyst; bare: graphql-ws useServer on ws, in-memory emitter, the same document",
    );
    out(
      "latency: commit (hub: the event-log row's seal, clock_timestamp() in the commit-time trigger; bare: " +
        "the publish) to the last subscriber holding the whole batch; 1 ms resolution, same clock",
    );
    if (opts.burst)
      out(`then: ${opts.burst} batches back to back (each once the previous was taken), for the most messages/s`);
    out(`idle: ${fmt(opts.subscribers)} then ${fmt(opts.idle)} subscribers on a fresh server of each side`);
    out();

    const cpuOf = async (c: Child) => (await c.cpu()) / 1e6;
    const subsCpu = async () => ((await subs?.call<number>("cpu")) ?? 0) / 1e6;

    /** pg_stat counters of the bench database: transactions, and reads of event_log. */
    const dbCounters = async () => {
      const [r] = await (sql as postgres.Sql)<{ xacts: string; log_reads: string }[]>`
        select
          (select xact_commit + xact_rollback from pg_stat_database where datname = current_database()) as xacts,
          (select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) from pg_stat_user_tables
            where relname = 'event_log') as log_reads`;
      return { xacts: Number(r?.xacts ?? 0), logReads: Number(r?.log_reads ?? 0) };
    };

    /** Opens the measured subscribers on a server and waits until a warm-up event reached each. */
    const connectAll = async (side: "hub" | "bare", server: Child, sender: Sender) => {
      const connected = await sp.call<{ subscribers: number; failed: number }>("connect", {
        url: wsUrl(server.url),
        tokens: side === "hub" ? tokensFor(seeded, opts, 0, opts.subscribers) : new Array(opts.subscribers).fill(null),
        firstIndex: 0,
      } satisfies ConnectRequest);
      if (connected.failed) problems.push(`${side}: ${connected.failed} subscribers could not connect`);
      await warmUp(sp, sender, opts.subscribers, nextWarm, problems, side);
      await settle(1500);
      return memoryOf(server.pid)?.rss;
    };

    /**
     * Sends batches [from, from + count) to one side, at `rate` batches/s (each sent on schedule, or
     * when the previous one was taken if that is later) or back to back (rate null), then waits until
     * every subscriber holds every batch, or until nothing arrived for --patience seconds.
     */
    const runBatches = async (
      side: "hub" | "bare",
      server: Child,
      sender: Sender,
      from: number,
      count: number,
      rate: number | null,
    ): Promise<PhaseResult> => {
      await sp.call("expect", { base: from * opts.batchSize, batches: count, batchSize: opts.batchSize });
      const counters0 = side === "hub" ? await dbCounters() : undefined;
      const [cpu0, client0, pg0] = [await cpuOf(server), await subsCpu(), postgresCpu()];
      const t0 = now() + 200;
      const interval = rate ? 1000 / rate : 0;
      let late = 0;
      for (let b = 0; b < count; b++) {
        if (rate) {
          const at = t0 + b * interval;
          if (now() > at + interval) late++;
          await sleep(at - now());
        } else if (b === 0) await sleep(t0 - now());
        const indices = Array.from({ length: opts.batchSize }, (_, k) => (from + b) * opts.batchSize + k);
        await sender.send(b, indices);
      }
      // Wait for every subscriber to hold every batch (or for progress to stop: then they missed some).
      let last = await sp.call<{ received: number; completions: number; expected: number }>("progress");
      let lastMove = now();
      while (last.completions < last.expected && now() - lastMove < opts.patience * 1000) {
        await sleep(100);
        const p = await sp.call<typeof last>("progress");
        if (p.received !== last.received) lastMove = now();
        last = p;
      }
      const collected = await sp.call<Collected>("collect");
      const lastDone = collected.done.reduce((m, t) => (t > m ? t : m), -Infinity);
      const [cpu1, client1, pg1] = [await cpuOf(server), await subsCpu(), postgresCpu()];
      const mem = memoryOf(server.pid);
      const c = collected;
      const mine: string[] = [];
      if (c.missing || c.duplicates || c.unexpected || c.wrongKind || c.errors.length || c.closedEarly)
        mine.push(
          `${side}${rate ? "" : " (back to back)"}: ${c.missing} events missed, ${c.duplicates} duplicated, ` +
            `${c.unexpected} unexpected, ${c.wrongKind} not CREATED, ${c.closedEarly} sockets closed early; ` +
            c.errors.join(" | "),
        );
      problems.push(...mine);
      return {
        side,
        collected,
        origin: [],
        late,
        seconds: (lastDone - t0) / 1000,
        serverCpuS: cpu1 - cpu0,
        clientCpuS: client1 - client0,
        pgCpuS: pg0 !== undefined && pg1 !== undefined ? (pg1 - pg0) / 1e6 : undefined,
        rssIdleBefore: undefined,
        rssAfter: mem?.rss,
        hwm: mem?.hwm,
        problems: mine,
        ...(counters0 ? { counters0 } : {}),
      };
    };

    // ---- the hub ------------------------------------------------------------------------------
    const hub = await startChild(
      SELF,
      ["--serve", "hub"],
      "hub",
      { BENCH_CHILD_DATABASE_URL: bench.url },
      opts.profileDir && `${opts.profileDir}/hub`,
    );
    children.push(hub);
    const created = await fetch(`${hub.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${seeded.publisherToken}` },
      body: JSON.stringify({
        query: `mutation($input: CreateFeedInput!) { createFeed(input: $input) { id } }`,
        variables: { input: { name: "Bench live feed", format: "STIX", defaultMarking: { tlp: "GREEN" } } },
      }),
    });
    const feedBody = (await created.json()) as { data?: { createFeed?: { id: string } } };
    const feedGid = feedBody.data?.createFeed?.id;
    if (!feedGid) throw new Error(`createFeed failed: ${JSON.stringify(feedBody)}`);

    const ingestTo = (server: Child) => {
      const answeredAt: number[] = [];
      const requestMs: number[] = [];
      const post = async (indices: number[], label: string) => {
        const body =
          `{"type":"bundle","id":"bundle--${randomUUID()}","objects":[` +
          indices.map((i) => stixIndicator(indicatorAt(i))).join(",") +
          "]}";
        const t = performance.now();
        const res = await fetch(`${server.url}/ingest?feed=${encodeURIComponent(feedGid)}`, {
          method: "POST",
          headers: { authorization: `Bearer ${seeded.publisherToken}`, "content-type": "application/stix+json" },
          body,
        });
        const text = await res.text();
        const at = now();
        const ms = performance.now() - t;
        let createdCount = -1;
        try {
          createdCount =
            (JSON.parse(text) as { data?: { ingest?: { reports?: { created?: number } } } }).data?.ingest?.reports
              ?.created ?? -1;
        } catch {
          // counted below
        }
        if (res.status !== 200 || createdCount !== indices.length)
          problems.push(`${label}: HTTP ${res.status}, expected ${indices.length} created: ${text.slice(0, 300)}`);
        return { at, ms };
      };
      const sender: Sender = {
        send: async (b, indices) => {
          const r = await post(indices, `ingest of batch ${b}`);
          answeredAt[b] = r.at;
          requestMs[b] = r.ms;
        },
        warm: async (i) => void (await post([i], "warm-up ingest")),
      };
      return { sender, answeredAt, requestMs };
    };

    const hubRssBefore = await connectAll("hub", hub, ingestTo(hub).sender);
    const hubIngest = ingestTo(hub);
    const hubRun = await runBatches("hub", hub, hubIngest.sender, 0, opts.batches, opts.rate);
    hubRun.rssIdleBefore = hubRssBefore;
    hubRun.answeredAt = hubIngest.answeredAt;
    hubRun.requestMs = hubIngest.requestMs;
    // Backends report their statistics within a second of going idle.
    await settle(1500);
    if (hubRun.counters0) {
      const c1 = await dbCounters();
      hubRun.xactsPerBatch = (c1.xacts - hubRun.counters0.xacts) / opts.batches;
      hubRun.logReadsPerBatch = (c1.logReads - hubRun.counters0.logReads) / opts.batches;
    }
    // Commit times: the seal of each batch's event-log rows (the cursors name them).
    const seqs = Array.from(hubRun.collected.maxSeq).filter(Number.isFinite);
    const sealRows = await sql<{ seq: string; ms: number }[]>`
      select seq, extract(epoch from created_at)::float8 * 1000 as ms from event_log where seq = any(${seqs})`;
    const sealOf = new Map(sealRows.map((r) => [Number(r.seq), Number(r.ms)]));
    hubRun.origin = Array.from(hubRun.collected.maxSeq, (s) => sealOf.get(s) ?? NaN);
    const rowsPerBatch = Array.from(hubRun.collected.minSeq, (lo, b) => (hubRun.collected.maxSeq[b] ?? NaN) - lo + 1);
    const hubBurst = opts.burst
      ? await runBatches("hub", hub, ingestTo(hub).sender, opts.batches, opts.burst, null)
      : undefined;
    await sp.call("close");
    await stopChild(hub);

    // ---- bare graphql-ws ----------------------------------------------------------------------
    const bare = await startChild(
      SELF,
      ["--serve", "bare"],
      "bare graphql-ws",
      {},
      opts.profileDir && `${opts.profileDir}/bare`,
    );
    children.push(bare);
    const bareRssBefore = await connectAll("bare", bare, publishTo(bare, []));
    const publishedAt: number[] = [];
    const bareRun = await runBatches("bare", bare, publishTo(bare, publishedAt), 0, opts.batches, opts.rate);
    bareRun.rssIdleBefore = bareRssBefore;
    bareRun.origin = publishedAt;
    const bareBurst = opts.burst
      ? await runBatches("bare", bare, publishTo(bare, []), opts.batches, opts.burst, null)
      : undefined;
    await sp.call("close");
    await stopChild(bare);

    // ---- idle subscribers ----------------------------------------------------------------------
    const idleSeconds = opts.tiny ? 0.2 : 5;
    const idle = async (side: "hub" | "bare") => {
      const server = await startChild(
        SELF,
        ["--serve", side],
        side,
        side === "hub" ? { BENCH_CHILD_DATABASE_URL: bench.url } : {},
        opts.profileDir && `${opts.profileDir}/${side}-idle`,
      );
      children.push(server);
      const sender = side === "bare" ? publishTo(server, []) : ingestTo(server).sender;
      await settle(1000);
      const rss0 = memoryOf(server.pid)?.rss;
      const steps: IdleStep[] = [];
      let open = 0;
      for (const target of [opts.subscribers, opts.idle]) {
        if (target <= open) continue;
        const r = await sp.call<{ failed: number }>("connect", {
          url: wsUrl(server.url),
          tokens: side === "hub" ? tokensFor(seeded, opts, open, target) : new Array(target - open).fill(null),
          firstIndex: open,
        } satisfies ConnectRequest);
        if (r.failed) problems.push(`${side} idle: ${r.failed} subscribers could not connect`);
        open = target;
        await warmUp(sp, sender, open, nextWarm, problems, `${side} idle`);
        await settle(3000);
        const rss = memoryOf(server.pid)?.rss;
        // What the server spends while nothing is sent (token re-checks, polls, timers).
        const [c0, pg0] = [await cpuOf(server), postgresCpu()];
        await sleep(idleSeconds * 1000);
        const [c1, pg1] = [await cpuOf(server), postgresCpu()];
        steps.push({
          subscribers: open,
          rss,
          cpuPct: ((c1 - c0) / idleSeconds) * 100,
          pgCpuPct: pg0 !== undefined && pg1 !== undefined ? ((pg1 - pg0) / 1e6 / idleSeconds) * 100 : undefined,
        });
      }
      await sp.call("close");
      await stopChild(server);
      return { side, rss0, steps };
    };
    const idles = [await idle("hub"), await idle("bare")];

    // ---- report --------------------------------------------------------------------------------
    const hubS = summarize(hubRun);
    const bareS = summarize(bareRun);
    const ratio = hubS.lastP99 / bareS.lastP99;
    const f1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? "" : fmt(n, 1));
    const mbOf = (n: number | undefined) => (n === undefined ? "" : fmt(mb(n)));
    const label = (side: "hub" | "bare") => (side === "hub" ? "hub (PostgreSQL)" : "bare graphql-ws");
    const usPerMessage = (r: PhaseResult) => (r.serverCpuS * 1e6) / Math.max(1, r.collected.received);

    out(`## Fan-out at ${opts.rate} batches/s (ms from the commit to the last subscriber; percentiles over batches)`);
    table(
      [
        "side",
        "p50",
        "p90",
        "p99",
        "max",
        "median sub p50",
        "first sub p50",
        "messages/s",
        "server cpu s",
        "server µs/msg",
        "subscribers cpu s",
        "postgres cpu s",
        "RSS before MB",
        "RSS after MB",
      ],
      [
        { run: hubRun, sum: hubS },
        { run: bareRun, sum: bareS },
      ].map(({ run, sum }) => [
        label(run.side),
        f1(sum.lastP50),
        f1(sum.lastP90),
        f1(sum.lastP99),
        f1(sum.lastMax),
        f1(sum.medianP50),
        f1(sum.firstP50),
        fmt(sum.perSecond),
        fmt(run.serverCpuS, 1),
        fmt(usPerMessage(run)),
        fmt(run.clientCpuS, 1),
        run.pgCpuS === undefined ? "" : fmt(run.pgCpuS, 1),
        mbOf(run.rssIdleBefore),
        mbOf(run.rssAfter),
      ]),
    );
    out();
    out(`hub p99 / bare p99: ${fmt(ratio, 2)}x   goal: <= 2x   (p50: ${fmt(hubS.lastP50 / bareS.lastP50, 2)}x)`);
    out(
      `hub, from the ingest's answer instead of the commit: p50 ${f1(hubS.sinceAnswerP50)} ms, ` +
        `p99 ${f1(hubS.sinceAnswerP99)} ms; the ingest request itself: p50 ${f1(hubS.requestP50)} ms, ` +
        `p99 ${f1(hubS.requestP99)} ms`,
    );
    out(
      `hub per batch: ${f1(hubRun.xactsPerBatch)} database transactions, ${f1(hubRun.logReadsPerBatch)} reads of ` +
        "event_log (pg_stat, approximate: includes the safety-net polls); event-log rows per batch: " +
        [...new Set(rowsPerBatch.filter(Number.isFinite))].join(", "),
    );
    out(
      `batches committed while the previous one was still being delivered (they wait behind it): ` +
        `hub ${hubS.overlapped}, bare ${bareS.overlapped}`,
    );
    if (hubRun.late || bareRun.late)
      out(`batches sent more than one interval late: hub ${hubRun.late}, bare ${bareRun.late}`);
    out(
      `messages/s: every delivered event from the first batch to the last delivery (hub ${fmt(hubRun.seconds, 1)} s, ` +
        `bare ${fmt(bareRun.seconds, 1)} s): the offered load unless a side falls behind`,
    );
    const bursts = [hubBurst, bareBurst].filter((r): r is PhaseResult => r !== undefined);
    if (bursts.length) {
      out();
      out(`## Back to back: ${opts.burst} more batches, each sent once the previous one was taken`);
      table(
        ["side", "messages/s", "seconds", "server cpu s", "server µs/msg", "subscribers cpu s", "postgres cpu s"],
        bursts.map((r) => [
          label(r.side),
          fmt(r.collected.received / r.seconds),
          fmt(r.seconds, 1),
          fmt(r.serverCpuS, 1),
          fmt(usPerMessage(r)),
          fmt(r.clientCpuS, 1),
          r.pgCpuS === undefined ? "" : fmt(r.pgCpuS, 1),
        ]),
      );
    }
    out();
    out(`## Idle subscribers (a fresh server each; RSS once a warm-up event reached all, then ${idleSeconds} s idle)`);
    const stepOf = (r: (typeof idles)[number], n: number) => r.steps.find((x) => x.subscribers === n);
    const perSubscriberKb = (r: (typeof idles)[number]) => {
      const a = stepOf(r, opts.subscribers)?.rss;
      const z = stepOf(r, opts.idle)?.rss;
      return a !== undefined && z !== undefined && opts.idle > opts.subscribers
        ? (z - a) / (opts.idle - opts.subscribers) / 1024
        : undefined;
    };
    table(
      [
        "side",
        "RSS 0 MB",
        `RSS ${fmt(opts.subscribers)} MB`,
        `RSS ${fmt(opts.idle)} MB`,
        "KB / extra subscriber",
        `cpu % idle at ${fmt(opts.subscribers)}`,
        `cpu % idle at ${fmt(opts.idle)}`,
        `postgres cpu % at ${fmt(opts.idle)}`,
      ],
      idles.map((r) => [
        label(r.side),
        mbOf(r.rss0),
        mbOf(stepOf(r, opts.subscribers)?.rss),
        mbOf(stepOf(r, opts.idle)?.rss),
        f1(perSubscriberKb(r)),
        f1(stepOf(r, opts.subscribers)?.cpuPct),
        f1(stepOf(r, opts.idle)?.cpuPct),
        f1(stepOf(r, opts.idle)?.pgCpuPct),
      ]),
    );
    out();
    const events = [hubRun, hubBurst, bareRun, bareBurst].reduce((n, r) => n + (r?.collected.received ?? 0), 0);
    out(`checks: ${fmt(events)} measured events received, each subscriber counting every event it was due`);
    for (const p of problems) out(`PROBLEM: ${p}`);
    out(
      problems.length
        ? "RESULT: events missed, duplicated or unexpected, or a connection or ingest failed (see above)"
        : "RESULT: every subscriber received every event exactly once",
    );
    if (opts.dump) {
      const rows = (r: PhaseResult) =>
        Array.from({ length: r.collected.batches }, (_, b) => {
          const times: number[] = [];
          for (let s = 0; s < r.collected.subscribers; s++)
            times.push(r.collected.done[s * r.collected.batches + b] as number);
          const origin = r.origin[b] ?? NaN;
          return {
            batch: b,
            origin,
            firstMs: (r.collected.firstAt[b] ?? NaN) - origin,
            medianMs: median(times) - origin,
            lastMs: Math.max(...times) - origin,
            answeredMs: r.answeredAt ? (r.answeredAt[b] ?? NaN) - origin : null,
            requestMs: r.requestMs?.[b] ?? null,
          };
        });
      writeFileSync(opts.dump, JSON.stringify({ hub: rows(hubRun), bare: rows(bareRun) }, null, 1));
      out(`per-batch timings written to ${opts.dump}`);
    }
    const ms1 = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? null : Number(n.toFixed(1)));
    const s2 = (n: number | undefined) => (n === undefined ? null : Number(n.toFixed(2)));
    const mbJson = (n: number | undefined) => (n === undefined ? null : Math.round(mb(n)));
    const sideJson = (r: PhaseResult, s: Summary, burst: PhaseResult | undefined) => ({
      p50Ms: ms1(s.lastP50),
      p90Ms: ms1(s.lastP90),
      p99Ms: ms1(s.lastP99),
      maxMs: ms1(s.lastMax),
      medianSubscriberP50Ms: ms1(s.medianP50),
      firstSubscriberP50Ms: ms1(s.firstP50),
      messagesPerS: Math.round(s.perSecond),
      serverCpuS: s2(r.serverCpuS),
      serverUsPerMessage: Math.round(usPerMessage(r)),
      subscribersCpuS: s2(r.clientCpuS),
      postgresCpuS: s2(r.pgCpuS),
      rssBeforeMb: mbJson(r.rssIdleBefore),
      rssAfterMb: mbJson(r.rssAfter),
      late: r.late,
      overlapped: s.overlapped,
      ...(burst
        ? {
            backToBack: {
              messagesPerS: Math.round(burst.collected.received / burst.seconds),
              serverUsPerMessage: Math.round(usPerMessage(burst)),
            },
          }
        : {}),
    });
    const idleJson = (r: (typeof idles)[number]) => ({
      rss0Mb: mbJson(r.rss0),
      steps: r.steps.map((x) => ({
        subscribers: x.subscribers,
        rssMb: mbJson(x.rss),
        cpuPct: ms1(x.cpuPct),
        postgresCpuPct: ms1(x.pgCpuPct),
      })),
      kbPerSubscriber: ms1(perSubscriberKb(r)),
    });
    out(
      JSON.stringify({
        bench: "live",
        tiny: opts.tiny,
        machine: { ...machine, postgres: bench.pgVersion ?? null },
        settings: {
          subscribers: opts.subscribers,
          batches: opts.batches,
          batchSize: opts.batchSize,
          rate: opts.rate,
          burst: opts.burst,
          idle: opts.idle,
          orgs: opts.orgs,
          perToken: opts.perToken,
        },
        hub: {
          ...sideJson(hubRun, hubS, hubBurst),
          fromAnswerP50Ms: ms1(hubS.sinceAnswerP50),
          fromAnswerP99Ms: ms1(hubS.sinceAnswerP99),
          ingestRequestP50Ms: ms1(hubS.requestP50),
          ingestRequestP99Ms: ms1(hubS.requestP99),
          xactsPerBatch: ms1(hubRun.xactsPerBatch),
          eventLogReadsPerBatch: ms1(hubRun.logReadsPerBatch),
        },
        bare: sideJson(bareRun, bareS, bareBurst),
        ratios: { hubP99VsBareP99: ratio3(ratio), hubP50VsBareP50: ratio3(hubS.lastP50 / bareS.lastP50) },
        idle: { hub: idleJson(idles[0] as (typeof idles)[number]), bare: idleJson(idles[1] as (typeof idles)[number]) },
        correct: problems.length === 0,
      }),
    );
  } finally {
    for (const c of [...children]) await c.stop().catch(() => {});
    await subs?.stop().catch(() => {});
    await sql?.end({ timeout: 5 });
    await bench.drop();
  }
  if (problems.length) process.exitCode = 1;
}

// ---------------------------------------------------------------------------------------------

const serveAt = argv.indexOf("--serve");
const serve = serveAt >= 0 ? argv[serveAt + 1] : undefined;
if (serve) {
  runChild(serve, () => (serve === "bare" ? serveBare() : serveHubDefaults())).catch((e: unknown) => {
    process.stderr.write(`bench child ${serve} could not start: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
} else if (argv.includes("--subscriber-process")) {
  subscriberProcess().catch((e: unknown) => {
    process.stderr.write(`subscriber process failed: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
} else if (argv.includes("--help")) {
  out(
    "npm run bench:live -- [--subscribers n] [--batches n] [--batch-size n] [--rate batches/s] [--idle n] " +
      "[--orgs n] [--per-token n] [--patience s] [--profile dir] [--dump file] [--tiny]",
  );
  out(
    "env: BENCH_SUBSCRIBERS BENCH_BATCHES BENCH_BATCH_SIZE BENCH_RATE BENCH_IDLE BENCH_ORGS BENCH_PER_TOKEN " +
      "BENCH_PATIENCE BENCH_BURST BENCH_TINY=1 BENCH_PROFILE_DIR BENCH_DUMP BENCH_DATABASE_URL",
  );
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
