// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import {
  adminUrlFromEnv,
  argv,
  createBenchDatabase,
  flag,
  fmt,
  listOption,
  listen,
  machineInfo,
  measureRounds,
  medianRatio,
  mediansOf,
  option,
  out,
  pct,
  perRoundRatios,
  positive,
  printHeader,
  ratio3,
  readBody,
  runChild,
  serveHub,
  table,
  type LoadSet,
  type Served,
} from "./common";
import {
  COPY_OBSERVABLES,
  COPY_REPORTS,
  copyIn,
  copyLines,
  indicatorAt,
  observableLine,
  reportLine,
  TYPES,
  type GeneratedIndicator,
} from "./indicator-data";
import type { SeededOrg } from "../test/harness";

/**
 * Lookup benchmark: with M indicators loaded (default 1,000,000: observables plus one GREEN report
 * each from one feed, COPYed in as the hub writes them), the hub's `indicator(value)` and
 * `lookupIndicators(values)` under autocannon, against a bare node:http handler in the same run
 * that runs the same SQL as the hub's lookup() (indicators.service.ts) as a postgres.js prepared
 * statement and answers the same JSON. Both servers run in child processes of their own with the
 * same pool size; autocannon runs in this process. Rounds alternate the order of the targets; the
 * figures are medians. Nothing here asserts a speed: the exit code says only whether every request
 * answered 200 with the expected body.
 *
 *   npm run bench:lookup -- [--count 1000000] [--duration 10] [--warmup 3] [--rounds 3]
 *                           [--connections 50] [--batch-connections 8] [--batch-size 1000]
 *                           [--shapes point,batch] [--targets bare,hub,bare-drizzle,bare-lookup] [--profile dir] [--tiny]
 *
 * The same file is the child: `--serve <target>` starts one server and reports its URL over IPC.
 */

type Target = "bare" | "bare-drizzle" | "bare-lookup" | "hub";
type Shape = "point" | "batch";
const ALL_TARGETS: readonly Target[] = ["bare", "bare-drizzle", "bare-lookup", "hub"];
const DEFAULT_TARGETS: readonly Target[] = ["bare", "hub"];
const ALL_SHAPES: readonly Shape[] = ["point", "batch"];
const LABEL: Record<Target, string> = {
  bare: "bare node:http + SQL",
  "bare-drizzle": "bare + drizzle execute",
  "bare-lookup": "bare + hub lookup()",
  hub: "hub (LOG_LEVEL=info)",
};
const SHAPE_LABEL: Record<Shape, string> = { point: "indicator(value)", batch: "lookupIndicators" };

const FIELDS = "id type value stixId confidence firstSeen lastSeen sourceCount";
const POINT_QUERY = `query Point($v: String!) { indicator(value: $v) { ${FIELDS} } }`;
const BATCH_QUERY = `query Batch($values: [String!]!) { lookupIndicators(values: $values) { input error indicator { ${FIELDS} } } }`;
/** Distinct request bodies: point lookups rotate over this many values. */
const POINT_BODIES = 1000;

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  tiny: boolean;
  count: number;
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  batchConnections: number;
  batchSize: number;
  batchBodies: number;
  shapes: Shape[];
  targets: Target[];
  adminUrl: string;
  profileDir: string | undefined;
}

