// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import {
  adminUrlFromEnv,
  argv,
  autocannon,
  createBenchDatabase,
  describeFailures,
  failuresOf,
  flag,
  fmt,
  listOption,
  printHeader,
  listen,
  machineInfo,
  median,
  option,
  out,
  pct,
  positive,
  readBody,
  runChild,
  serveHub,
  startChild as startServerChild,
  table,
  type AutocannonResult,
  type Child,
  type Served,
} from "./common";

/**
 * HTTP benchmark: the hub's authenticated `{ viewer { organization { name } } }` against two
 * ceilings measured in the same run, a bare node:http server answering a fixed JSON body and a
 * bare Apollo Server 5 answering `{ __typename }`. Each server runs in a child process of its own
 * (the hub's request log goes to /dev/null); autocannon runs in this process. Targets are measured
 * one after the other, each on a fresh process with a warm-up, in alternating order over several
 * rounds; the figures are medians. Nothing here asserts a speed: the exit code says only whether
 * every request succeeded with the expected body.
 *
 *   npm run bench:http -- [--duration 10] [--connections 50] [--rounds 3] [--warmup 3]
 *                         [--targets node,apollo,hub,hub-silent] [--profile dir] [--tiny]
 *
 * The same file is the child: `--serve <target>` starts one server and reports its URL over IPC.
 */

type Target = "node" | "apollo" | "hub" | "hub-silent";
const ALL_TARGETS: readonly Target[] = ["node", "apollo", "hub", "hub-silent"];
const LABEL: Record<Target, string> = {
  node: "bare node:http",
  apollo: "bare Apollo Server 5",
  hub: "hub (LOG_LEVEL=info)",
  "hub-silent": "hub (LOG_LEVEL=silent)",
};
const isHub = (t: Target) => t === "hub" || t === "hub-silent";

const BARE_QUERY = "{ __typename }";
const HUB_QUERY = "{ viewer { organization { name } } }";
const BARE_BODY = JSON.stringify({ data: { __typename: "Query" } });

// ---------------------------------------------------------------------------------------------
// options

interface Options {
  tiny: boolean;
  duration: number;
  warmup: number;
  connections: number;
  rounds: number;
  targets: Target[];
  adminUrl: string;
  /** Where the server children write V8 CPU profiles (--cpu-prof), if anywhere. */
  profileDir: string | undefined;
}

function readOptions(): Options {
  const tiny = flag("tiny", "BENCH_TINY");
  const targets = listOption("targets", "BENCH_TARGETS", ALL_TARGETS, ALL_TARGETS);
  return {
    tiny,
    duration: positive("duration", "BENCH_DURATION", tiny ? 1 : 10),
    warmup: positive("warmup", "BENCH_WARMUP", tiny ? 1 : 3),
    connections: Math.round(positive("connections", "BENCH_CONNECTIONS", tiny ? 4 : 50)),
    rounds: Math.round(positive("rounds", "BENCH_ROUNDS", tiny ? 1 : 3)),
    targets: targets as Target[],
    profileDir: option("profile", "BENCH_PROFILE_DIR"),
    adminUrl: adminUrlFromEnv(),
  };
}

// ---------------------------------------------------------------------------------------------
// the child: one server, URL reported over IPC, stopped by SIGTERM or a "stop" message

async function serveBareNode(): Promise<Served> {
  const server = createServer((req, res) => {
    // Consumes the request like any real handler would, then answers a fixed body.
    void readBody(req).then(() => {
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(BARE_BODY),
      });
      res.end(BARE_BODY);
    });
  });
  server.keepAliveTimeout = 5_000;
  const url = await listen(server);
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

async function serveBareApollo(): Promise<Served> {
  const { ApolloServer, HeaderMap } = await import("@apollo/server");
  // Apollo's own SIGTERM handler would kill the child before it exits (and writes its profile).
  const apollo = new ApolloServer({ typeDefs: "type Query { hello: String }", stopOnTerminationSignals: false });
  await apollo.start();
  // The least a node:http integration does: read the body, parse JSON, copy the headers.
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const raw = await readBody(req);
        const headers = new HeaderMap();
        for (const [k, v] of Object.entries(req.headers))
          if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(", ") : v);
        const q = (req.url ?? "").indexOf("?");
        const result = await apollo.executeHTTPGraphQLRequest({
          httpGraphQLRequest: {
            method: req.method ?? "GET",
            headers,
            search: q >= 0 ? (req.url ?? "").slice(q) : "",
            body: raw === "" ? undefined : JSON.parse(raw),
          },
          context: async () => ({}),
        });
        const out: Record<string, string> = {};
        for (const [k, v] of result.headers) out[k] = v;
        if (result.body.kind === "complete") {
          res.writeHead(result.status ?? 200, { ...out, "content-length": Buffer.byteLength(result.body.string) });
          res.end(result.body.string);
        } else {
          res.writeHead(result.status ?? 200, out);
          for await (const chunk of result.body.asyncIterator) res.write(chunk);
          res.end();
        }
      } catch {
        if (!res.headersSent) res.writeHead(500).end();
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
      await apollo.stop();
    },
  };
}

