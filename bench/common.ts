import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import os from "node:os";
import postgres from "postgres";

/**
 * What the benchmarks share: options, output, the bench database, server children reporting over
 * IPC, autocannon, and CPU/memory readings of processes. Nothing here knows what a benchmark measures.
 */

// ---------------------------------------------------------------------------------------------
// options: `--name value`, `--name=value`, or the environment variable

export const argv = process.argv.slice(2);

export function option(name: string, env: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === `--${name}`) return argv[i + 1];
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
  }
  const v = process.env[env];
  return v === undefined || v === "" ? undefined : v;
}

export const flag = (name: string, env: string) =>
  argv.includes(`--${name}`) || ["1", "true"].includes(process.env[env] ?? "");

export function positive(name: string, env: string, fallback: number): number {
  const raw = option(name, env);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} (${env}) must be a positive number, got "${raw}"`);
  return n;
}

/** The server the bench database is created on. */
export const adminUrlFromEnv = () =>
  process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

// ---------------------------------------------------------------------------------------------
// output

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const out = (line = "") => process.stdout.write(`${line}\n`);
export const pct = (r: number | undefined) => (r === undefined ? "n/a" : `${fmt(r * 100, 1)} %`);
/** A ratio for the JSON line: three decimals, or null. */
export const ratio3 = (r: number | undefined) => (r === undefined || !Number.isFinite(r) ? null : Number(r.toFixed(3)));

export function table(head: string[], rows: string[][]) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  out(line(head));
  out(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows) out(line(r));
}

export interface Machine {
  cpu: string;
  cores: number;
  memoryGb: number;
  node: string;
  platform: string;
  date: string;
}

export function machineInfo(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    date: new Date().toISOString(),
  };
}

/** The first lines of a benchmark's output: what ran, on which machine, node and PostgreSQL. */
export function printHeader(title: string, tiny: boolean, machine: Machine, postgres: string | undefined) {
  out(`# ${title}${tiny ? " (tiny: checks the script works, figures mean nothing)" : ""}`);
  out(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB; ${machine.platform}`);
  out(`node ${machine.node}, PostgreSQL ${postgres ?? "?"}, ${machine.date}`);
}

/** A comma-separated option (`--name a,b` or the environment), each item one of `allowed`. */
export function listOption<T extends string>(
  name: string,
  env: string,
  allowed: readonly T[],
  defaults: readonly T[],
): T[] {
  const items = (option(name, env) ?? defaults.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const i of items)
    if (!allowed.includes(i as T)) throw new Error(`unknown ${name} "${i}" (choose from ${allowed.join(", ")})`);
  return items as T[];
}

// ---------------------------------------------------------------------------------------------
// the bench database: created on the admin URL's server, dropped at the end

export interface BenchDatabase {
  name: string;
  url: string;
  /** server_version of the PostgreSQL server. */
  pgVersion: string | undefined;
  drop(): Promise<void>;
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  const name = `hub_bench_${randomBytes(6).toString("hex")}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const [pg] = await admin<{ v: string }[]>`select current_setting('server_version') as v`;
  await admin.unsafe(`create database ${name}`);
  return {
    name,
    url: url.toString(),
    pgVersion: pg?.v,
    drop: async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP servers in children

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  });
}

export interface Served {
  url: string;
  stop: () => Promise<void>;
}

/**
 * The hub as the benchmarks run it: `createApp` with the production config on BENCH_CHILD_DATABASE_URL,
 * its request log to this process's stdout (the parent sends that to /dev/null), the per-token rate
 * limit raised (one token sends every request).
 */
export async function serveHub(logLevel: "info" | "silent"): Promise<Served> {
  const databaseUrl = process.env.BENCH_CHILD_DATABASE_URL;
  if (!databaseUrl) throw new Error("BENCH_CHILD_DATABASE_URL is not set");
  const { createApp } = await import("../src/app");
  const { testConfig } = await import("../src/config");
  const app = await createApp(
    testConfig({
      HUB_ENV: "production",
      HOST: "127.0.0.1",
      PORT: 0,
      DATABASE_URL: databaseUrl,
      // The production default: one JSON line per request, to this child's stdout (/dev/null).
      LOG_LEVEL: logLevel,
      // One token sends every request; the per-token limit would otherwise answer 429.
      RATE_LIMIT_PER_SECOND: 1_000_000_000,
      RATE_LIMIT_BURST: 1_000_000_000,
    }),
  );
  return { url: app.url, stop: () => app.dispose() };
}

