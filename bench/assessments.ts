// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import { loadAssessmentWorld, type AssessmentWorld } from "./assessment-data";
import {
  bareAnswers,
  PAGE_QUERY,
  POINT_QUERY,
  type Answer,
  type PageVariables,
  type PointVariables,
} from "./assessments-bare";
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
import type { AccessViewer } from "../src/modules/access/tlp";

/**
 * Assessments benchmark (issue 6 section 6): with N assessments of 10 revisions each (default
 * 100,000, so 1,000,000 revision rows) and their opinions on PostgreSQL, the hub's
 * `assessment(id, asOf)` for random ids and times, and a page of 100 `assessments` with their
 * revisions and opinions, under autocannon, against a bare node:http handler in the same run that
 * answers the same JSON from raw SQL (bench/assessments-bare.ts). Both servers run in child
 * processes with the same pool size; autocannon runs in this process. Before any load, every
 * request body is answered by the hub and by the bare code, in this process, and the two answers
 * must agree; the statements the hub issues for a point read and for pages of 10 and 100 are
 * counted through its database client's query logger. Nothing asserts a speed: the exit code says
 * whether the answers agreed and every request answered as checked.
 *
 *   npm run bench:assessments -- [--count 100000] [--duration 10] [--warmup 3] [--rounds 3]
 *                                [--connections 50] [--page-connections 8] [--page-size 100]
 *                                [--shapes point,page] [--targets bare,hub] [--profile dir] [--tiny]
 *
 * The same file is the child: `--serve <target>` starts one server and reports its URL over IPC.
 */

type Target = "bare" | "hub";
type Shape = "point" | "page";
const TARGETS: readonly Target[] = ["bare", "hub"];
const SHAPES: readonly Shape[] = ["point", "page"];
const LABEL: Record<Target, string> = { bare: "bare node:http + SQL", hub: "hub (LOG_LEVEL=info)" };
const SHAPE_LABEL: Record<Shape, string> = { point: "assessment(asOf)", page: "assessments page" };

interface Options {
  tiny: boolean;
  count: number;
  duration: number;
  warmup: number;
  rounds: number;
  connections: number;
  pageConnections: number;
  pageSize: number;
  pointBodies: number;
  pageBodies: number;
  shapes: Shape[];
  targets: Target[];
  adminUrl: string;
  profileDir: string | undefined;
}

function readOptions(): Options {
  const tiny = flag("tiny", "BENCH_TINY");
  const targets = listOption("targets", "BENCH_TARGETS", TARGETS, TARGETS);
  if (!targets.includes("bare")) throw new Error("the targets must include bare: every ratio is against it");
  return {
    tiny,
    count: Math.round(positive("count", "BENCH_COUNT", tiny ? 2_000 : 100_000)),
    duration: positive("duration", "BENCH_DURATION", tiny ? 1 : 10),
    warmup: positive("warmup", "BENCH_WARMUP", tiny ? 1 : 3),
    rounds: Math.round(positive("rounds", "BENCH_ROUNDS", tiny ? 1 : 3)),
    connections: Math.round(positive("connections", "BENCH_CONNECTIONS", tiny ? 4 : 50)),
    pageConnections: Math.round(positive("page-connections", "BENCH_PAGE_CONNECTIONS", tiny ? 2 : 8)),
    pageSize: Math.round(positive("page-size", "BENCH_PAGE_SIZE", 100)),
    pointBodies: Math.round(positive("point-bodies", "BENCH_POINT_BODIES", tiny ? 100 : 1000)),
    pageBodies: Math.round(positive("page-bodies", "BENCH_PAGE_BODIES", tiny ? 10 : 50)),
    shapes: listOption("shapes", "BENCH_SHAPES", SHAPES, SHAPES),
    targets,
    adminUrl: adminUrlFromEnv(),
    profileDir: option("profile", "BENCH_PROFILE_DIR"),
  };
}

// ---------------------------------------------------------------------------------------------
// the bare child