async function child(target: Target) {
  await runChild(target, () =>
    target === "node"
      ? serveBareNode()
      : target === "apollo"
        ? serveBareApollo()
        : serveHub(target === "hub" ? "info" : "silent"),
  );
}

// ---------------------------------------------------------------------------------------------
// the parent: database, children, load

const SELF = fileURLToPath(import.meta.url);

function startChild(target: Target, databaseUrl: string, profileDir: string | undefined): Promise<Child> {
  // One folder per target.
  return startServerChild(
    SELF,
    ["--serve", target],
    LABEL[target],
    { BENCH_CHILD_DATABASE_URL: databaseUrl },
    profileDir ? `${profileDir}/${target}` : undefined,
  );
}

interface Load {
  url: string;
  headers: Record<string, string>;
  body: string;
  expectBody: string;
}

function runLoad(load: Load, seconds: number, connections: number): Promise<AutocannonResult> {
  return autocannon({
    url: `${load.url}/graphql`,
    method: "POST",
    headers: load.headers,
    body: load.body,
    // Every response is compared with the one checked before the load.
    expectBody: load.expectBody,
    connections,
    duration: seconds,
  });
}

/** Sends the request once and checks its data; returns the exact body every response must match. */
async function checkOnce(target: Target, load: Load, expected: unknown): Promise<string> {
  const res = await fetch(`${load.url}/graphql`, { method: "POST", headers: load.headers, body: load.body });
  const text = await res.text();
  let data: unknown;
  try {
    data = (JSON.parse(text) as { data?: unknown }).data;
  } catch {
    data = undefined;
  }
  if (res.status !== 200 || JSON.stringify(data) !== JSON.stringify(expected))
    throw new Error(
      `${LABEL[target]} answered ${res.status} ${text.slice(0, 300)}; expected data ${JSON.stringify(expected)}`,
    );
  return text;
}

interface DbCounters {
  xacts: number;
  tokenScans: number;
}

/** Statement and api_tokens scan counters of the bench database (flushed when backends exit). */
async function dbCounters(sql: postgres.Sql): Promise<DbCounters> {
  const [r] = await sql<{ xacts: string; token_scans: string }[]>`
    select
      (select xact_commit + xact_rollback from pg_stat_database where datname = current_database()) as xacts,
      (select coalesce(seq_scan, 0) + coalesce(idx_scan, 0) from pg_stat_user_tables
        where relname = 'api_tokens') as token_scans`;
  return { xacts: Number(r?.xacts ?? 0), tokenScans: Number(r?.token_scans ?? 0) };
}

/** Waits until the counters stop moving (backends report their statistics as they exit). */
async function settledCounters(sql: postgres.Sql): Promise<DbCounters> {
  let last = await dbCounters(sql);
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const now = await dbCounters(sql);
    if (now.xacts === last.xacts && now.tokenScans === last.tokenScans && i >= 1) return now;
    last = now;
  }
  return last;
}

interface Run {
  target: Target;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  detail: string;
  /** The server process's CPU time per request during the measured run, in microseconds. */
  cpuPerReq: number;
  /** hub only: database statements and api_tokens scans per request over the child's life. */
  xactsPerReq?: number;
  tokenScansPerReq?: number;
}

