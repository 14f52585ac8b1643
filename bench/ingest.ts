// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { request } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import postgres from "postgres";
import {
  adminUrlFromEnv,
  argv,
  createBenchDatabase,
  flag,
  fmt,
  printHeader,
  machineInfo,
  mb,
  memoryOf,
  option,
  out,
  pct,
  positive,
  postgresCpu,
  ratio3,
  runChild,
  serveHub,
  startChild,
  table,
  type Child,
} from "./common";
import {
  COPY_OBSERVABLES,
  COPY_REPORTS,
  copyIn,
  fingerprint,
  TYPES,
  writeBundle,
  writeCopyFiles,
} from "./indicator-data";

/**
 * Ingest benchmark: a generated STIX 2.1 bundle of N indicators (mixed types, default 1,000,000)
 * streamed through the hub's `POST /ingest` into a fresh feed, then the same file again (every
 * item unchanged), and in the same run the same rows COPYed straight into the same tables (emptied
 * first): the limit. Reports indicators/s, the ratio hub / COPY, and the hub process's peak RSS.
 *
 * The bundle and the COPY text are written to temporary files before anything is timed, so both
 * sides only stream a file. The hub runs in a child process (createApp, production config, its
 * request log to /dev/null); the parent sends the file and samples the child's RSS every 200 ms.
 * Nothing here asserts a speed: the exit code says only whether the results were right (the
 * ingest reports N created then N unchanged, and the hub's rows equal the COPYed rows).
 *
 *   npm run bench:ingest -- [--count 1000000] [--profile dir] [--keep dir] [--tiny]
 *
 * The same file is the child: `--serve hub` starts the hub and reports its URL over IPC.
 */

interface Options {
  tiny: boolean;
  count: number;
  adminUrl: string;
  /** Where the hub child writes a V8 CPU profile (--cpu-prof), if anywhere. */
  profileDir: string | undefined;
  /** Keep the generated files in this folder (else a temporary one, removed at the end). */
  keepDir: string | undefined;
}

function readOptions(): Options {
  const tiny = flag("tiny", "BENCH_TINY");
  return {
    tiny,
    count: Math.round(positive("count", "BENCH_COUNT", tiny ? 5_000 : 1_000_000)),
    adminUrl: adminUrlFromEnv(),
    profileDir: option("profile", "BENCH_PROFILE_DIR"),
    keepDir: option("keep", "BENCH_KEEP_DIR"),
  };
}

const SELF = fileURLToPath(import.meta.url);
const SAMPLE_MS = 200;

interface IngestCounts {
  created: number;
  updated: number;
  unchanged: number;
}
interface IngestReport {
  reports: IngestCounts;
  sightings: IngestCounts;
  rejected: number;
  skipped: number;
  rejections: { ref: string; reason: string }[];
}