function readOptions(): Options {
  const tiny = flag("tiny", "BENCH_TINY");
  const shapes = listOption("shapes", "BENCH_SHAPES", ALL_SHAPES, ALL_SHAPES);
  const targets = listOption("targets", "BENCH_TARGETS", ALL_TARGETS, DEFAULT_TARGETS);
  if (!targets.includes("bare")) throw new Error("the targets must include bare: every ratio is against it");
  return {
    tiny,
    count: Math.round(positive("count", "BENCH_COUNT", tiny ? 5_000 : 1_000_000)),
    duration: positive("duration", "BENCH_DURATION", tiny ? 1 : 10),
    warmup: positive("warmup", "BENCH_WARMUP", tiny ? 1 : 3),
    rounds: Math.round(positive("rounds", "BENCH_ROUNDS", tiny ? 1 : 3)),
    connections: Math.round(positive("connections", "BENCH_CONNECTIONS", tiny ? 4 : 50)),
    batchConnections: Math.round(positive("batch-connections", "BENCH_BATCH_CONNECTIONS", tiny ? 2 : 8)),
    batchSize: Math.round(positive("batch-size", "BENCH_BATCH_SIZE", 1000)),
    batchBodies: Math.round(positive("batch-bodies", "BENCH_BATCH_BODIES", tiny ? 4 : 20)),
    shapes: shapes as Shape[],
    targets: targets as Target[],
    adminUrl: adminUrlFromEnv(),
    profileDir: option("profile", "BENCH_PROFILE_DIR"),
  };
}

// ---------------------------------------------------------------------------------------------
// the children: the hub, or the bare handler running the hub's lookup SQL

interface IndicatorJson {
  id: string;
  type: string;
  value: string;
  stixId: string;
  confidence: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
  sourceCount: number;
}

/** What the bare child needs to know of the viewer: what the access rule reads. */
interface BareViewer {
  organizationId: string;
  organizationKind: string;
  groupIds: string[];
}

/**
 * The bare handler, in one of three ways of running lookup()'s statement (built by the hub's own
 * `lookupStatement`, so the SQL is the hub's, access rule included):
 * - `bare`: rendered once, run as a postgres.js prepared statement on a client of its own (the ceiling);
 * - `bare-drizzle`: built per request and run through drizzle's `db.execute` on the hub's database
 *   client, unprepared (how lookup() ran it before it prepared): the price of not preparing;
 * - `bare-lookup`: the hub's `lookup()` itself on the hub's database client: what the hub's service
 *   layer costs before any GraphQL, authentication or logging.
 */