async function main() {
  const opts = readOptions();
  const machine = machineInfo();

  // A database of the bench's own, created on the server of BENCH_DATABASE_URL and dropped at the end.
  const bench = await createBenchDatabase(opts.adminUrl);
  let stats: postgres.Sql | undefined;
  let failed = false;
  try {
    // Seed one organisation, account and token straight into the database.
    const { openDatabase } = await import("../src/db/client");
    const { World } = await import("../test/harness");
    const database = await openDatabase({ url: bench.url, poolMax: 2 });
    let orgName: string;
    let token: string;
    try {
      await database.migrate();
      const world = new World(database);
      const org = await world.org("MEMBER_STATE", `Bench CERT ${randomBytes(3).toString("hex")}`);
      orgName = org.name;
      token = (await world.account(org, "READER")).token;
    } finally {
      await database.close();
    }
    stats = postgres(bench.url, { max: 1, onnotice: () => {} });

    printHeader("HTTP benchmark", opts.tiny, machine, bench.pgVersion);
    out(
      `load: autocannon in the parent process, each server in a child of its own; ${opts.connections} connections, ` +
        `${opts.warmup} s warm-up + ${opts.duration} s measured per target, ${opts.rounds} round(s), alternating order`,
    );
    out(`hub query: ${HUB_QUERY} with a bearer token; bare servers: ${BARE_QUERY}`);
    out();

    const json = { "content-type": "application/json" };
    const runs: Run[] = [];
    for (let round = 1; round <= opts.rounds; round++) {
      const order = round % 2 ? opts.targets : [...opts.targets].reverse();
      for (const target of order) {
        const before = isHub(target) ? await settledCounters(stats) : undefined;
        const server = await startChild(target, bench.url, opts.profileDir);
        let served = 0;
        let cpuPerReq = 0;
        let warm: AutocannonResult;
        let res: AutocannonResult;
        try {
          const load: Load = isHub(target)
            ? {
                url: server.url,
                headers: { ...json, authorization: `Bearer ${token}` },
                body: JSON.stringify({ query: HUB_QUERY }),
                expectBody: "",
              }
            : { url: server.url, headers: json, body: JSON.stringify({ query: BARE_QUERY }), expectBody: "" };
          const expected = isHub(target) ? { viewer: { organization: { name: orgName } } } : { __typename: "Query" };
          load.expectBody = await checkOnce(target, load, expected);
          warm = await runLoad(load, opts.warmup, opts.connections);
          const cpuBefore = await server.cpu();
          res = await runLoad(load, opts.duration, opts.connections);
          cpuPerReq = ((await server.cpu()) - cpuBefore) / Math.max(1, res.requests.total);
          served = 1 + warm.requests.total + res.requests.total;
        } finally {
          await server.stop();
        }
        const failures = failuresOf(warm) + failuresOf(res);
        const run: Run = {
          target,
          round,
          rps: res.requests.total / res.duration,
          p50: res.latency.p50,
          p99: res.latency.p99,
          failures,
          cpuPerReq,
          detail: [describeFailures(warm) && `warm-up: ${describeFailures(warm)}`, describeFailures(res)]
            .filter(Boolean)
            .join("; "),
        };
        if (before) {
          const after = await settledCounters(stats);
          run.xactsPerReq = (after.xacts - before.xacts) / served;
          run.tokenScansPerReq = (after.tokenScans - before.tokenScans) / served;
        }
        if (failures) failed = true;
        runs.push(run);
        out(
          `round ${round}  ${LABEL[target].padEnd(24)} ${fmt(run.rps).padStart(7)} req/s  p50 ${run.p50} ms  ` +
            `p99 ${run.p99} ms  server cpu ${fmt(run.cpuPerReq)} µs/req` +
            (run.xactsPerReq !== undefined
              ? `  db statements/req ${fmt(run.xactsPerReq, 3)}  token lookups/req ${fmt(run.tokenScansPerReq ?? 0, 4)}`
              : "") +
            (failures ? `  FAILED: ${run.detail}` : ""),
        );
      }
    }

    const summary = opts.targets.map((target) => {
      const mine = runs.filter((r) => r.target === target);
      const hubStats = mine.filter((r) => r.xactsPerReq !== undefined);
      return {
        target,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        cpuPerReq: median(mine.map((r) => r.cpuPerReq)),
        failures: mine.reduce((n, r) => n + r.failures, 0),
        xactsPerReq: hubStats.length ? median(hubStats.map((r) => r.xactsPerReq ?? 0)) : undefined,
        tokenScansPerReq: hubStats.length ? median(hubStats.map((r) => r.tokenScansPerReq ?? 0)) : undefined,
      };
    });
    const rpsOf = (t: Target) => summary.find((s) => s.target === t)?.rps;
    const ratio = (a: Target, b: Target) => {
      const x = rpsOf(a);
      const y = rpsOf(b);
      return x !== undefined && y ? x / y : undefined;
    };

    out();
    out(`## Medians over ${opts.rounds} round(s)`);
    table(
      [
        "target",
        "req/s",
        "p50 ms",
        "p99 ms",
        "failed",
        "server µs/req",
        "db stmts/req",
        "token lookups/req",
        "vs bare Apollo",
      ],
      summary.map((s) => [
        LABEL[s.target],
        fmt(s.rps),
        String(s.p50),
        String(s.p99),
        String(s.failures),
        fmt(s.cpuPerReq),
        s.xactsPerReq === undefined ? "" : fmt(s.xactsPerReq, 3),
        s.tokenScansPerReq === undefined ? "" : fmt(s.tokenScansPerReq, 4),
        pct(ratio(s.target, "apollo")),
      ]),
    );
    out();
    const hubVsApollo = ratio("hub", "apollo");
    const hubVsNode = ratio("hub", "node");
    // The same ratio round by round (neighbouring measurements): its spread shows the noise.
    const perRound = (a: Target, b: Target) => {
      const rs: string[] = [];
      for (let round = 1; round <= opts.rounds; round++) {
        const x = runs.find((r) => r.target === a && r.round === round);
        const y = runs.find((r) => r.target === b && r.round === round);
        if (x && y) rs.push(pct(x.rps / y.rps));
      }
      return rs.length > 1 ? `   (per round: ${rs.join(", ")})` : "";
    };
    out(`hub / bare Apollo:    ${pct(hubVsApollo)}${perRound("hub", "apollo")}   goal: >= 70 %`);
    out(`hub / bare node:http: ${pct(hubVsNode)}${perRound("hub", "node")}`);
    out(
      "server µs/req: CPU time of the server process alone during the measured run (PostgreSQL's own work is " +
        "not in it); steadier than req/s when the machine is shared.",
    );
    out(
      "db stmts/req and token lookups/req count every request the hub child served (check, warm-up, run) " +
        "against its whole life, startup included.",
    );
    out(
      failed ? "RESULT: some requests failed (see above)" : "RESULT: every request answered 200 with the expected body",
    );
    out(
      JSON.stringify({
        bench: "http",
        tiny: opts.tiny,
        machine: { ...machine, postgres: bench.pgVersion ?? null },
        settings: {
          connections: opts.connections,
          durationS: opts.duration,
          warmupS: opts.warmup,
          rounds: opts.rounds,
        },
        targets: Object.fromEntries(
          summary.map((s) => [
            s.target,
            {
              rps: Math.round(s.rps),
              p50Ms: s.p50,
              p99Ms: s.p99,
              serverCpuUsPerReq: Math.round(s.cpuPerReq),
              failed: s.failures,
              ...(s.xactsPerReq === undefined
                ? {}
                : {
                    dbStatementsPerReq: Number(s.xactsPerReq.toFixed(4)),
                    tokenLookupsPerReq: Number((s.tokenScansPerReq ?? 0).toFixed(5)),
                  }),
            },
          ]),
        ),
        ratios: {
          hubVsApollo: hubVsApollo === undefined ? null : Number(hubVsApollo.toFixed(3)),
          hubVsNode: hubVsNode === undefined ? null : Number(hubVsNode.toFixed(3)),
          hubSilentVsApollo:
            ratio("hub-silent", "apollo") === undefined ? null : Number(ratio("hub-silent", "apollo")?.toFixed(3)),
        },
      }),
    );
  } finally {
    await stats?.end({ timeout: 5 });
    await bench.drop();
  }
  if (failed) process.exitCode = 1;
}

const serveAt = argv.indexOf("--serve");
const serve = serveAt >= 0 ? argv[serveAt + 1] : undefined;
if (serve) {
  child(serve as Target).catch((e: unknown) => {
    process.stderr.write(`bench child ${serve} could not start: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
} else if (argv.includes("--help")) {
  out(
    "npm run bench:http -- [--duration s] [--warmup s] [--connections n] [--rounds n] [--targets list] [--profile dir] [--tiny]",
  );
  out(
    "env: BENCH_DURATION BENCH_WARMUP BENCH_CONNECTIONS BENCH_ROUNDS BENCH_TARGETS BENCH_TINY=1 BENCH_PROFILE_DIR BENCH_DATABASE_URL",
  );
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