/** Streams a file to POST /ingest; resolves with the status and the body once the hub answers. */
function postIngest(
  url: string,
  token: string,
  feedId: string,
  file: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/ingest?feed=${encodeURIComponent(feedId)}`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/stix+json",
          "content-length": statSync(file).size,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    pipeline(createReadStream(file), req).catch(reject);
  });
}

interface Phase {
  name: string;
  rows: number;
  seconds: number;
  /** CPU seconds of the hub process during the phase (hub phases only). */
  hubCpu?: number;
  /** CPU seconds of all PostgreSQL processes during the phase, when they are visible. */
  pgCpu?: number;
  /** The hub's largest sampled RSS during the phase, in bytes (hub phases only). */
  peakRss?: number;
}

/** Times `work`, with the CPU of PostgreSQL and (if given) the hub, sampling the hub's RSS. */
async function measure(name: string, rows: number, hub: Child | undefined, work: () => Promise<void>): Promise<Phase> {
  let peakRss = 0;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    if (!hub) return;
    const m = memoryOf(hub.pid);
    if (m) peakRss = Math.max(peakRss, m.rss);
    // Without /proc the child reports its own RSS over IPC (late when its event loop is busy).
    else sampling = sampling.then(() => hub.rss().then((r) => void (peakRss = Math.max(peakRss, r))));
  };
  const timer = setInterval(sample, SAMPLE_MS);
  const pg0 = postgresCpu();
  const cpu0 = hub ? await hub.cpu() : 0;
  sample();
  const t0 = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  sample();
  await sampling;
  const pg1 = postgresCpu();
  const phase: Phase = { name, rows, seconds };
  if (pg0 !== undefined && pg1 !== undefined) phase.pgCpu = (pg1 - pg0) / 1e6;
  if (hub) {
    phase.hubCpu = ((await hub.cpu()) - cpu0) / 1e6;
    phase.peakRss = peakRss;
  }
  return phase;
}

async function main() {
  const opts = readOptions();
  const machine = machineInfo();
  const problems: string[] = [];
  const bench = await createBenchDatabase(opts.adminUrl);
  const dir = opts.keepDir ?? mkdtempSync(join(os.tmpdir(), "hub-bench-ingest-"));
  if (opts.keepDir) mkdirSync(opts.keepDir, { recursive: true });
  const files = {
    bundle: join(dir, "bundle.json"),
    observables: join(dir, "observables.copy"),
    reports: join(dir, "reports.copy"),
  };
  let sql: postgres.Sql | undefined;
  let hub: Child | undefined;
  try {
    // Seed one organisation and an analyst straight into the database.
    const { openDatabase } = await import("../src/db/client");
    const { World } = await import("../test/harness");
    const database = await openDatabase({ url: bench.url, poolMax: 2 });
    let orgId: string;
    let token: string;
    try {
      await database.migrate();
      const world = new World(database);
      const org = await world.org("MEMBER_STATE", `Bench CERT ${randomBytes(3).toString("hex")}`);
      orgId = org.id;
      token = (await world.account(org, "ANALYST")).token;
    } finally {
      await database.close();
    }
    sql = postgres(bench.url, { max: 1, onnotice: () => {} });
    const settings = await sql<{ name: string; setting: string }[]>`
      select name, current_setting(name) as setting from pg_settings
      where name in ('shared_buffers', 'max_wal_size', 'synchronous_commit', 'wal_level', 'work_mem', 'fsync')
      order by name`;

    hub = await startChild(SELF, ["--serve", "hub"], "hub", { BENCH_CHILD_DATABASE_URL: bench.url }, opts.profileDir);

    // The feed, through the API as a CERT would register it.
    const created = await fetch(`${hub.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `mutation($input: CreateFeedInput!) { createFeed(input: $input) { id } }`,
        variables: { input: { name: "Bench STIX feed", format: "STIX", defaultMarking: { tlp: "GREEN" } } },
      }),
    });
    const feedBody = (await created.json()) as { data?: { createFeed?: { id: string } }; errors?: unknown };
    const feedGid = feedBody.data?.createFeed?.id;
    if (!feedGid) throw new Error(`createFeed failed: ${JSON.stringify(feedBody)}`);
    const [feedRow] = await sql<{ id: string }[]>`select id from feeds`;
    if (!feedRow) throw new Error("the feed is not in the database");

    const g0 = performance.now();
    const bundleBytes = await writeBundle(files.bundle, opts.count);
    const copyBytes = await writeCopyFiles(files.observables, files.reports, opts.count, feedRow.id, orgId);
    const generateS = (performance.now() - g0) / 1000;

    printHeader("Ingest benchmark", opts.tiny, machine, bench.pgVersion);
    out(`postgres: ${settings.map((s) => `${s.name}=${s.setting}`).join(", ")}`);
    out(
      `bundle: ${fmt(opts.count)} STIX indicators (${TYPES.join(", ")} in rotation; confidence, valid_from, ` +
        `TLP 2.0 GREEN), ${fmt(mb(bundleBytes), 1)} MB; COPY text ${fmt(mb(copyBytes.observableBytes + copyBytes.reportBytes), 1)} MB; ` +
        `generated to files in ${fmt(generateS, 1)} s (not timed below)`,
    );
    out(
      "hub: createApp in a child process, HUB_ENV=production, request log to /dev/null; POST /ingest streams the file " +
        `(application/stix+json); RSS sampled every ${SAMPLE_MS} ms`,
    );
    out("limit: COPY observables then COPY reports, one transaction, into the same tables emptied first");
    out();

    const phases: Phase[] = [];
    const show = (p: Phase) => {
      phases.push(p);
      out(
        `${p.name.padEnd(34)} ${fmt(p.seconds, 1).padStart(7)} s  ${fmt(p.rows / p.seconds).padStart(9)} /s` +
          (p.hubCpu !== undefined ? `  hub cpu ${fmt(p.hubCpu, 1)} s` : "") +
          (p.pgCpu !== undefined ? `  postgres cpu ${fmt(p.pgCpu, 1)} s` : "") +
          (p.peakRss !== undefined ? `  hub peak RSS ${fmt(mb(p.peakRss))} MB` : ""),
      );
    };
    const ingestOnce = async (name: string): Promise<{ phase: Phase; report: IngestReport | undefined }> => {
      await sql?.unsafe("checkpoint");
      let answer: { status: number; body: string } = { status: 0, body: "" };
      const phase = await measure(name, opts.count, hub, async () => {
        try {
          answer = await postIngest(hub?.url ?? "", token, feedGid, files.bundle);
        } catch (e) {
          // e.g. ECONNRESET: node:http's requestTimeout (300 s by default) cuts a body still streaming.
          answer = { status: 0, body: `request failed: ${e instanceof Error ? e.message : String(e)}` };
        }
      });
      show(phase);
      let report: IngestReport | undefined;
      try {
        report = (JSON.parse(answer.body) as { data?: { ingest?: IngestReport } }).data?.ingest;
      } catch {
        report = undefined;
      }
      if (answer.status !== 200 || !report) {
        problems.push(`${name}: HTTP ${answer.status} ${answer.body.slice(0, 300)}`);
        return { phase, report: undefined };
      }
      return { phase, report };
    };
    const expectCounts = (name: string, report: IngestReport | undefined, want: IngestCounts) => {
      if (!report) return;
      const got = report.reports;
      if (
        got.created !== want.created ||
        got.updated !== want.updated ||
        got.unchanged !== want.unchanged ||
        report.rejected !== 0 ||
        report.skipped !== 0
      )
        problems.push(
          `${name}: expected reports ${JSON.stringify(want)}, got ${JSON.stringify(got)}, ` +
            `rejected ${report.rejected}, skipped ${report.skipped} ${JSON.stringify(report.rejections.slice(0, 3))}`,
        );
    };

    const first = await ingestOnce("hub POST /ingest (all new)");
    expectCounts("first ingest", first.report, { created: opts.count, updated: 0, unchanged: 0 });
    const hubRows = await fingerprint(sql);
    const again = await ingestOnce("hub POST /ingest (again, unchanged)");
    expectCounts("second ingest", again.report, { created: 0, updated: 0, unchanged: opts.count });
    const hubHwm = memoryOf(hub.pid)?.hwm;
    await hub.stop();
    hub = undefined;

    // The limit: the same rows straight into the same tables, emptied first.
    // incident_indicators (empty here) references observables, so it is emptied with them.
    await sql`truncate reports, sightings, incident_indicators, observables restart identity`;
    await sql.unsafe("checkpoint");
    let copyObservables = 0;
    const copyBoth = await measure("COPY observables + reports", opts.count, undefined, async () => {
      await sql?.begin(async (tx) => {
        const t0 = performance.now();
        await copyIn(tx, COPY_OBSERVABLES, createReadStream(files.observables));
        copyObservables = (performance.now() - t0) / 1000;
        await copyIn(tx, COPY_REPORTS, createReadStream(files.reports));
      });
    });
    show({ name: "  of which COPY observables", rows: opts.count, seconds: copyObservables });
    show({ name: "  of which COPY reports", rows: opts.count, seconds: copyBoth.seconds - copyObservables });
    show(copyBoth);
    const copyRows = await fingerprint(sql);
    if (hubRows.reports !== opts.count || hubRows.observables !== opts.count)
      problems.push(
        `the hub wrote ${hubRows.reports} reports and ${hubRows.observables} observables, not ${opts.count}`,
      );
    if (JSON.stringify(hubRows) !== JSON.stringify(copyRows))
      problems.push(
        `the hub's rows differ from the COPYed rows: ${JSON.stringify(hubRows)} vs ${JSON.stringify(copyRows)}`,
      );

    const rate = (p: Phase) => p.rows / p.seconds;
    const hubVsCopy = rate(first.phase) / rate(copyBoth);
    const againVsCopy = rate(again.phase) / rate(copyBoth);
    const peakRss = Math.max(first.phase.peakRss ?? 0, again.phase.peakRss ?? 0, hubHwm ?? 0);

    out();
    out("## Summary");
    table(
      ["what", "indicators", "seconds", "indicators/s", "vs COPY", "hub cpu s", "postgres cpu s", "hub peak RSS MB"],
      phases.map((p) => [
        p.name,
        fmt(p.rows),
        fmt(p.seconds, 1),
        fmt(rate(p)),
        pct(rate(p) / rate(copyBoth)),
        p.hubCpu === undefined ? "" : fmt(p.hubCpu, 1),
        p.pgCpu === undefined ? "" : fmt(p.pgCpu, 1),
        p.peakRss === undefined ? "" : fmt(mb(p.peakRss)),
      ]),
    );
    out();
    out(`hub / COPY:             ${pct(hubVsCopy)}   goal: >= 40 %`);
    out(`re-ingest / COPY:       ${pct(againVsCopy)}   (idempotent re-ingest: every item unchanged)`);
    out(
      `hub peak RSS:           ${fmt(mb(peakRss))} MB   goal: < 500 MB` +
        (hubHwm !== undefined ? `   (VmHWM over the hub's life ${fmt(mb(hubHwm))} MB)` : ""),
    );
    out(
      "hub cpu s is the hub process alone; postgres cpu s is every PostgreSQL process on this machine (backends, " +
        "WAL writer, checkpointer). Their sum against the wall time shows who waits for whom on two cores.",
    );
    out(
      `checks: first ingest created ${first.report?.reports.created ?? "?"}, second left ${again.report?.reports.unchanged ?? "?"} ` +
        `unchanged; hub rows ${hubRows.reports} reports / ${hubRows.observables} observables, fingerprint ` +
        `${hubRows.hash === copyRows.hash ? "equal to" : "DIFFERENT from"} the COPYed rows'`,
    );
    for (const p of problems) out(`PROBLEM: ${p}`);
    out(
      problems.length ? "RESULT: incorrect results (see above)" : "RESULT: ingest reports and stored rows as expected",
    );
    const phaseJson = (p: Phase) => ({
      seconds: Number(p.seconds.toFixed(2)),
      perSecond: Math.round(rate(p)),
      ...(p.hubCpu === undefined ? {} : { hubCpuS: Number(p.hubCpu.toFixed(2)) }),
      ...(p.pgCpu === undefined ? {} : { postgresCpuS: Number(p.pgCpu.toFixed(2)) }),
      ...(p.peakRss === undefined ? {} : { hubPeakRssMb: Math.round(mb(p.peakRss)) }),
    });
    out(
      JSON.stringify({
        bench: "ingest",
        tiny: opts.tiny,
        machine: { ...machine, postgres: bench.pgVersion ?? null },
        settings: {
          count: opts.count,
          bundleMb: Number(mb(bundleBytes).toFixed(1)),
          postgres: Object.fromEntries(settings.map((s) => [s.name, s.setting])),
        },
        hubIngest: phaseJson(first.phase),
        hubReingest: phaseJson(again.phase),
        copy: { ...phaseJson(copyBoth), observablesS: Number(copyObservables.toFixed(2)) },
        ratios: { hubVsCopy: ratio3(hubVsCopy), reingestVsCopy: ratio3(againVsCopy) },
        hubPeakRssMb: Math.round(mb(peakRss)),
        correct: problems.length === 0,
      }),
    );
  } finally {
    await hub?.stop();
    await sql?.end({ timeout: 5 });
    await bench.drop();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  }
  if (problems.length) process.exitCode = 1;
}

const serveAt = argv.indexOf("--serve");
if (serveAt >= 0) {
  runChild("hub", () => serveHub("info")).catch((e: unknown) => {
    process.stderr.write(`bench child hub could not start: ${e instanceof Error ? (e.stack ?? e.message) : e}\n`);
    process.exit(1);
  });
} else if (argv.includes("--help")) {
  out("npm run bench:ingest -- [--count n] [--profile dir] [--keep dir] [--tiny]");
  out("env: BENCH_COUNT BENCH_TINY=1 BENCH_PROFILE_DIR BENCH_KEEP_DIR BENCH_DATABASE_URL");
} else {
  main().catch((e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  });
}
