// type-graphql reads decorator metadata through this polyfill; load it before any schema class.
import "reflect-metadata";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import {
  adminUrlFromEnv,
  createBenchDatabase,
  flag,
  fmt,
  machineInfo,
  median,
  out,
  positive,
  printHeader,
  ratio3,
  table,
} from "./common";
import { writeBundle } from "./indicator-data";

/**
 * Trends benchmark (issue 5 §3): with N reports and N sightings (default 1,000,000 each) spread
 * over 52 ISO weeks and over the member states of one regional body, the hub's `trends` answer
 * (weekly count by indicator type over the whole window, for the whole hub, asked by the operator
 * over HTTP) against, in the same run, the raw `GROUP BY` over the base rows with no access,
 * consent or suppression logic. The rows go in set-based (INSERT ... SELECT over generate_series,
 * 100,000 rows a statement), so the rollups are filled by the triggers exactly as in production.
 * The same load of sightings is first timed with the triggers disabled, for the triggers' cost on
 * a set-based write; and at the end a generated STIX bundle (--ingest, default 100,000 indicators)
 * goes through POST /ingest, timed against the time the hub's connections spent in the triggers
 * (pg_stat_user_functions, with track_functions = 'pl' set on the bench database). Every organisation allows everything but RED and there is no RED or revoked
 * row, so every unsuppressed count must equal the raw one: the benchmark checks it (exit 1
 * otherwise) and that no cell the raw query fills is suppressed (every cell has every member).
 * The type lives on observables, so the raw query joins them; a weekly count with no type (no
 * join: the cheapest scan there is) is timed too, for reference.
 *
 *   npm run bench:trends -- [--count 1000000] [--members 12] [--rounds 7] [--ingest 100000] [--tiny]
 *
 * Rounds alternate the order of the two; the figures are medians. Nothing here asserts a speed.
 */

const tiny = flag("tiny", "BENCH_TINY");
const count = Math.floor(positive("count", "BENCH_COUNT", tiny ? 20_000 : 1_000_000));
const members = Math.floor(positive("members", "BENCH_MEMBERS", 12));
const rounds = Math.floor(positive("rounds", "BENCH_ROUNDS", tiny ? 2 : 7));
const ingestCount = Math.floor(positive("ingest", "BENCH_INGEST", tiny ? 2_000 : 100_000));
const CHUNK = 100_000;
/** 52 ISO weeks: Monday 2025-01-06 to Monday 2026-01-05 (exclusive). */
const FROM = "2025-01-06T00:00:00.000Z";
const TO = "2026-01-05T00:00:00.000Z";
const TLPS = ["CLEAR", "GREEN", "AMBER", "AMBER_STRICT"];

const QUERY = `query($input: TrendsInput!) { trends(input: $input) { k buckets { start cells { key count contributors suppressed } } } }`;

type Metric = "INDICATORS" | "SIGHTINGS";
const TABLE: Record<Metric, string> = { INDICATORS: "reports", SIGHTINGS: "sightings" };

interface HubAnswer {
  data?: {
    trends: {
      k: number;
      buckets: {
        start: string;
        cells: { key: string[]; count: number | null; contributors: number | null; suppressed: boolean }[];
      }[];
    };
  };
  errors?: unknown[];
}