async function serveBare(): Promise<Served> {
  const databaseUrl = process.env.BENCH_CHILD_DATABASE_URL;
  const viewerJson = process.env.BENCH_CHILD_VIEWER;
  if (!databaseUrl || !viewerJson) throw new Error("BENCH_CHILD_DATABASE_URL and BENCH_CHILD_VIEWER must be set");
  const { testConfig } = await import("../src/config");
  // The hub's pool size, so both sides have as many connections to PostgreSQL.
  const client = postgres(databaseUrl, {
    max: testConfig().DB_POOL_MAX,
    onnotice: () => {},
    connection: { application_name: "bench-bare-assessments" },
  });
  const answers = bareAnswers(client, JSON.parse(viewerJson) as AccessViewer);
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const body = JSON.parse(await readBody(req)) as { variables?: Record<string, unknown> };
        const vars = body.variables ?? {};
        const answer =
          typeof vars.asOf === "string"
            ? await answers.point(vars as unknown as PointVariables)
            : await answers.page(vars as unknown as PageVariables);
        const text = JSON.stringify(answer.errors ? { errors: answer.errors, data: answer.data } : answer);
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
      await client.end({ timeout: 5 });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// the parent

const SELF = fileURLToPath(import.meta.url);

/** An answer reduced to what must agree: its data (keys sorted) and its errors' codes. */
function canonical(body: unknown): string {
  const b = (body ?? {}) as { data?: unknown; errors?: { extensions?: { code?: unknown } }[] };
  const sorted = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(sorted)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .map((k) => [k, sorted((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify({
    data: sorted(b.data ?? null),
    codes: (b.errors ?? []).map((e) => e.extensions?.code ?? "?"),
  });
}

/** A xorshift sequence: the same seed gives the same picks. */
function random(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

interface Bodies {
  point: { vars: PointVariables; body: string }[];
  page: { vars: PageVariables; body: string }[];
}

/** Random (id, asOf) pairs over all assessments, and pages of `pageSize` from random positions. */
async function makeBodies(sql: postgres.Sql, opts: Options): Promise<Bodies> {
  const { toGlobalId } = await import("../src/shared/ids");
  const next = random(7);
  const is = Array.from({ length: opts.pointBodies }, () => 1 + Math.floor(next() * opts.count));
  const rows = await sql<{ i: number; id: string; created_at: Date; updated_at: Date }[]>`
    select x.i, a.id, a.created_at, a.updated_at
    from unnest(${is}::int[]) with ordinality x(i, k)
    join assessments a on a.id = md5('bench-assessment:' || x.i)::uuid
    order by x.k`;
  const DAY = 86_400_000;
  const point = rows.map((r) => {
    // From two days before the first revision to ten days after the last: some before it existed.
    const from = r.created_at.getTime() - 2 * DAY;
    const span = r.updated_at.getTime() + 10 * DAY - from;
    const vars = { id: toGlobalId("Assessment", r.id), asOf: new Date(from + Math.floor(next() * span)).toISOString() };
    return { vars, body: JSON.stringify({ query: POINT_QUERY, variables: vars }) };
  });
  // The first page, then pages after random assessments (any: a cursor is only a position).
  const starts = Array.from({ length: opts.pageBodies - 1 }, () =>
    Math.max(1, Math.floor(next() * Math.max(1, opts.count - 2 * opts.pageSize))),
  );
  const positions = await sql<{ id: string; created_at: Date }[]>`
    select a.id, a.created_at from unnest(${starts}::int[]) with ordinality x(i, k)
    join assessments a on a.id = md5('bench-assessment:' || x.i)::uuid order by x.k`;
  const page = [
    { first: opts.pageSize } as PageVariables,
    ...positions.map((p) => ({
      first: opts.pageSize,
      after: Buffer.from(JSON.stringify([p.created_at.toISOString(), p.id]), "utf8").toString("base64url"),
    })),
  ].map((vars) => ({ vars, body: JSON.stringify({ query: PAGE_QUERY, variables: vars }) }));
  return { point, page };
}

interface Checked {
  sets: Record<Shape, LoadSet>;
  /** Statements per point read, and per page of each size (1, 10, the full size) after the same cursor. */
  statements: { point: number[]; pages: [number, number][] };
  notFound: number;
  meanPageBytes: number;
}

/**
 * Every body through the hub (in this process, its statements counted) and through the bare code:
 * the answers must agree. Returns the expected answers and the statement counts.
 */
async function checkAgreement(
  databaseUrl: string,
  viewer: AccessViewer,
  token: string,
  bodies: Bodies,
  opts: Options,
): Promise<Checked> {
  const { createApp } = await import("../src/app");
  const { testConfig } = await import("../src/config");
  const { openDatabase } = await import("../src/db/client");
  let statements = 0;
  // Token checks are not the operation's statements; a warm token makes none anyway.
  const database = await openDatabase({
    url: databaseUrl,
    poolMax: testConfig().DB_POOL_MAX,
    onQuery: (q) => void (q.includes('"api_tokens"') || statements++),
  });
  // One token asks every body; the per-token limit (50/s, burst 200) would answer 429 part-way.
  const app = await createApp(
    testConfig({
      HUB_ENV: "production",
      PORT: 0,
      LOG_LEVEL: "silent",
      RATE_LIMIT_PER_SECOND: 1_000_000_000,
      RATE_LIMIT_BURST: 1_000_000_000,
    }),
    { database },
  );
  const client = postgres(databaseUrl, { max: 4, onnotice: () => {} });
  const bare = bareAnswers(client, viewer);
  const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
  try {
    const ask = async (body: string) => {
      const before = statements;
      const res = await fetch(`${app.url}/graphql`, { method: "POST", headers, body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`the hub answered ${res.status}: ${text.slice(0, 400)}`);
      return { answer: JSON.parse(text) as unknown, statements: statements - before, bytes: text.length };
    };
    const compare = (label: string, body: string, hub: unknown, own: Answer) => {
      const h = canonical(hub);
      const b = canonical(own);
      if (h !== b) {
        let at = 0;
        while (at < h.length && h[at] === b[at]) at++;
        throw new Error(
          `the hub and the bare code disagree on ${label} ${body.slice(0, 300)}\n` +
            `  hub:  …${h.slice(Math.max(0, at - 200), at + 200)}\n  bare: …${b.slice(Math.max(0, at - 200), at + 200)}`,
        );
      }
      return h;
    };
    await ask(bodies.point[0]?.body ?? ""); // warms the token
    // Statements are counted one request at a time, over the first bodies; the rest are only checked,
    // a few at a time.
    const COUNTED = 100;
    const pointStatements: number[] = [];
    for (const p of bodies.point.slice(0, COUNTED)) pointStatements.push((await ask(p.body)).statements);
    const inTurn = async <T>(items: readonly T[], workers: number, each: (item: T, i: number) => Promise<void>) => {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < items.length; i = next++) await each(items[i] as T, i);
      };
      await Promise.all(Array.from({ length: workers }, worker));
    };
    const point: LoadSet = { bodies: [], expected: [], reduce: canonical, connections: opts.connections };
    await inTurn(bodies.point, 4, async (p, i) => {
      const hub = await ask(p.body);
      point.bodies[i] = p.body;
      point.expected[i] = compare("assessment(asOf)", p.body, hub.answer, await bare.point(p.vars));
    });
    const notFound = point.expected.filter((e) => e.includes('"NOT_FOUND"')).length;
    const page: LoadSet = { bodies: [], expected: [], reduce: canonical, connections: opts.pageConnections };
    let pageBytes = 0;
    await inTurn(bodies.page, 2, async (p, i) => {
      const hub = await ask(p.body);
      page.bodies[i] = p.body;
      page.expected[i] = compare("assessments page", p.body, hub.answer, await bare.page(p.vars));
      pageBytes += hub.bytes;
    });
    // Pages of 1, 10 and the full size after the same cursors: the count must not grow with the size.
    // (It may shrink: a loader skips keys an earlier one already loaded, and a larger page has more
    // of them, e.g. every owner organisation before the opinions' owners are asked for.)
    const pages: [number, number][] = [];
    for (const size of [...new Set([1, 10, opts.pageSize])]) {
      let most = 0;
      for (const p of bodies.page.slice(0, 5))
        most = Math.max(
          most,
          (await ask(JSON.stringify({ query: PAGE_QUERY, variables: { ...p.vars, first: size } }))).statements,
        );
      pages.push([size, most]);
    }
    return {
      sets: { point, page },
      statements: { point: pointStatements, pages },
      notFound,
      meanPageBytes: pageBytes / Math.max(1, bodies.page.length),
    };
  } finally {
    await app.dispose();
    await database.close();
    await client.end({ timeout: 5 });
  }
}

async function main() {
  const opts = readOptions();
  const machine = machineInfo();
  const bench = await createBenchDatabase(opts.adminUrl);
  let sql: postgres.Sql | undefined;
  let failed = false;
  try {
    const { openDatabase } = await import("../src/db/client");
    const { World } = await import("../test/harness");
    const database = await openDatabase({ url: bench.url, poolMax: 2 });
    const tag = randomBytes(3).toString("hex");
    let world: AssessmentWorld;
    let viewer: AccessViewer;
    let token: string;
    try {
      await database.migrate();
      const w = new World(database);
      const owners = [];
      const analysts = [];
      for (let k = 0; k < 5; k++) {
        const org = await w.org("MEMBER_STATE", `Bench owner ${k} ${tag}`);
        owners.push(org.id);
        analysts.push((await w.account(org, "ANALYST")).id);
      }
      const reader = await w.org("MEMBER_STATE", `Bench reader ${tag}`);
      const outsider = await w.org("MEMBER_STATE", `Bench outsider ${tag}`);
      token = (await w.account(reader, "READER")).token;
      world = { owners, analysts, viewer: reader.id, outsider: outsider.id };
      viewer = { organizationId: reader.id, organizationKind: "MEMBER_STATE", groupIds: [] };
    } finally {
      await database.close();
    }
    const db = (sql = postgres(bench.url, { max: 1, onnotice: () => {} }));
    const t0 = performance.now();
    const loaded = await loadAssessmentWorld(db, world, opts.count);
    const loadS = (performance.now() - t0) / 1000;
    const [visible] = await db<{ n: string }[]>`
      select count(*) n from assessments a
      where a.tlp in ('CLEAR', 'GREEN') or ${viewer.organizationId}::uuid = any(a.audience_orgs)`;

    const bodies = await makeBodies(db, opts);
    const t1 = performance.now();
    const checked = await checkAgreement(bench.url, viewer, token, bodies, opts);
    const checkS = (performance.now() - t1) / 1000;
    const { sets } = checked;

    const [pgSettings] = await db<{ sb: string }[]>`select current_setting('shared_buffers') as sb`;
    const poolMax = (await import("../src/config")).testConfig().DB_POOL_MAX;
    printHeader(
      "Assessments benchmark",
      opts.tiny,
      machine,
      `${bench.pgVersion ?? "?"} (shared_buffers ${pgSettings?.sb ?? "?"})`,
    );
    out(
      `data: ${fmt(loaded.assessments)} assessments, ${fmt(loaded.revisions)} revisions, ${fmt(loaded.opinions)} opinions, ` +
        `${fmt(loaded.opinionRevisions)} opinion revisions, written set-based and vacuum-analyzed in ${fmt(loadS, 1)} s; ` +
        `the viewer is another member state's reader (${fmt(Number(visible?.n))} assessments carry a marking it may see)`,
    );
    out(
      `load: autocannon in the parent process, each server in a child of its own (pool of ${poolMax} connections each); ` +
        `${opts.warmup} s warm-up + ${opts.duration} s measured per target and shape, ${opts.rounds} round(s), alternating order`,
    );
    out(
      `point: ${SHAPE_LABEL.point} over ${sets.point.bodies.length} random (id, asOf) pairs ` +
        `(${checked.notFound} answer NOT_FOUND: not visible, or not made yet), ${opts.connections} connections`,
    );
    out(
      `page: ${SHAPE_LABEL.page} of ${opts.pageSize} with revisions (and their changes), opinions (and theirs) and ` +
        `opinionSummary, ${sets.page.bodies.length} distinct cursors, ${fmt(checked.meanPageBytes / 1024)} KiB per answer, ` +
        `${opts.pageConnections} connections`,
    );
    out(
      `checked in ${fmt(checkS, 1)} s: the hub and the bare code gave the same answer to every body (data, error codes)`,
    );
    const pointStmts = checked.statements.point;
    const pageStmts = checked.statements.pages;
    // A page of 1 may skip a loader (an assessment without opinions loads no opinion revisions);
    // from 10 on every page here holds every kind of row, so a larger one must not need more.
    const at = (size: number) => pageStmts.find(([s]) => s === size)?.[1] ?? 0;
    const grows = at(opts.pageSize) > at(10);
    const pageLine = pageStmts.map(([size, n]) => `${n} for ${size}`).join(", ");
    out(
      `hub SQL statements: assessment(asOf) ${[...new Set(pointStmts)]
        .sort((a, b) => a - b)
        .map((k) => `${k} (${pointStmts.filter((x) => x === k).length} requests)`)
        .join(", ")} over the first ${pointStmts.length}; ` +
        `pages (most over 5 cursors): ${pageLine}` +
        (grows ? " (GROWS WITH THE PAGE SIZE)" : ""),
    );
    if (grows) failed = true;
    out();

    const headers = { "content-type": "application/json", authorization: `Bearer ${token}` };
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
    const vsBare = (s: Shape) => medianRatio(summary, "hub", "bare", s);
    out();
    out(`## Medians over ${opts.rounds} round(s)`);
    table(
      ["shape", "target", "req/s", "p50 ms", "p99 ms", "failed", "server µs/req", "postgres µs/req", "vs bare"],
      summary.map((s) => [
        SHAPE_LABEL[s.shape],
        LABEL[s.target],
        fmt(s.rps),
        String(s.p50),
        String(s.p99),
        String(s.failures),
        fmt(s.cpuPerReq),
        s.pgCpuPerReq === undefined ? "" : fmt(s.pgCpuPerReq),
        pct(medianRatio(summary, s.target, "bare", s.shape)),
      ]),
    );
    out();
    if (opts.targets.includes("hub"))
      for (const s of opts.shapes)
        out(
          `hub / bare, ${SHAPE_LABEL[s].padEnd(17)} ${pct(vsBare(s))}${perRoundRatios(runs, "hub", "bare", s)}   goal: >= 50 %`,
        );
    out(`hub SQL statements per page: ${pageLine}   goal: independent of the page size`);
    out(
      "server µs/req: CPU time of the server process alone during the measured run; postgres µs/req: CPU time of " +
        "every PostgreSQL process on this machine over the same run, per request.",
    );
    out(
      failed
        ? "RESULT: some requests failed or a check did not hold (see above)"
        : "RESULT: every request answered 200 with the checked body",
    );
    out(
      JSON.stringify({
        bench: "assessments",
        tiny: opts.tiny,
        machine: { ...machine, postgres: bench.pgVersion ?? null },
        settings: {
          count: opts.count,
          durationS: opts.duration,
          warmupS: opts.warmup,
          rounds: opts.rounds,
          pointConnections: opts.connections,
          pageConnections: opts.pageConnections,
          pageSize: opts.pageSize,
          poolMax,
        },
        loaded,
        loadS: Number(loadS.toFixed(1)),
        statements: {
          pointMin: Math.min(...pointStmts),
          pointMax: Math.max(...pointStmts),
          pages: Object.fromEntries(pageStmts),
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
        ratios: Object.fromEntries(opts.shapes.map((s) => [`${s}HubVsBare`, ratio3(vsBare(s))])),
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
  runChild(serve, () => (serve === "hub" ? serveHub("info") : serveBare())).catch((e: unknown) => {
    process.stderr.write(`bench child ${serve} could not start: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
} else if (argv.includes("--help")) {
  out(
    "npm run bench:assessments -- [--count n] [--duration s] [--warmup s] [--rounds n] [--connections n] " +
      "[--page-connections n] [--page-size n] [--point-bodies n] [--page-bodies n] [--shapes point,page] " +
      "[--targets bare,hub] [--profile dir] [--tiny]",
  );
  out(
    "env: BENCH_COUNT BENCH_DURATION BENCH_WARMUP BENCH_ROUNDS BENCH_CONNECTIONS BENCH_PAGE_CONNECTIONS " +
      "BENCH_PAGE_SIZE BENCH_POINT_BODIES BENCH_PAGE_BODIES BENCH_SHAPES BENCH_TARGETS BENCH_TINY=1 BENCH_PROFILE_DIR " +
      "BENCH_DATABASE_URL",
  );
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