async function serveBare(mode: Exclude<Target, "hub">): Promise<Served> {
  const databaseUrl = process.env.BENCH_CHILD_DATABASE_URL;
  const viewerJson = process.env.BENCH_CHILD_VIEWER;
  if (!databaseUrl || !viewerJson) throw new Error("BENCH_CHILD_DATABASE_URL and BENCH_CHILD_VIEWER must be set");
  const { PgDialect } = await import("drizzle-orm/pg-core");
  const service = await import("../src/modules/indicators/indicators.service");
  const { normalize } = await import("../src/modules/indicators/normalize");
  const { toGlobalId } = await import("../src/shared/ids");
  const { testConfig } = await import("../src/config");
  const { openDatabase } = await import("../src/db/client");
  // What the access rule reads of the viewer is all the statement needs of it.
  const viewer = JSON.parse(viewerJson) as BareViewer as unknown as Parameters<typeof service.lookup>[1];

  // Rendered once; only the keys parameter changes from one request to the next.
  const KEYS = `keys-${randomBytes(8).toString("hex")}`;
  const statement = new PgDialect().sqlToQuery(service.lookupStatement(viewer, KEYS));
  const keysAt = statement.params.indexOf(KEYS);
  if (keysAt < 0) throw new Error("the keys parameter is not in the statement");

  // The hub's pool size, so both sides have as many connections to PostgreSQL.
  const poolMax = testConfig().DB_POOL_MAX;
  const client =
    mode === "bare"
      ? postgres(databaseUrl, {
          max: poolMax,
          onnotice: () => {},
          connection: { application_name: "bench-bare-lookup" },
        })
      : undefined;
  const database = mode === "bare" ? undefined : await openDatabase({ url: databaseUrl, poolMax });
  type Row = {
    id: string;
    type: string;
    value: string;
    stix_id: string;
    confidence: number | null;
    first_seen: Date | string | null;
    last_seen: Date | string | null;
    sources: number;
  };
  // postgres.js parses timestamps; drizzle's client hands them over as text.
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  const toJson = (r: Row): IndicatorJson => ({
    id: toGlobalId("Indicator", Number(r.id)),
    type: r.type,
    value: r.value,
    stixId: r.stix_id,
    confidence: r.confidence === null ? null : Number(r.confidence),
    firstSeen: iso(r.first_seen),
    lastSeen: iso(r.last_seen),
    sourceCount: Number(r.sources),
  });

  /** One statement for all values, one answer per value in order, as lookup() does. */
  async function lookup(values: string[]) {
    if (mode === "bare-lookup" && database) {
      const answers = await service.lookup(database.db, viewer, values);
      return answers.map(({ input, error, indicator: i }) => ({
        input,
        error,
        indicator: i && {
          id: i.id,
          type: i.type,
          value: i.value,
          stixId: i.stixId,
          confidence: i.confidence,
          firstSeen: i.firstSeen && i.firstSeen.toISOString(),
          lastSeen: i.lastSeen && i.lastSeen.toISOString(),
          sourceCount: i.sourceCount,
        },
      }));
    }
    const normalized = values.map((value) => normalize(value));
    const keys = normalized.flatMap((n) => (n.ok ? [{ type: n.type, value: n.value }] : []));
    const found = new Map<string, IndicatorJson>();
    if (keys.length) {
      let rows: Row[];
      if (client) {
        const params = statement.params.map((p, i) => (i === keysAt ? keys : p)) as postgres.ParameterOrJSON<never>[];
        rows = await client.unsafe<Row[]>(statement.sql, params, { prepare: true });
      } else
        rows = (await database?.db.execute(service.lookupStatement(viewer, JSON.stringify(keys)))) as unknown as Row[];
      for (const r of rows) found.set(`${r.type}\u0000${r.value}`, toJson(r));
    }
    return values.map((input, i) => {
      const n = normalized[i];
      if (!n || !n.ok) return { input, error: n?.reason ?? "unreadable", indicator: null };
      return { input, error: null, indicator: found.get(`${n.type}\u0000${n.value}`) ?? null };
    });
  }

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = JSON.parse(await readBody(req)) as { variables?: { v?: string; values?: string[] } };
        const vars = body.variables ?? {};
        let data: unknown;
        if (typeof vars.v === "string") data = { indicator: (await lookup([vars.v]))[0]?.indicator ?? null };
        else if (Array.isArray(vars.values)) data = { lookupIndicators: await lookup(vars.values) };
        else throw new Error("neither v nor values");
        const text = JSON.stringify({ data });
        res.writeHead(200, {
          "content-type": "application/json; charset=utf-8",
          "content-length": Buffer.byteLength(text),
          "cache-control": "no-store",
        });
        res.end(text);
      } catch (e) {
        const text = JSON.stringify({ errors: [{ message: e instanceof Error ? e.message : String(e) }] });
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" }).end(text);
        else res.destroy();
      }
    })();
  });
  server.keepAliveTimeout = 5_000;
  const url = await listen(server);
  return {
    url,
    stop: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      await client?.end({ timeout: 5 });
      await database?.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the parent: data, children, load

const SELF = fileURLToPath(import.meta.url);

/** A shape's bodies, their expected `data` (as JSON), and how many values each looks up. */
interface RequestSet extends LoadSet {
  valuesPerRequest: number;
}

/** An answer as it is compared with the expected one: its `data`, as JSON. */
const dataOf = (answer: unknown) => JSON.stringify((answer as { data?: unknown } | null)?.data);

/** A deterministic shuffle of [0, n) picks (no two alike while n allows). */
function picks(n: number, howMany: number, seed: number): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  let x = seed >>> 0 || 1;
  while (out.length < howMany) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const i = x % n;
    if (seen.has(i) && seen.size < n) continue;
    seen.add(i);
    out.push(i);
  }
  return out;
}

