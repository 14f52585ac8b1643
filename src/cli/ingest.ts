import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";

/**
 * npm run ingest -- --url http://127.0.0.1:4000 --feed <feed id> [--token <token>] [--format stix|misp|csv] FILE
 *
 * Streams FILE to POST /ingest (so any size goes, with bounded memory on both sides), shows the
 * upload's progress on stderr, and prints the hub's report as JSON on stdout. The token may come
 * from HUB_TOKEN instead of --token, which keeps it out of the process list and shell history.
 * Exit codes: 0 ingested (even with rejected items), 1 refused or failed, 2 bad usage.
 */
const CONTENT_TYPES: Record<string, string> = {
  stix: "application/stix+json",
  misp: "application/vnd.misp+json",
  csv: "text/csv",
};

interface AttributionSummary {
  assessments: { created: number; updated: number; unchanged: number; withdrawn: number };
  actors: { created: number; revoked: number };
}

const USAGE =
  "usage: npm run ingest -- --url URL --feed FEED_ID [--token TOKEN | env HUB_TOKEN] [--format stix|misp|csv] [--quiet] FILE";

function usage(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  process.stdout.write(
    `${USAGE}\nStreams FILE (STIX 2.1, MISP or CSV; the format from --format, else CSV for a .csv, .txt or .tsv file, else the feed's) ` +
      "to the hub's POST /ingest for the feed, showing progress, and prints the ingest report. " +
      "HUB_URL defaults the URL (http://127.0.0.1:4000).\n",
  );
  process.exit(0);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        url: { type: "string", default: process.env.HUB_URL ?? "http://127.0.0.1:4000" },
        token: { type: "string" },
        feed: { type: "string" },
        format: { type: "string" },
        quiet: { type: "boolean", default: false },
      },
    });
  } catch (e) {
    return usage((e as Error).message);
  }
})();

const file = positionals[0];
const token = values.token ?? process.env.HUB_TOKEN;
if (!file) usage("FILE is missing");
if (!values.feed) usage("--feed is missing");
if (!token) usage("no token: pass --token or set HUB_TOKEN");
const format = values.format?.toLowerCase();
if (format && !CONTENT_TYPES[format]) usage(`--format must be stix, misp or csv, not ${values.format}`);

let size: number;
try {
  size = statSync(file).size;
} catch (e) {
  process.stderr.write(`cannot read ${file}: ${(e as Error).message}\n`);
  process.exit(1);
}

const contentType =
  (format && CONTENT_TYPES[format]) ?? (/\.(csv|txt|tsv)$/i.test(file) ? "text/csv" : "application/json");
const bar = new cliProgress.SingleBar(
  {
    format: "uploading {bar} {percentage}% | {value}/{total} bytes | {rate} MB/s",
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 2000,
  },
  cliProgress.Presets.shades_classic,
);
const started = Date.now();
let sent = 0;
if (!values.quiet) bar.start(size, 0, { rate: "0.0" });
const stream = createReadStream(file);
stream.on("data", (chunk) => {
  sent += chunk.length;
  const seconds = Math.max((Date.now() - started) / 1000, 0.001);
  if (!values.quiet) bar.update(sent, { rate: (sent / 1e6 / seconds).toFixed(1) });
});

const target = new URL("/ingest", values.url);
target.searchParams.set("feed", values.feed);
try {
  const res = await fetch(target, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": contentType, "content-length": String(size) },
    body: Readable.toWeb(stream) as ReadableStream<Uint8Array>,
    duplex: "half",
  } as RequestInit);
  if (!values.quiet) bar.stop();
  if (!values.quiet)
    process.stderr.write(`waiting for the hub's report... done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  const body = (await res.json()) as {
    data?: { ingest: unknown };
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (!res.ok || body.errors) {
    for (const e of body.errors ?? []) process.stderr.write(`${e.extensions?.code ?? res.status}: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify(body.data?.ingest, null, 2)}\n`);
  const a = (body.data?.ingest as { attributions?: AttributionSummary } | undefined)?.attributions;
  if (a && !values.quiet && (Object.values(a.assessments).some(Boolean) || Object.values(a.actors).some(Boolean)))
    process.stderr.write(
      `attributions: ${a.assessments.created} assessments created, ${a.assessments.updated} updated, ` +
        `${a.assessments.unchanged} unchanged, ${a.assessments.withdrawn} withdrawn; ` +
        `${a.actors.created} actors created, ${a.actors.revoked} revoked\n`,
    );
} catch (e) {
  if (!values.quiet) bar.stop();
  process.stderr.write(`ingest failed: ${(e as Error).message}\n`);
  process.exit(1);
}