async function main() {
  const machine = machineInfo();
  const bench = await createBenchDatabase(adminUrlFromEnv());
  printHeader("trends: the hub's k-anonymous weekly counts against a raw GROUP BY", tiny, machine, bench.pgVersion);
  out(`${fmt(count)} reports and ${fmt(count)} sightings over 52 weeks, ${members} member states; ${rounds} rounds`);
  let sql: postgres.Sql | undefined;
  let app: { url: string; dispose(): Promise<void> } | undefined;
  let failed = false;
  try {
    const { openDatabase } = await import("../src/db/client");
    const { World } = await import("../test/harness");
    const { OBSERVABLE_TYPES } = await import("../src/modules/indicators/normalize");
    const database = await openDatabase({ url: bench.url, poolMax: 2 });
    let operatorToken: string;
    let analystToken = "";
    const orgIds: string[] = [];
    try {
      await database.migrate();
      const world = new World(database);
      const region = await world.org("REGIONAL_BODY", `Bench region ${randomBytes(3).toString("hex")}`);
      for (let i = 0; i < members; i++) {
        const m = await world.org("MEMBER_STATE");
        await world.membership(region, m);
        orgIds.push(m.id);
        if (i === 0) analystToken = (await world.account(m, "ANALYST")).token;
      }
      operatorToken = (await world.account(await world.org("HUB_OPERATOR"), "READER")).token;
    } finally {
      await database.close();
    }
    // Time spent in PL/pgSQL functions (the rollup triggers) is counted from here on, for every
    // connection opened after this (the hub's too): pg_stat_user_functions.
    await (async () => {
      const admin = postgres(bench.url, { max: 1, onnotice: () => {} });
      await admin.unsafe(`alter database ${bench.name} set track_functions = 'pl'`);
      await admin.end();
    })();
    const db = (sql = postgres(bench.url, { max: 1, onnotice: () => {} }));
    const feeds = await db<{ id: string; owner: string }[]>`
      insert into feeds (owner_org_id, name, format, default_tlp)
      select o, 'Bench feed', 'STIX', 'GREEN' from unnest(${orgIds}::uuid[]) o
      returning id, owner_org_id as owner`;
    const feedIds = feeds.map((f) => f.id);
    const owners = feeds.map((f) => f.owner);

    const time = async (work: () => Promise<unknown>) => {
      const t0 = performance.now();
      await work();
      return (performance.now() - t0) / 1000;
    };
    const inChunks = (statement: (lo: number, hi: number) => Promise<unknown>) =>
      time(async () => {
        for (let lo = 1; lo <= count; lo += CHUNK) await statement(lo, Math.min(count, lo + CHUNK - 1));
      });
    const [{ base } = { base: 1 }] = await db<{ base: number }[]>`
      select coalesce(max(id), 0)::int + 1 as base from observables`;
    const observablesS = await inChunks(
      (lo, hi) => db`
        insert into observables (type, value, stix_id)
        select (${OBSERVABLE_TYPES}::text[])[1 + i % ${OBSERVABLE_TYPES.length}]::observable_type, 'bench-' || i, 'x--' || i
        from generate_series(${lo}::int, ${hi}::int) i`,
    );
    // Row i: observable i, member (i mod members), a TLP other than RED, a moment spread over the
    // 364 days by a multiplicative hash of i (so weeks and types all fill).
    const load = (table: string, shift: number) => (lo: number, hi: number) =>
      db.unsafe(
        `insert into ${table} (observable_id, feed_id, owner_org_id, tlp, created_at)
         select $1::bigint + i - 1, (($2::uuid[])[1 + (i + $4) % $3]), (($5::uuid[])[1 + (i + $4) % $3]),
           (($6::text[])[1 + (i / $3) % 4])::tlp,
           $7::timestamptz + ((i::bigint * 2654435761) % 31449600) * interval '1 second'
         from generate_series($8::int, $9::int) i`,
        [base, feedIds, members, shift, owners, TLPS, FROM, lo, hi] as never[],
      );
    // Time in the rollup triggers so far, as pg_stat_user_functions has it (this connection's own
    // pending figures flushed first; other connections flush theirs within about ten seconds).
    const triggerMs = async () => {
      await db`select pg_stat_force_next_flush()`;
      const [r] = await db<{ ms: number }[]>`
        select coalesce(sum(total_time), 0)::float8 as ms from pg_stat_user_functions
        where funcname in ('trend_indicator_rollup_apply', 'trend_incident_rollup_apply', 'trend_assessment_rollup_apply')`;
      return r?.ms ?? 0;
    };
    const beforeReports = await triggerMs();
    const reportsS = await inChunks(load("reports", 0));
    const reportsTriggerS = ((await triggerMs()) - beforeReports) / 1000;
    await db`alter table sightings disable trigger user`;
    const sightingsBareS = await inChunks(load("sightings", 5));
    await db`alter table sightings enable trigger user`;
    await db`truncate sightings`;
    const sightingsS = await inChunks(load("sightings", 5));
    // Each load statement wrote rows of its own transaction; the hub merges them every
    // TRENDS_COMPACT_MS (trend_rollup_compact()). Done here once, timed, before anything is read.
    const compactS = await time(() => db`select trend_rollup_compact()`);
    for (const t of ["observables", "reports", "sightings", "trend_indicator_rollup"])
      await db.unsafe(`vacuum analyze ${t}`);
    const [{ rollupRows } = { rollupRows: 0 }] = await db<{ rollupRows: number }[]>`
      select count(*)::int as "rollupRows" from trend_indicator_rollup`;
    out();
    table(
      ["load (set-based, 100,000 rows a statement)", "s", "rows/s"],
      [
        ["observables", fmt(observablesS, 1), fmt(count / observablesS)],
        ["reports, triggers on", fmt(reportsS, 1), fmt(count / reportsS)],
        ["sightings, triggers off", fmt(sightingsBareS, 1), fmt(count / sightingsBareS)],
        ["sightings, triggers on", fmt(sightingsS, 1), fmt(count / sightingsS)],
      ],
    );
    out(`compaction of the rollups after the loads (trend_rollup_compact()): ${fmt(compactS, 1)} s`);
    out(
      `trigger cost on the sightings load: ${fmt((sightingsS / sightingsBareS - 1) * 100, 1)} % (rollup rows: ${fmt(rollupRows)})`,
    );

    const { createApp } = await import("../src/app");
    const { testConfig } = await import("../src/config");
    app = await createApp(
      testConfig({ HUB_ENV: "production", HOST: "127.0.0.1", PORT: 0, DATABASE_URL: bench.url, LOG_LEVEL: "silent" }),
    );
    const hubUrl = app.url;

    const raw = async (metric: Metric) =>
      db.unsafe<{ week: string; type: string; n: number }[]>(
        `select to_char(date_trunc('week', r.created_at at time zone 'UTC'), 'YYYY-MM-DD') as week, o.type::text as type,
           count(*)::int as n
         from ${TABLE[metric]} r join observables o on o.id = r.observable_id
         where r.created_at >= $1 and r.created_at < $2
         group by 1, 2`,
        [FROM, TO],
      );
    // The cheapest scan there is, for reference: weekly counts with no type (so no join).
    const rawWeekly = async (metric: Metric) =>
      db.unsafe(
        `select date_trunc('week', r.created_at at time zone 'UTC') as week, count(*)::int as n
         from ${TABLE[metric]} r where r.created_at >= $1 and r.created_at < $2 group by 1`,
        [FROM, TO],
      );
    const hubAsk = async (metric: Metric) => {
      const res = await fetch(`${hubUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${operatorToken}` },
        body: JSON.stringify({
          query: QUERY,
          variables: { input: { metric, interval: "WEEK", from: FROM, to: TO, groupBy: ["INDICATOR_TYPE"] } },
        }),
      });
      return { status: res.status, text: await res.text() };
    };

    const rows: string[][] = [];
    const json: Record<string, unknown> = { count, members, rounds, tiny };
    for (const metric of ["INDICATORS", "SIGHTINGS"] as const) {
      // Correctness first: every unsuppressed count equals the raw one, and nothing the raw query
      // counts is suppressed (every cell has all the members as contributors).
      const expected = new Map((await raw(metric)).map((r) => [`${r.week} ${r.type}`, r.n]));
      const answer = await hubAsk(metric);
      const body = JSON.parse(answer.text) as HubAnswer;
      if (answer.status !== 200 || !body.data)
        throw new Error(`the hub answered ${answer.status}: ${answer.text.slice(0, 500)}`);
      let compared = 0;
      let mismatches = 0;
      let suppressedWithData = 0;
      for (const b of body.data.trends.buckets)
        for (const c of b.cells) {
          const want = expected.get(`${b.start.slice(0, 10)} ${c.key[0]}`);
          if (c.suppressed) {
            if (want !== undefined) suppressedWithData++;
          } else {
            compared++;
            if (c.count !== want) mismatches++;
          }
        }
      if (compared !== expected.size || mismatches || suppressedWithData) {
        failed = true;
        out(
          `${metric}: MISMATCH: ${compared} unsuppressed cells for ${expected.size} raw groups, ${mismatches} differing counts, ${suppressedWithData} suppressed cells with data`,
        );
      }
      const hubMs: number[] = [];
      const rawMs: number[] = [];
      const weeklyMs: number[] = [];
      await raw(metric); // warm each once more
      await rawWeekly(metric);
      await hubAsk(metric);
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 ? (["hub", "weekly", "raw"] as const) : (["raw", "weekly", "hub"] as const);
        for (const which of order) {
          const t0 = performance.now();
          if (which === "raw") await raw(metric);
          else if (which === "weekly") await rawWeekly(metric);
          else await hubAsk(metric);
          (which === "raw" ? rawMs : which === "weekly" ? weeklyMs : hubMs).push(performance.now() - t0);
        }
      }
      const h = median(hubMs);
      const w = median(rawMs);
      const wk = median(weeklyMs);
      rows.push([
        metric,
        fmt(w, 1),
        fmt(wk, 1),
        fmt(h, 1),
        `${(h / w).toFixed(3)}x`,
        `${(h / wk).toFixed(3)}x`,
        `${compared} of ${expected.size}${mismatches || suppressedWithData ? " (MISMATCH)" : ", identical"}`,
      ]);
      json[metric] = {
        rawMs: Number(w.toFixed(1)),
        hubMs: Number(h.toFixed(1)),
        ratio: ratio3(h / w),
        cells: compared,
      };
    }
    out();
    table(
      [
        "weekly count by type, 52 weeks",
        "raw GROUP BY ms",
        "raw by week only ms",
        "hub trends ms",
        "hub / raw",
        "hub / week only",
        "unsuppressed cells",
      ],
      rows,
    );
    out("goal (issue 5): hub <= 0.25x raw, with identical unsuppressed counts");

    // The triggers' share of a real ingest: a generated STIX bundle through POST /ingest, timed,
    // against the time the hub's connections spent in the rollup triggers meanwhile.
    const dir = mkdtempSync(join(tmpdir(), "hub-bench-trends-"));
    try {
      const bundle = join(dir, "bundle.json");
      await writeBundle(bundle, ingestCount);
      const [feed] = await db<{ id: string }[]>`
        insert into feeds (owner_org_id, name, format, default_tlp)
        values (${orgIds[0] ?? ""}, 'Bench ingest feed', 'STIX', 'GREEN') returning id`;
      const { toGlobalId } = await import("../src/shared/ids");
      const before = await triggerMs();
      const t0 = performance.now();
      const res = await fetch(`${hubUrl}/ingest?feed=${toGlobalId("Feed", feed?.id ?? "")}`, {
        method: "POST",
        headers: { "content-type": "application/stix+json", authorization: `Bearer ${analystToken}` },
        body: readFileSync(bundle),
      });
      const answer = await res.text();
      const ingestS = (performance.now() - t0) / 1000;
      if (res.status !== 200) throw new Error(`POST /ingest answered ${res.status}: ${answer.slice(0, 300)}`);
      // Wait for the hub's connections to report their function times (stable for 2 s, at most 20 s).
      let spent = (await triggerMs()) - before;
      for (let waited = 0, still = 0; waited < 20_000 && still < 2; waited += 1000) {
        await new Promise((r) => setTimeout(r, 1000));
        const now = (await triggerMs()) - before;
        still = now === spent && now > 0 ? still + 1 : 0;
        spent = now;
      }
      const spentS = spent / 1000;
      out(
        `POST /ingest of ${fmt(ingestCount)} new STIX indicators: ${fmt(ingestS, 1)} s (${fmt(ingestCount / ingestS)}/s), of which ${fmt(spentS, 2)} s in the rollup triggers (${fmt((spentS / ingestS) * 100, 1)} %)`,
      );
      json.ingest = {
        count: ingestCount,
        seconds: Number(ingestS.toFixed(2)),
        triggerSeconds: Number(spentS.toFixed(3)),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    json.load = {
      reportsTriggerS: Number(reportsTriggerS.toFixed(2)),
      compactS: Number(compactS.toFixed(2)),
      reportsPerS: Math.round(count / reportsS),
      sightingsPerS: Math.round(count / sightingsS),
      sightingsBarePerS: Math.round(count / sightingsBareS),
      rollupRows,
    };
    out(`JSON ${JSON.stringify(json)}`);
  } finally {
    await app?.dispose();
    await sql?.end({ timeout: 5 });
    await bench.drop();
  }
  if (failed) process.exit(1);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