async function main() {
  const opts = readOptions();
  const machine = machineInfo();
  const bench = await createBenchDatabase(opts.adminUrl);
  let sql: postgres.Sql | undefined;
  let failed = false;
  try {
    // One CERT owns the feed; another one (a member state too: TLP GREEN reaches it) looks up.
    const { openDatabase } = await import("../src/db/client");
    const { World } = await import("../test/harness");
    const { toGlobalId } = await import("../src/shared/ids");
    const database = await openDatabase({ url: bench.url, poolMax: 2 });
    let owner: SeededOrg;
    let reader: SeededOrg;
    let token: string;
    try {
      await database.migrate();
      const world = new World(database);
      owner = await world.org("MEMBER_STATE", `Bench feed owner ${randomBytes(3).toString("hex")}`);
      reader = await world.org("MEMBER_STATE", `Bench reader ${randomBytes(3).toString("hex")}`);
      token = (await world.account(reader, "READER")).token;
    } finally {
      await database.close();
    }
    const db = (sql = postgres(bench.url, { max: 1, onnotice: () => {} }));
    const [feed] = await db<{ id: string }[]>`
      insert into feeds (owner_org_id, name, format, default_tlp)
      values (${owner.id}, 'Bench STIX feed', 'STIX', 'GREEN') returning id`;
    if (!feed) throw new Error("no feed");

    // The rows the hub would write for the ingest benchmark's bundle, straight in by COPY.
    const t0 = performance.now();
    await db.begin(async (tx) => {
      await copyIn(tx, COPY_OBSERVABLES, copyLines(opts.count, observableLine));
      await copyIn(
        tx,
        COPY_REPORTS,
        copyLines(opts.count, (g, i) => reportLine(g, i + 1, feed.id, owner.id)),
      );
    });
    await db`vacuum analyze observables`;
    await db`vacuum analyze reports`;
    await db`vacuum analyze sightings`;
    const loadS = (performance.now() - t0) / 1000;

    // Request bodies: point lookups of loaded values; batches half loaded, half unknown values.
    const expectedOf = async (gs: GeneratedIndicator[]) => {
      const ids = new Map<string, number>();
      const keys = gs.map((g) => ({ type: g.type, value: g.value }));
      for (const r of await db<{ id: string; type: string; value: string }[]>`
        select o.id, o.type, o.value from jsonb_to_recordset(${db.json(keys)}::jsonb) as x(type observable_type, value text)
        join observables o on o.type = x.type and o.value = x.value`)
        ids.set(`${r.type} ${r.value}`, Number(r.id));
      return (g: GeneratedIndicator): IndicatorJson | null => {
        const id = ids.get(`${g.type} ${g.value}`);
        return id === undefined
          ? null
          : {
              id: toGlobalId("Indicator", id),
              type: g.type,
              value: g.value,
              stixId: g.observableStixId,
              confidence: g.confidence,
              firstSeen: null,
              lastSeen: null,
              sourceCount: 1,
            };
      };
    };
    const pointGs = picks(opts.count, Math.min(POINT_BODIES, opts.count), 7).map(indicatorAt);
    const pointExpect = await expectedOf(pointGs);
    const sets: Record<Shape, RequestSet> = {
      point: {
        bodies: pointGs.map((g) => JSON.stringify({ query: POINT_QUERY, variables: { v: g.value } })),
        expected: pointGs.map((g) => JSON.stringify({ indicator: pointExpect(g) })),
        reduce: dataOf,
        connections: opts.connections,
        valuesPerRequest: 1,
      },
      batch: {
        bodies: [],
        expected: [],
        reduce: dataOf,
        connections: opts.batchConnections,
        valuesPerRequest: opts.batchSize,
      },
    };
    const known = Math.ceil(opts.batchSize / 2);
    for (let b = 0; b < opts.batchBodies; b++) {
      const gs = [
        ...picks(opts.count, Math.min(known, opts.count), 1000 + b).map(indicatorAt),
        // Values of the same generator past the loaded ones: valid, and not in the database.
        ...picks(1_000_000_000, opts.batchSize - Math.min(known, opts.count), 2000 + b).map((i) =>
          indicatorAt(opts.count + i),
        ),
      ];
      // Interleave by a fixed shuffle so hits and misses mix.
      const order = picks(gs.length, gs.length, 3000 + b);
      const mixed = order.map((i) => gs[i] as GeneratedIndicator);
      const expect = await expectedOf(mixed);
      sets.batch.bodies.push(JSON.stringify({ query: BATCH_QUERY, variables: { values: mixed.map((g) => g.value) } }));
      sets.batch.expected.push(
        JSON.stringify({
          lookupIndicators: mixed.map((g) => ({ input: g.value, error: null, indicator: expect(g) })),
        }),
      );
    }

    const [pgSettings] = await db<{ sb: string }[]>`select current_setting('shared_buffers') as sb`;
    const poolMax = (await import("../src/config")).testConfig().DB_POOL_MAX;
    printHeader(
      "Lookup benchmark",
      opts.tiny,
      machine,
      `${bench.pgVersion ?? "?"} (shared_buffers ${pgSettings?.sb ?? "?"})`,
    );
    out(
      `data: ${fmt(opts.count)} indicators (${TYPES.join(", ")} in rotation), one GREEN report each from one feed, ` +
        `COPYed and vacuum-analyzed in ${fmt(loadS, 1)} s; the viewer is another member state's reader`,
    );
    out(
      `load: autocannon in the parent process, each server in a child of its own (pool of ${poolMax} connections each); ` +
        `${opts.warmup} s warm-up + ${opts.duration} s measured per target and shape, ${opts.rounds} round(s), alternating order`,
    );
    out(
      `point: ${SHAPE_LABEL.point} over ${sets.point.bodies.length} distinct loaded values, ${opts.connections} connections`,
    );
    out(
      `batch: ${SHAPE_LABEL.batch} with ${opts.batchSize} values (${known} loaded, the rest unknown), ` +
        `${sets.batch.bodies.length} distinct bodies, ${opts.batchConnections} connections`,
    );
    out(
      "bare: node:http, JSON.parse, the hub's normalize() per value, the hub's lookup SQL as a postgres.js prepared " +
        "statement, the same JSON answer (no GraphQL, no authentication, no log)",
    );
    out();

    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
    const viewer: BareViewer = { organizationId: reader.id, organizationKind: reader.kind, groupIds: [] };
    const runs = await measureRounds({
      ...opts,
      script: SELF,
      childEnv: { BENCH_CHILD_DATABASE_URL: bench.url, BENCH_CHILD_VIEWER: JSON.stringify(viewer) },
      headers,
      sets,
      label: LABEL,
      shapeLabel: SHAPE_LABEL,
    });
    if (runs.some((r) => r.failures)) failed = true;
    const summary = mediansOf(runs, opts.targets, opts.shapes);
    const vsBare = (t: Target, s: Shape) => medianRatio(summary, t, "bare", s);
    out();
    out(`## Medians over ${opts.rounds} round(s)`);
    table(
      [
        "shape",
        "target",
        "req/s",
        "values/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "server µs/req",
        "postgres µs/req",
        "vs bare",
      ],
      summary.map((s) => [
        SHAPE_LABEL[s.shape],
        LABEL[s.target],
        fmt(s.rps),
        fmt(s.rps * sets[s.shape].valuesPerRequest),
        String(s.p50),
        String(s.p99),
        String(s.failures),
        fmt(s.cpuPerReq),
        s.pgCpuPerReq === undefined ? "" : fmt(s.pgCpuPerReq),
        pct(medianRatio(summary, s.target, "bare", s.shape)),
      ]),
    );
    out();
    for (const s of opts.shapes) {
      if (opts.targets.includes("hub"))
        out(
          `hub / bare, ${SHAPE_LABEL[s].padEnd(17)} ${pct(vsBare("hub", s))}${perRoundRatios(runs, "hub", "bare", s)}   goal: >= 50 %`,
        );
      for (const t of ["bare-drizzle", "bare-lookup"] as const)
        if (opts.targets.includes(t))
          out(`${LABEL[t]} / bare, ${SHAPE_LABEL[s]}: ${pct(vsBare(t, s))}${perRoundRatios(runs, t, "bare", s)}`);
    }
    out(
      "server µs/req: CPU time of the server process alone during the measured run; postgres µs/req: CPU time of " +
        "every PostgreSQL process on this machine over the same run, per request.",
    );
    out(
      failed ? "RESULT: some requests failed (see above)" : "RESULT: every request answered 200 with the expected body",
    );
    out(
      JSON.stringify({
        bench: "lookup",
        tiny: opts.tiny,
        machine: { ...machine, postgres: bench.pgVersion ?? null },
        settings: {
          count: opts.count,
          durationS: opts.duration,
          warmupS: opts.warmup,
          rounds: opts.rounds,
          pointConnections: opts.connections,
          batchConnections: opts.batchConnections,
          batchSize: opts.batchSize,
          poolMax,
        },
        results: Object.fromEntries(
          opts.shapes.map((shape) => [
            shape,
            Object.fromEntries(
              summary
                .filter((s) => s.shape === shape)
                .map((s) => [
                  s.target,
                  {
                    rps: Math.round(s.rps),
                    p50Ms: s.p50,
                    p99Ms: s.p99,
                    serverCpuUsPerReq: Math.round(s.cpuPerReq),
                    ...(s.pgCpuPerReq === undefined ? {} : { postgresCpuUsPerReq: Math.round(s.pgCpuPerReq) }),
                    failed: s.failures,
                  },
                ]),
            ),
          ]),
        ),
        ratios: Object.fromEntries(
          opts.shapes.flatMap((s) => [
            ...(opts.targets.includes("hub") ? [[`${s}HubVsBare`, ratio3(vsBare("hub", s))]] : []),
            ...(opts.targets.includes("bare-drizzle")
              ? [[`${s}BareDrizzleVsBare`, ratio3(vsBare("bare-drizzle", s))]]
              : []),
            ...(opts.targets.includes("bare-lookup")
              ? [[`${s}BareLookupVsBare`, ratio3(vsBare("bare-lookup", s))]]
              : []),
          ]),
        ),
      }),
    );
  } finally {
    await sql?.end({ timeout: 5 });
    await bench.drop();
  }
  if (failed) process.exitCode = 1;
}

const serveAt = argv.indexOf("--serve");
const serve = serveAt >= 0 ? argv[serveAt + 1] : undefined;
if (serve) {
  runChild(serve, () => (serve === "hub" ? serveHub("info") : serveBare(serve as Exclude<Target, "hub">))).catch(
    (e: unknown) => {
      process.stderr.write(
        `bench child ${serve} could not start: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`,
      );
      process.exit(1);
    },
  );
} else if (argv.includes("--help")) {
  out(
    "npm run bench:lookup -- [--count n] [--duration s] [--warmup s] [--rounds n] [--connections n] " +
      "[--batch-connections n] [--batch-size n] [--batch-bodies n] [--shapes point,batch] [--targets bare,hub,bare-drizzle,bare-lookup] " +
      "[--profile dir] [--tiny]",
  );
  out(
    "env: BENCH_COUNT BENCH_DURATION BENCH_WARMUP BENCH_ROUNDS BENCH_CONNECTIONS BENCH_BATCH_CONNECTIONS " +
      "BENCH_BATCH_SIZE BENCH_BATCH_BODIES BENCH_SHAPES BENCH_TARGETS BENCH_TINY=1 BENCH_PROFILE_DIR BENCH_DATABASE_URL",
  );
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