/**
 * The child's side: serves, reports its URL over IPC, answers "cpu" (its CPU time so far in µs,
 * user + system) and "rss" (its resident set in bytes), and stops on SIGTERM, "stop" or when the
 * parent goes away.
 */
export async function runChild(label: string, serve: () => Promise<Served>) {
  const served = await serve();
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    served.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`bench child ${label}: stop failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("message", (m) => {
    if (m === "stop") stop();
    // CPU time of this process so far, in microseconds (user + system).
    if (m === "cpu") {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpu: user + system });
    }
    if (m === "rss") process.send?.({ rss: process.memoryUsage.rss() });
  });
  process.on("disconnect", stop);
  process.send?.({ url: served.url });
}

export interface Child {
  url: string;
  pid: number;
  /** The child's CPU time so far (user + system), in microseconds. */
  cpu(): Promise<number>;
  /** The child's resident set size, in bytes. */
  rss(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts `node <execArgv> <script> <args>` with an IPC channel and waits for the URL it reports.
 * stdout (the hub's request log) goes to /dev/null; stderr stays visible for crashes. With a
 * profile folder the child writes a V8 CPU profile there (--cpu-prof) when it exits. Every child
 * runs as README's production section asks of the hub: NODE_ENV=production (graphql-js then skips
 * its development-mode checks); the bare servers get the same.
 */
export function startChild(
  script: string,
  args: string[],
  label: string,
  env: Record<string, string>,
  profileDir?: string,
): Promise<Child> {
  // V8 names each file after the process and thread (tsx adds a loader thread).
  const profile = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
  const proc: ChildProcess = spawn(process.execPath, [...process.execArgv, ...profile, script, ...args], {
    stdio: ["ignore", "ignore", "inherit", "ipc"],
    env: { ...process.env, NODE_ENV: "production", ...env },
  });
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  const ask = <K extends "cpu" | "rss">(key: K) =>
    new Promise<number>((done, fail) => {
      const onMessage = (reply: unknown) => {
        const v = (reply as Record<string, unknown>)[key];
        if (typeof v !== "number") return;
        proc.off("message", onMessage);
        done(v);
      };
      proc.on("message", onMessage);
      if (!proc.send(key)) fail(new Error(`${label} is gone`));
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start within 60 s`)), 60_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${label} exited with code ${code} before it was ready`));
    });
    proc.once("message", (m: unknown) => {
      clearTimeout(timer);
      const url = (m as { url?: string }).url;
      if (!url) return reject(new Error(`${label} sent an unexpected message`));
      resolve({
        url,
        pid: proc.pid ?? 0,
        cpu: () => ask("cpu"),
        rss: () => ask("rss"),
        stop: async () => {
          if (proc.exitCode !== null || proc.signalCode !== null) return;
          proc.kill("SIGTERM");
          const kill = setTimeout(() => proc.kill("SIGKILL"), 15_000);
          await exited;
          clearTimeout(kill);
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// load

export interface AutocannonResult {
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  resets: number;
  statusCodeStats: Record<string, { count: number }>;
  requests: { total: number; sent: number };
  latency: { p50: number; p99: number; average: number; max: number };
}
export type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
export const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export const failuresOf = (r: AutocannonResult) => r.errors + r.timeouts + r.mismatches + r.non2xx;
export function describeFailures(r: AutocannonResult): string {
  const parts: string[] = [];
  if (r.errors) parts.push(`${r.errors} errors`);
  if (r.timeouts) parts.push(`${r.timeouts} timeouts`);
  if (r.non2xx) {
    const codes = Object.entries(r.statusCodeStats)
      .filter(([c]) => !c.startsWith("2"))
      .map(([c, s]) => `${c}x${s.count}`);
    parts.push(`${r.non2xx} non-2xx (${codes.join(" ")})`);
  }
  if (r.mismatches) parts.push(`${r.mismatches} unexpected bodies`);
  return parts.join(", ");
}

// ---------------------------------------------------------------------------------------------
// rounds of GraphQL load against servers in children (bench/lookup.ts, bench/assessments.ts)

/** What one shape sends to `/graphql`, and the answer each body must get. */
export interface LoadSet {
  bodies: string[];
  /** Answer i reduced by `reduce` must be `expected[i]`. */
  expected: string[];
  reduce: (answer: unknown) => string;
  connections: number;
}

/**
 * Sends each body once (a few at a time) and checks that it answers 200 with the expected answer.
 * Returns each answer's exact text: every answer under load must be that text, byte for byte.
 */
async function checkBodies(url: string, headers: Record<string, string>, set: LoadSet, label: string) {
  const texts: string[] = new Array<string>(set.bodies.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < set.bodies.length; i = next++) {
      const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: set.bodies[i] });
      const text = await res.text();
      let got: string;
      try {
        got = set.reduce(JSON.parse(text));
      } catch {
        got = "(not JSON)";
      }
      if (res.status !== 200 || got !== set.expected[i])
        throw new Error(
          `${label} answered ${res.status} ${text.slice(0, 400)}; expected ${set.expected[i]?.slice(0, 400)}`,
        );
      texts[i] = text;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return texts;
}

/** autocannon cycling every body on each connection; an answer other than its checked text is a mismatch. */
async function loadBodies(
  url: string,
  headers: Record<string, string>,
  set: LoadSet,
  texts: string[],
  seconds: number,
): Promise<AutocannonResult & { bytes: number }> {
  let mismatches = 0;
  let bytes = 0;
  const result = await autocannon({
    url: `${url}/graphql`,
    method: "POST",
    headers,
    requests: set.bodies.map((body, i) => ({
      method: "POST",
      path: "/graphql",
      headers,
      body,
      onResponse: (status: number, resBody: string) => {
        bytes += resBody.length;
        if (status === 200 && resBody !== texts[i]) mismatches++;
      },
    })),
    connections: set.connections,
    duration: seconds,
  });
  result.mismatches += mismatches;
  return Object.assign(result, { bytes });
}

/** One target's measured run of one shape in one round. */
export interface Measured<T extends string, S extends string> {
  target: T;
  shape: S;
  round: number;
  rps: number;
  p50: number;
  p99: number;
  failures: number;
  detail: string;
  /** CPU time per request of the server process and of PostgreSQL (all its processes), in µs. */
  cpuPerReq: number;
  pgCpuPerReq: number | undefined;
  bytesPerReq: number;
}

/**
 * `rounds` rounds; each starts every target in a fresh child (`script --serve <target>` with
 * `childEnv`, the order alternating between rounds) and, per shape, checks every body once, warms
 * up, then measures. Prints a line per measured run.
 */
export async function measureRounds<T extends string, S extends string>(o: {
  rounds: number;
  targets: readonly T[];
  shapes: readonly S[];
  warmup: number;
  duration: number;
  profileDir: string | undefined;
  script: string;
  childEnv: Record<string, string>;
  headers: Record<string, string>;
  sets: Record<S, LoadSet>;
  label: Record<T, string>;
  shapeLabel: Record<S, string>;
}): Promise<Measured<T, S>[]> {
  const runs: Measured<T, S>[] = [];
  for (let round = 1; round <= o.rounds; round++) {
    const order = round % 2 ? o.targets : [...o.targets].reverse();
    for (const target of order) {
      const server = await startChild(
        o.script,
        ["--serve", target],
        o.label[target],
        o.childEnv,
        o.profileDir ? `${o.profileDir}/${target}` : undefined,
      );
      try {
        for (const shape of o.shapes) {
          const set = o.sets[shape];
          const texts = await checkBodies(server.url, o.headers, set, `${o.label[target]} ${o.shapeLabel[shape]}`);
          const warm = await loadBodies(server.url, o.headers, set, texts, o.warmup);
          const cpu0 = await server.cpu();
          const pg0 = postgresCpu();
          const res = await loadBodies(server.url, o.headers, set, texts, o.duration);
          const pg1 = postgresCpu();
          const n = Math.max(1, res.requests.total);
          const failures = failuresOf(warm) + failuresOf(res);
          const run: Measured<T, S> = {
            target,
            shape,
            round,
            rps: res.requests.total / res.duration,
            p50: res.latency.p50,
            p99: res.latency.p99,
            failures,
            detail: [describeFailures(warm) && `warm-up: ${describeFailures(warm)}`, describeFailures(res)]
              .filter(Boolean)
              .join("; "),
            cpuPerReq: ((await server.cpu()) - cpu0) / n,
            pgCpuPerReq: pg0 === undefined || pg1 === undefined ? undefined : (pg1 - pg0) / n,
            bytesPerReq: res.bytes / n,
          };
          runs.push(run);
          out(
            `round ${round}  ${o.shapeLabel[shape].padEnd(17)} ${o.label[target].padEnd(21)} ${fmt(run.rps).padStart(7)} req/s  ` +
              `p50 ${run.p50} ms  p99 ${run.p99} ms  server cpu ${fmt(run.cpuPerReq)} µs/req` +
              (run.pgCpuPerReq === undefined ? "" : `  postgres cpu ${fmt(run.pgCpuPerReq)} µs/req`) +
              (failures ? `  FAILED: ${run.detail}` : ""),
          );
        }
      } finally {
        await server.stop();
      }
    }
  }
  return runs;
}

/** Per shape and target, the medians of the measured runs (failures summed). */
export function mediansOf<T extends string, S extends string>(
  runs: readonly Measured<T, S>[],
  targets: readonly T[],
  shapes: readonly S[],
) {
  return shapes.flatMap((shape) =>
    targets.map((target) => {
      const mine = runs.filter((r) => r.target === target && r.shape === shape);
      const pg = mine.flatMap((r) => (r.pgCpuPerReq === undefined ? [] : [r.pgCpuPerReq]));
      return {
        target,
        shape,
        rps: median(mine.map((r) => r.rps)),
        p50: median(mine.map((r) => r.p50)),
        p99: median(mine.map((r) => r.p99)),
        cpuPerReq: median(mine.map((r) => r.cpuPerReq)),
        pgCpuPerReq: pg.length ? median(pg) : undefined,
        failures: mine.reduce((k, r) => k + r.failures, 0),
      };
    }),
  );
}

/** `target`'s median req/s over `base`'s for a shape, from `mediansOf`; undefined when either is missing. */
export function medianRatio<T extends string, S extends string>(
  summary: readonly { target: T; shape: S; rps: number }[],
  target: T,
  base: T,
  shape: S,
): number | undefined {
  const rps = (t: T) => summary.find((x) => x.target === t && x.shape === shape)?.rps;
  const x = rps(target);
  const b = rps(base);
  return x !== undefined && b ? x / b : undefined;
}

/** `target` against `base` round by round (neighbouring measurements): the spread is the run's noise. */
export function perRoundRatios<T extends string, S extends string>(
  runs: readonly Measured<T, S>[],
  target: T,
  base: T,
  shape: S,
): string {
  const rs: string[] = [];
  const rounds = Math.max(0, ...runs.map((r) => r.round));
  for (let round = 1; round <= rounds; round++) {
    const x = runs.find((r) => r.target === target && r.shape === shape && r.round === round);
    const b = runs.find((r) => r.target === base && r.shape === shape && r.round === round);
    if (x && b) rs.push(pct(x.rps / b.rps));
  }
  return rs.length > 1 ? `   (per round: ${rs.join(", ")})` : "";
}

// ---------------------------------------------------------------------------------------------
// processes (Linux /proc; elsewhere these answer undefined)

const TICK_US = 1_000_000 / 100; // USER_HZ is 100 on every Linux this runs on

function statTimes(pid: string): { own: number; children: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command (which may hold spaces) start at state, field 3.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { own: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU time of every PostgreSQL process on this machine so far, in µs: the postmaster's children
 * that exited are in its own counters of reaped children. Undefined when PostgreSQL runs elsewhere
 * (no process named postgres is visible).
 */
export function postgresCpu(): number | undefined {
  let total = 0;
  let seen = false;
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return undefined;
  }
  for (const pid of entries) {
    if (!/^\d+$/.test(pid)) continue;
    let comm: string;
    let ppid: string | undefined;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      if (comm !== "postgres") continue;
      ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    } catch {
      continue;
    }
    const t = statTimes(pid);
    if (!t) continue;
    seen = true;
    total += t.own;
    // The postmaster (its parent is not a postgres process) also counts its exited children.
    if (ppid && readComm(ppid) !== "postgres") total += t.children;
  }
  return seen ? total * TICK_US : undefined;
}

function readComm(pid: string): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** A process's resident set (VmRSS) and its peak over its life (VmHWM), in bytes. */
export function memoryOf(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    const rss = kb("VmRSS");
    const hwm = kb("VmHWM");
    return Number.isFinite(rss) && Number.isFinite(hwm) ? { rss, hwm } : undefined;
  } catch {
    return undefined;
  }
}

export const mb = (bytes: number) => bytes / 2 ** 20;
