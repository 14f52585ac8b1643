import { createReadStream, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { describe, expect, it } from "vitest";
import type { ParsedItem, Parser, ReportItem, SightingItem } from "../src/modules/indicators/ingest.types";
import {
  formatFromContentType,
  parseCsv,
  parseMisp,
  parserFor,
  parseStix,
  simplePatternValues,
  TO_IDS_FALSE_LABEL,
} from "../src/modules/indicators/parsers";
import { walkJson, type JsonPath } from "../src/modules/indicators/parsers/json-walk";

const FIXTURES = fileURLToPath(new URL("../../shared/fixtures/", import.meta.url));

/** A file as a byte stream in small, odd-sized chunks, so values and UTF-8 sequences straddle chunks. */
function file(rel: string, chunk = 509): AsyncIterable<Uint8Array> {
  return createReadStream(join(FIXTURES, rel), { highWaterMark: chunk });
}

async function* text(s: string, chunk = 7): AsyncGenerator<string> {
  for (let i = 0; i < s.length; i += chunk) yield s.slice(i, i + chunk);
}

async function parse(parser: Parser, input: AsyncIterable<Uint8Array | string>): Promise<ParsedItem[]> {
  const items: ParsedItem[] = [];
  for await (const item of parser(input)) items.push(item);
  return items;
}

const json = (v: unknown): AsyncGenerator<string> => text(JSON.stringify(v));
const reports = (items: ParsedItem[]): ReportItem[] => items.filter((i): i is ReportItem => i.kind === "report");
const sightings = (items: ParsedItem[]): SightingItem[] =>
  items.filter((i): i is SightingItem => i.kind === "sighting");

interface Tally {
  report: number;
  sighting: number;
  skipped: number;
  rejected: number;
  /** campaign / intrusion-set / threat-actor / attributed-to and revoked-by relationships. */
  attribution: number;
}

function tally(items: ParsedItem[]): Tally {
  const t: Tally = { report: 0, sighting: 0, skipped: 0, rejected: 0, attribution: 0 };
  for (const i of items) t[i.kind === "stix-attribution" ? "attribution" : i.kind]++;
  return t;
}

function countBy<T>(xs: T[], key: (x: T) => string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) {
    const k = key(x) ?? "none";
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const t = (report: number, sighting: number, skipped: number, rejected: number, attribution = 0): Tally => ({
  report,
  sighting,
  skipped,
  rejected,
  attribution,
});

/**
 * Every data file under ../shared/fixtures, with its counts made by hand from the file (object
 * types counted with jq/python, OR-lists of poisonivy.json summed by eye): reports, sightings,
 * skipped, rejected. Files with no indicator are here too, to show nothing in them is lost.
 */
const FIXTURE_COUNTS: [string, "STIX" | "MISP", Tally][] = [
  // 2 identities, 2 attack-patterns (skipped), 2 campaigns, threat-actor, intrusion-set, 6 attributed-to
  // relationships (attribution items), 12 other relationships (skipped)
  [
    "stix2.1-cti-documentation-examples/defining-campaigns-threat-actors-intrusion-sets.json",
    "STIX",
    t(0, 0, 16, 0, 10),
  ],
  ["stix2.1-cti-documentation-examples/identifying-a-threat-actor-profile.json", "STIX", t(0, 0, 1, 0, 2)],
  ["stix2.1-cti-documentation-examples/indicator-for-malicious-url.json", "STIX", t(1, 0, 2, 0)],
  ["stix2.1-cti-documentation-examples/malware-indicator-for-file-hash.json", "STIX", t(1, 0, 2, 0)],
  // indicator, sighting of it, 2 identities
  ["stix2.1-cti-documentation-examples/sighting-of-an-indicator.json", "STIX", t(1, 1, 2, 0)],
  // file (MD5 + SHA-1: 2 reports), observed-data → file (1 sighting), observed-data → registry key
  // (skipped), registry key, sighting of a malware, malware, 2 identities (skipped)
  ["stix2.1-cti-documentation-examples/sighting-of-observed-data.json", "STIX", t(2, 1, 6, 0)],
  [
    "stix2.1-cti-documentation-examples/threat-actor-leveraging-attack-patterns-and-malware.json",
    "STIX",
    t(0, 0, 5, 0, 2),
  ],
  // the indicator's MATCHES pattern is kept whole
  ["stix2.1-cti-documentation-examples/using-granular-markings.json", "STIX", t(1, 0, 2, 0, 1)],
  ["stix2.1-cti-documentation-examples/using-marking-definitions.json", "STIX", t(1, 0, 3, 0)],
  ["stix2.1-json-schemas/examples/indicator-for-c2-ip-address.json", "STIX", t(1, 0, 0, 0)],
  ["stix2.1-json-schemas/examples/indicator-to-campaign-relationship.json", "STIX", t(1, 0, 1, 0, 1)],
  ["stix2.1-json-schemas/examples/indicators-for-C2-with-COA.json", "STIX", t(2, 0, 6, 0)],
  // ipv4-addr and domain-name observables; 2 infrastructures, 2 malware, 4 relationships
  ["stix2.1-json-schemas/examples/infrastructure.json", "STIX", t(2, 0, 8, 0)],
  // one bare campaign object, not a bundle
  ["stix2.1-json-schemas/examples/interop-objectmarking-test.json", "STIX", t(0, 0, 0, 0, 1)],
  ["stix2.1-json-schemas/examples/malicious-email-indicator-with-attachment.json", "STIX", t(2, 0, 4, 0)],
  // 12 indicators (10 simple, 2 x509 AND patterns) among 76 objects
  ["stix2.1-json-schemas/examples/threat-reports/apt1.json", "STIX", t(12, 0, 51, 0, 13)],
  // 25 indicators with OR-lists: 1+6+7+5+11+3+2+2+2+2+1+3+2+2+1+2+1+1+2+2+2+2+2+2+1 = 67
  ["stix2.1-json-schemas/examples/threat-reports/poisonivy.json", "STIX", t(67, 0, 127, 0, 3)],
  ["stix2.1-tlp2-marking-extension/examples/tlp-amber+strict.json", "STIX", t(0, 0, 1, 0)],
  ["stix2.1-tlp2-marking-extension/examples/tlp-amber.json", "STIX", t(0, 0, 1, 0)],
  ["stix2.1-tlp2-marking-extension/examples/tlp-clear.json", "STIX", t(0, 0, 1, 0)],
  ["stix2.1-tlp2-marking-extension/examples/using-tlp2.0-green.json", "STIX", t(0, 0, 1, 0, 2)],
  // a JSON Schema, not STIX: one rejection
  [
    "stix2.1-tlp2-marking-extension/extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d.json",
    "STIX",
    t(0, 0, 0, 1),
  ],
  // a TAXII server's whole state, not a bundle: one rejection (its collection is tested below)
  ["taxii2.1-medallion-testdata/default_data.json", "STIX", t(0, 0, 0, 1)],
  // identity, marking-definition (skipped); 8 campaigns, 16 intrusion-sets, 7 relationships (attribution)
  ["mitre-attack-ics-attribution-subset/ics-attack-18.1-attribution-subset.json", "STIX", t(0, 0, 2, 0, 31)],
  // 9 attributes: md5, sha1, sha256 kept; 2 link, comment, text, filename, regkey|value skipped
  ["misp-events/pymisp-tests/57c4445b-c548-4654-af0b-4be3950d210f.json", "MISP", t(3, 0, 6, 0)],
  // 9 attributes (7 domain; link, text) and 49 objects with 113 attributes
  // (37 sha1, 12 ip-dst, 12 domain kept; 37 text, 15 filename skipped): 7+61 = 68, 2+52 = 54
  ["misp-events/pymisp-tests/existing_event.json", "MISP", t(68, 0, 54, 0)],
  // two sharing groups, no event: two rejections
  ["misp-events/pymisp-tests/sharing_groups.json", "MISP", t(0, 0, 0, 2)],
  // 32 attributes: 7 email-dst, 4 email-src, 5 x filename|md5/sha1/sha256, 2 url kept; 4 text skipped
  ["misp-events/eset-malware-ioc/sednit-2018-11-20_Zebrocy.json", "MISP", t(28, 0, 4, 0)],
];

function dataFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? dataFiles(join(dir, e.name)) : e.name.endsWith(".json") ? [join(dir, e.name)] : [],
  );
}

async function parseFixture(rel: string, format: "STIX" | "MISP"): Promise<ParsedItem[]> {
  return parse(parserFor(format), file(rel));
}

describe("the shared fixtures", () => {
  it("lists every STIX and MISP data file (schemas and taxonomies are not data)", () => {
    const all = dataFiles(FIXTURES)
      .map((f) => relative(FIXTURES, f))
      .filter((f) => !f.startsWith("stix2.1-json-schemas/schemas/") && !f.startsWith("taxonomies/"));
    expect(all.sort()).toEqual(FIXTURE_COUNTS.map(([f]) => f).sort());
  });

  it.each(FIXTURE_COUNTS)("%s (%s) parses to the counts made by hand", async (rel, format, expected) => {
    expect(tally(await parseFixture(rel, format))).toEqual(expected);
  });
});

describe("STIX fixtures, item by item", () => {
  it("splits poisonivy's OR-lists into one report per value, all with the indicator's id", async () => {
    const items = reports(await parseFixture("stix2.1-json-schemas/examples/threat-reports/poisonivy.json", "STIX"));
    expect(countBy(items, (r) => r.type)).toEqual({ DOMAIN: 25, IPV4: 40, STIX_PATTERN: 2 });
    const byinter = items.filter((r) => r.stixId === "indicator--8da68996-f175-4ae0-bd74-aad4913873b8");
    expect(byinter).toHaveLength(11);
    expect(byinter[0]).toMatchObject({ value: "microsofta.byinter.net", type: "DOMAIN", ref: expect.any(String) });
    expect(byinter.at(-1)).toMatchObject({ value: "98.126.148.114", type: "IPV4" });
    expect(new Set(byinter.map((r) => r.ref)).size).toBe(1);
    // The source's typo stays in the value; normalisation rejects it later with a reason.
    expect(items.some((r) => r.value === "domain autuo.xicp.net" && r.type === "DOMAIN")).toBe(true);
    expect(items.find((r) => r.type === "STIX_PATTERN")?.value).toBe("[file:name = 'CBricksDoc']");
    expect(items[0]?.labels).toEqual(["malicious-activity", "attribution"]);
  });

  it("keeps apt1's CIDR ranges, domains and MD5s, and its x509 AND patterns whole", async () => {
    const items = reports(await parseFixture("stix2.1-json-schemas/examples/threat-reports/apt1.json", "STIX"));
    expect(countBy(items, (r) => r.type)).toEqual({ IPV4: 4, DOMAIN: 3, MD5: 3, STIX_PATTERN: 2 });
    expect(items.map((r) => r.value)).toContain("223.166.0.0/15");
    expect(items.find((r) => r.type === "MD5")).toMatchObject({ value: "001dd76872d80801692ff942308c64e6" });
    expect(items.find((r) => r.type === "STIX_PATTERN")?.value).toMatch(
      /^\[x509-certificate:issuer = 'CN=WEBMAIL' AND/,
    );
  });

  it("reads the quoted SHA-256 hash name, the description and the dates", async () => {
    const [r] = reports(
      await parseFixture("stix2.1-cti-documentation-examples/malware-indicator-for-file-hash.json", "STIX"),
    );
    expect(r).toMatchObject({
      type: "SHA256",
      value: "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c",
      stixId: "indicator--a932fcc6-e032-476c-826f-cb970a5a1ade",
      labels: ["malicious-activity"],
    });
    expect(r?.validFrom).toBeInstanceOf(Date);
    expect(r?.stixModified?.toISOString()).toBe("2014-02-20T09:16:08.989Z");
  });

  it("takes TLP 1.0 AMBER from the fixed marking id and ignores the copyright statement", async () => {
    const items = await parseFixture("stix2.1-cti-documentation-examples/using-marking-definitions.json", "STIX");
    expect(reports(items)).toEqual([expect.objectContaining({ value: "10.0.0.0", type: "IPV4", tlp: "AMBER" })]);
  });

  it("turns a sighting of an indicator into a sighting of its id", async () => {
    const items = await parseFixture("stix2.1-cti-documentation-examples/sighting-of-an-indicator.json", "STIX");
    expect(sightings(items)).toEqual([
      {
        kind: "sighting",
        ref: "objects[3]",
        sightingOfRef: "indicator--9299f726-ce06-492e-8472-2b52ccb53191",
        firstSeen: new Date("2017-02-27T21:37:11.213Z"),
        lastSeen: new Date("2017-02-27T21:37:11.214Z"),
        count: 1,
        stixId: "sighting--8356e820-8080-4692-aa91-ecbe94006833",
      },
    ]);
  });

  it("reports a file observable per hash and sights it through observed-data", async () => {
    const items = await parseFixture("stix2.1-cti-documentation-examples/sighting-of-observed-data.json", "STIX");
    expect(reports(items).map((r) => [r.type, r.value, r.stixId])).toEqual([
      ["MD5", "1717b7fff97d37a1e1a0029d83492de1", "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"],
      ["SHA1", "c79a326f8411e9488bdc3779753e1e3489aaedea", "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d"],
    ]);
    expect(sightings(items)).toEqual([
      expect.objectContaining({
        sightingOfRef: "file--364fe3e5-b1f4-5ba3-b951-ee5983b3538d",
        stixId: "observed-data--cf8eaa41-6f4c-482e-89b9-9cd2d6a83cb1",
        count: 1,
      }),
    ]);
    const skipped = items.filter((i) => i.kind === "skipped").map((i) => (i.kind === "skipped" ? i.reason : ""));
    expect(skipped).toContain("sighting of a malware, not of an indicator");
    expect(skipped).toContain("observed windows-registry-key is not stored");
  });

  it("reads a TAXII envelope: medallion's indicator collection, versions and all", async () => {
    const state = JSON.parse(readFileSync(join(FIXTURES, "taxii2.1-medallion-testdata/default_data.json"), "utf8")) as {
      trustgroup1: { collections: { id: string; objects: unknown[] }[] };
    };
    const collection = state.trustgroup1.collections.find((c) => c.id === "91a7b528-80eb-42ed-a74d-c6fbd5a26116");
    const items = await parse(parseStix, json({ objects: collection?.objects, more: false }));
    expect(tally(items)).toEqual(t(4, 0, 4, 0));
    // Three versions of one indicator; the first named another URL.
    expect(
      reports(items)
        .filter((r) => r.stixId === "indicator--6770298f-0fd8-471a-ab8c-1c658a46574e")
        .map((r) => [r.value, r.stixModified?.toISOString(), r.labels]),
    ).toEqual([
      ["http://z4z10farb.cn/4712", "2016-11-03T12:30:59.000Z", ["url-watchlist"]],
      ["http://x4z9arb.cn/4712", "2016-12-25T12:30:59.444Z", ["url-watchlist"]],
      ["http://x4z9arb.cn/4712", "2017-01-27T13:49:53.935Z", ["url-watchlist"]],
    ]);
  });
});

const GREEN_1 = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da";
const WHITE_1 = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9";
const RED_1 = "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed";
const CLEAR_2 = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487";
const GREEN_2 = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb";
const AMBER_2 = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421";
const AMBER_STRICT_2 = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003";
const RED_2 = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1";

let seq = 0;
function indicator(pattern: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  seq++;
  return {
    type: "indicator",
    spec_version: "2.1",
    id: `indicator--00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    created: "2024-01-01T00:00:00.000Z",
    modified: "2024-01-02T00:00:00.000Z",
    pattern,
    pattern_type: "stix",
    valid_from: "2024-01-01T00:00:00Z",
    ...extra,
  };
}

const bundle = (...objects: unknown[]): AsyncGenerator<string> =>
  json({ type: "bundle", id: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", objects });

describe("STIX patterns", () => {
  it.each([
    ["[ipv4-addr:value = '198.51.100.1']", [["IPV4", "198.51.100.1"]]],
    ["[ ipv6-addr:value = '2001:db8::1' ]", [["IPV6", "2001:db8::1"]]],
    ["[email-addr:value = 'a@b.example']", [["EMAIL", "a@b.example"]]],
    [
      "[file:hashes.MD5 = 'AA'] OR [file:hashes.sha1 = 'BB']",
      [
        ["MD5", "AA"],
        ["SHA1", "BB"],
      ],
    ],
    [
      "[file:hashes.'SHA-512' = 'CC' OR file:hashes.SHA256 = 'DD']",
      [
        ["SHA512", "CC"],
        ["SHA256", "DD"],
      ],
    ],
    ["[file:hashes.'sha-1' = 'EE']", [["SHA1", "EE"]]],
    [
      "([domain-name:value = 'a.example'] OR [url:value = 'http://b.example/'])",
      [
        ["DOMAIN", "a.example"],
        ["URL", "http://b.example/"],
      ],
    ],
    ["[(domain-name:value = 'a.example' OR domain-name:value = 'a.example')]", [["DOMAIN", "a.example"]]],
    ["[url:value = 'http://x.example/it\\'s']", [["URL", "http://x.example/it's"]]],
    ["[url:value = 'http://x.example/a\\\\b OR c']", [["URL", "http://x.example/a\\b OR c"]]],
  ])("%s gives plain values", (pattern, expected) => {
    expect(simplePatternValues(pattern)?.map((v) => [v.type, v.value])).toEqual(expected);
  });

  it.each([
    "[ipv4-addr:value = '198.51.100.1' AND domain-name:value = 'a.example']",
    "[ipv4-addr:value = '198.51.100.1'] AND [domain-name:value = 'a.example']",
    "[ipv4-addr:value != '198.51.100.1']",
    "[ipv4-addr:value ISSUBSET '198.51.100.0/24']",
    "[domain-name:value MATCHES '^evil']",
    "[file:name = 'evil.exe']",
    "[file:hashes.'SHA3-256' = 'aa']",
    "[ipv4-addr:value = '198.51.100.1'] WITHIN 300 SECONDS",
    "[ipv4-addr:value = '198.51.100.1'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'",
    "[ipv4-addr:value = '198.51.100.1'] FOLLOWEDBY [ipv4-addr:value = '198.51.100.2']",
    "[ipv4-addr:value NOT = '198.51.100.1']",
    "[url:value = 'unterminated]",
    "[url:value = 'bad \\n escape']",
    "[ipv4-addr:value = '198.51.100.1'",
  ])("%s is kept whole", (pattern) => {
    expect(simplePatternValues(pattern)).toBeNull();
  });

  it("keeps the indicator's fields on every value and falls back to STIX_PATTERN with the text", async () => {
    const or = indicator("[ipv4-addr:value = '198.51.100.1' OR domain-name:value = 'evil.example']", {
      confidence: 85,
      labels: ["c2"],
      indicator_types: ["malicious-activity", "c2"],
      kill_chain_phases: [{ kill_chain_name: "lockheed-martin-cyber-kill-chain", phase_name: "command-and-control" }],
      description: "C2 of the week",
      name: "ignored when there is a description",
      valid_until: "2025-01-01T00:00:00Z",
      revoked: true,
      object_marking_refs: [GREEN_2],
    });
    const within = indicator("[ipv4-addr:value = '198.51.100.9'] WITHIN 60 SECONDS", { name: "the name" });
    const items = await parse(parseStix, bundle(or, within));
    const common = {
      kind: "report",
      ref: "objects[0]",
      tlp: "GREEN",
      confidence: 85,
      labels: ["c2", "malicious-activity"],
      killChainPhases: [{ killChainName: "lockheed-martin-cyber-kill-chain", phaseName: "command-and-control" }],
      description: "C2 of the week",
      stixId: or.id,
      stixModified: new Date("2024-01-02T00:00:00.000Z"),
      validFrom: new Date("2024-01-01T00:00:00Z"),
      validUntil: new Date("2025-01-01T00:00:00Z"),
      revoked: true,
    };
    expect(items).toEqual([
      { ...common, value: "198.51.100.1", type: "IPV4" },
      { ...common, value: "evil.example", type: "DOMAIN" },
      {
        kind: "report",
        ref: "objects[1]",
        value: "[ipv4-addr:value = '198.51.100.9'] WITHIN 60 SECONDS",
        type: "STIX_PATTERN",
        description: "the name",
        stixId: within.id,
        stixModified: new Date("2024-01-02T00:00:00.000Z"),
        validFrom: new Date("2024-01-01T00:00:00Z"),
      },
    ]);
  });

  it("skips other pattern languages and rejects bad properties with the reason", async () => {
    const items = await parse(
      parseStix,
      bundle(
        indicator("alert tcp any any -> any 80", { pattern_type: "snort" }),
        indicator("[ipv4-addr:value = '198.51.100.1']", { confidence: 101 }),
        indicator("[ipv4-addr:value = '198.51.100.1']", { valid_until: "next tuesday" }),
        { ...indicator(""), pattern: undefined },
        { id: "x--1" },
        "not an object",
      ),
    );
    expect(items).toEqual([
      { kind: "skipped", ref: "objects[0]", reason: "indicator with pattern_type snort" },
      { kind: "rejected", ref: "objects[1]", reason: "indicator: confidence must be an integer 0-100, not 101" },
      { kind: "rejected", ref: "objects[2]", reason: 'indicator: valid_until is not a timestamp: "next tuesday"' },
      { kind: "rejected", ref: "objects[3]", reason: "indicator has no pattern" },
      { kind: "rejected", ref: "objects[4]", reason: "object has no type" },
      { kind: "rejected", ref: "objects[5]", reason: "not a JSON object" },
    ]);
  });
});

describe("STIX markings", () => {
  it.each([
    [[WHITE_1], "CLEAR"],
    [[GREEN_1], "GREEN"],
    [["marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"], "AMBER"],
    [[RED_1], "RED"],
    [[CLEAR_2], "CLEAR"],
    [[GREEN_2], "GREEN"],
    [[AMBER_2], "AMBER"],
    [[AMBER_STRICT_2], "AMBER_STRICT"],
    [[RED_2], "RED"],
    [[GREEN_1, AMBER_STRICT_2], "AMBER_STRICT"],
    [["marking-definition--d81f86b9-975b-4c0b-875e-810c5ad45a4f"], undefined],
  ])("object_marking_refs %j give %s", async (refs, tlp) => {
    const [r] = await parse(
      parseStix,
      bundle(indicator("[domain-name:value = 'a.example']", { object_marking_refs: refs })),
    );
    expect(r).toMatchObject({ kind: "report" });
    expect((r as ReportItem).tlp).toBe(tlp);
  });

  it("learns a TLP marking defined earlier in the bundle under its own id, TLP 1.0 or 2.0 style", async () => {
    const custom1 = "marking-definition--11111111-1111-4111-8111-111111111111";
    const custom2 = "marking-definition--22222222-2222-4222-8222-222222222222";
    const items = await parse(
      parseStix,
      bundle(
        indicator("[domain-name:value = 'before.example']", { object_marking_refs: [custom1] }),
        { type: "marking-definition", id: custom1, definition_type: "tlp", definition: { tlp: "red" } },
        {
          type: "marking-definition",
          id: custom2,
          extensions: {
            "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d": {
              extension_type: "property-extension",
              tlp_2_0: "amber+strict",
            },
          },
        },
        // A standard id keeps its standard meaning, whatever a bundle says.
        { type: "marking-definition", id: GREEN_1, definition_type: "tlp", definition: { tlp: "red" } },
        indicator("[domain-name:value = 'after.example']", { object_marking_refs: [custom1] }),
        indicator("[domain-name:value = 'strict.example']", { object_marking_refs: [custom2] }),
        indicator("[domain-name:value = 'green.example']", { object_marking_refs: [GREEN_1] }),
      ),
    );
    expect(reports(items).map((r) => [r.value, r.tlp])).toEqual([
      ["before.example", undefined],
      ["after.example", "RED"],
      ["strict.example", "AMBER_STRICT"],
      ["green.example", "GREEN"],
    ]);
  });
});

describe("STIX observables, observed-data and document shapes", () => {
  it("reports top-level observables with their type and id, one per supported file hash", async () => {
    const items = await parse(
      parseStix,
      bundle(
        { type: "ipv6-addr", id: "ipv6-addr--1", value: "2001:db8::1", object_marking_refs: [RED_2] },
        { type: "url", id: "url--1", value: "hxxp://evil[.]example/x" },
        { type: "email-addr", id: "email-addr--1", value: "a@evil.example" },
        {
          type: "file",
          id: "file--1",
          hashes: { "SHA-256": "aa".repeat(32), SSDEEP: "3:a:b", sha512: "bb".repeat(64) },
        },
        { type: "file", id: "file--2", name: "x.exe" },
        { type: "domain-name", id: "domain-name--1" },
        { type: "mac-addr", id: "mac-addr--1", value: "00:00:5e:00:53:01" },
      ),
    );
    expect(items).toEqual([
      { kind: "report", ref: "objects[0]", value: "2001:db8::1", type: "IPV6", tlp: "RED", stixId: "ipv6-addr--1" },
      { kind: "report", ref: "objects[1]", value: "hxxp://evil[.]example/x", type: "URL", stixId: "url--1" },
      { kind: "report", ref: "objects[2]", value: "a@evil.example", type: "EMAIL", stixId: "email-addr--1" },
      { kind: "report", ref: "objects[3]", value: "aa".repeat(32), type: "SHA256", stixId: "file--1" },
      { kind: "skipped", ref: "objects[3].hashes.SSDEEP", reason: "file hash SSDEEP is not a stored hash type" },
      { kind: "report", ref: "objects[3]", value: "bb".repeat(64), type: "SHA512", stixId: "file--1" },
      { kind: "skipped", ref: "objects[4]", reason: "file without hashes" },
      { kind: "rejected", ref: "objects[5]", reason: "domain-name has no value" },
      { kind: "skipped", ref: "objects[6]", reason: "mac-addr is not an indicator, observable or sighting" },
    ]);
  });

  it("turns observed-data with embedded objects into sightings of their values", async () => {
    const items = await parse(
      parseStix,
      bundle({
        type: "observed-data",
        id: "observed-data--1",
        first_observed: "2024-03-01T00:00:00Z",
        last_observed: "2024-03-02T00:00:00Z",
        number_observed: 7,
        object_marking_refs: [AMBER_2],
        objects: { "0": { type: "ipv4-addr", value: "203.0.113.5" }, "1": { type: "process", pid: 4 } },
      }),
    );
    expect(items).toEqual([
      {
        kind: "sighting",
        ref: "objects[0].objects.0",
        value: "203.0.113.5",
        type: "IPV4",
        tlp: "AMBER",
        firstSeen: new Date("2024-03-01T00:00:00Z"),
        lastSeen: new Date("2024-03-02T00:00:00Z"),
        count: 7,
        stixId: "observed-data--1",
      },
      { kind: "skipped", ref: "objects[0].objects.1", reason: "observed process is not stored" },
    ]);
  });

  it("treats a single STIX object as a one-object bundle and rejects other JSON", async () => {
    const single = indicator("[domain-name:value = 'single.example']");
    expect(reports(await parse(parseStix, json(single)))).toEqual([
      expect.objectContaining({ ref: "$", value: "single.example", stixId: single.id }),
    ]);
    expect(await parse(parseStix, json({ hello: "world" }))).toEqual([
      {
        kind: "rejected",
        ref: "$",
        reason: "not a STIX bundle, TAXII envelope or STIX object (no objects, type or id)",
      },
    ]);
    expect(await parse(parseStix, text("42"))).toEqual([
      { kind: "rejected", ref: "$", reason: "not a STIX bundle: the document is a single JSON value" },
    ]);
    expect(tally(await parse(parseStix, json([single, { type: "identity", id: "identity--1" }])))).toEqual(
      t(1, 0, 1, 0),
    );
    expect(await parse(parseStix, json({ type: "bundle", id: "bundle--1" }))).toEqual([
      { kind: "skipped", ref: "$", reason: "empty bundle" },
    ]);
  });

  it("throws a clear error on malformed or truncated JSON", async () => {
    await expect(parse(parseStix, text('{"type": "bundle", "objects": [{"type": }]}'))).rejects.toThrow(
      /^malformed JSON near character \d+: /,
    );
    await expect(parse(parseStix, text('{"type": "bundle", "objects": [{"type": "indicator"'))).rejects.toThrow(
      "malformed JSON: the input ends inside objects",
    );
    await expect(parse(parseStix, text("  "))).rejects.toThrow("malformed JSON: the input is empty");
    await expect(parse(parseStix, text('{"type": "bundle"} {}'))).rejects.toThrow(/malformed JSON/);
  });

  it("reads UTF-8 split across chunks and a leading byte-order mark", async () => {
    const bytes = new TextEncoder().encode(
      "\uFEFF" + JSON.stringify({ type: "bundle", objects: [indicator("[domain-name:value = 'bücher.example']")] }),
    );
    async function* oneByteAtATime(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < bytes.length; i++) yield bytes.subarray(i, i + 1);
    }
    expect(reports(await parse(parseStix, oneByteAtATime()))[0]?.value).toBe("bücher.example");
  });
});

describe("the JSON walker", () => {
  // Strings with what delimiting must not be fooled by: escaped quotes and backslashes (runs of
  // them, at a chunk's end too), brackets and commas inside strings, \u escapes, surrogate pairs.
  const tricky = [
    "plain",
    'a "quoted" word',
    "back\\slash",
    "ends with a backslash \\",
    "\\\\\\",
    '\\"',
    "brackets { [ ] } , : in text",
    "\u0000 and \u2028",
    "emoji \ud83d\ude00 and bücher",
  ];
  const doc = {
    type: "bundle",
    [tricky[1] as string]: tricky,
    objects: tricky.map((t, i) => ({ id: `x--${i}`, t, nested: { list: [t, i, -1.5e3, true, false, null], [t]: {} } })),
    after: [{ "}": "]" }],
    n: 12.5,
  };

  /** The document cut into pieces of 1 to `max` characters (a fixed pseudo-random sequence). */
  async function* pieces(t: string, max: number): AsyncGenerator<string> {
    let seed = max;
    for (let at = 0; at < t.length;) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      const n = 1 + (seed % max);
      yield t.slice(at, at + n);
      at += n;
    }
  }

  it("assembles exactly what JSON.parse reads, however the text is cut", async () => {
    for (const t of [JSON.stringify(doc), JSON.stringify(doc, null, 2)])
      for (const max of [1, 2, 3, 7, 64, 100_000]) {
        const values: unknown[] = [];
        const skipped: JsonPath[] = [];
        const walk = walkJson(pieces(t, max), (path, kind) => {
          if (path.length === 0) return "descend";
          if (path[0] === "objects" && path.length === 1) return "descend";
          if (path[0] === "after") {
            skipped.push(path);
            return "skip";
          }
          return path.length === 2 || path[0] !== "objects" ? "assemble" : kind === "scalar" ? "assemble" : "skip";
        });
        for await (const batch of walk) for (const e of batch) if (e.kind === "value") values.push(e.value);
        const parsed = JSON.parse(t) as typeof doc;
        expect(values).toEqual([parsed.type, parsed[tricky[1] as string], ...parsed.objects, parsed.n]);
        expect(skipped).toEqual([["after"]]);
      }
  });
});

describe("MISP fixtures, item by item", () => {
  it("feed wrapping: tlp:white is CLEAR, comment is the description, category and tags are labels", async () => {
    const items = reports(
      await parseFixture("misp-events/pymisp-tests/57c4445b-c548-4654-af0b-4be3950d210f.json", "MISP"),
    );
    expect(items.map((r) => [r.type, r.value, r.tlp])).toEqual([
      ["MD5", "0749bae92ca336a02c83d126e04ec628", "CLEAR"],
      ["SHA1", "77b0c41b7d340b8a3d903f21347bbf06aa766b5b", "CLEAR"],
      ["SHA256", "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68", "CLEAR"],
    ]);
    expect(items[0]).toMatchObject({
      ref: "Event.Attribute[5]",
      description: "Imported via the Freetext Import Tool",
      lastSeen: new Date(1472480395 * 1000),
      labels: expect.arrayContaining(["misp-category:Payload delivery", 'circl:incident-classification="malware"']),
    });
    expect(items[0]?.labels).not.toContain(TO_IDS_FALSE_LABEL);
  });

  it("bare event: attributes inside objects, the object's comment, confidence from osint:certainty", async () => {
    const items = await parseFixture("misp-events/pymisp-tests/existing_event.json", "MISP");
    const r = reports(items);
    expect(countBy(r, (x) => x.type)).toEqual({ DOMAIN: 19, SHA1: 37, IPV4: 12 });
    expect(new Set(r.map((x) => x.tlp))).toEqual(new Set(["CLEAR"]));
    expect(r.find((x) => x.ref === "Object[0].Attribute[1]")).toMatchObject({
      value: "68064fc152e23d56e541714af52651cb4ba81aaf",
      type: "SHA1",
      description: "Win32/Sednit.AX",
    });
    expect(r.find((x) => x.value === "movieultimate.com")?.description).toBe("Xagent Samples");
    // The 12 domain-ip objects and their attributes have empty comments: the event's info stands in.
    expect(r.find((x) => x.value === "87.236.211.182")).toMatchObject({
      type: "IPV4",
      ref: expect.stringMatching(/^Object\[\d+\]\.Attribute\[0\]$/),
      description: "OSINT - Sednit update: How Fancy Bear Spent the Year",
    });
    expect(r.every((x) => x.labels?.includes('misp-galaxy:threat-actor="Sofacy"'))).toBe(true);
    // Only the link attribute carries osint:certainty="93", and it is skipped.
    expect(r.filter((x) => x.confidence !== undefined)).toEqual([]);
  });

  it("API response: no tlp tag, distribution 3 is GREEN, to_ids=false is kept and labelled", async () => {
    const items = reports(await parseFixture("misp-events/eset-malware-ioc/sednit-2018-11-20_Zebrocy.json", "MISP"));
    expect(countBy(items, (r) => r.type)).toEqual({ EMAIL: 11, SHA1: 5, MD5: 5, SHA256: 5, URL: 2 });
    expect(items.every((r) => r.tlp === "GREEN" && r.labels?.includes(TO_IDS_FALSE_LABEL))).toBe(true);
    expect(items[0]).toMatchObject({
      ref: "response[0].Event.Attribute[0]",
      type: "SHA1",
      value: "7768fd2812ceff05db8f969a7bed1de5615bfc5a",
      description: "Zebrocy blogpost November 2018",
    });
    expect(items.map((r) => r.value)).toContain(
      "http://45.124.132.127/company-device-support/values/correlate-sec.php",
    );
  });
});

function mispAttribute(type: string, value: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, value, category: "Network activity", to_ids: true, timestamp: "1700000000", ...extra };
}

const tag = (name: string): { name: string } => ({ name });

describe("MISP wrappings and mapping", () => {
  const event = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    info: "Synthetic event",
    distribution: "1",
    Attribute: [mispAttribute("ip-dst", "198.51.100.1")],
    Tag: [tag("tlp:amber")],
    ...extra,
  });

  it("reads the feed, bare and API wrappings, several events in a response, and a bare array", async () => {
    const feed = await parse(parseMisp, json({ Event: event() }));
    const bare = await parse(parseMisp, json(event()));
    const api = await parse(parseMisp, json({ response: [{ Event: event() }, { Event: event({ Tag: [] }) }] }));
    const list = await parse(parseMisp, json([{ Event: event() }, event()]));
    expect(reports(feed)).toEqual([expect.objectContaining({ ref: "Event.Attribute[0]", tlp: "AMBER" })]);
    expect(reports(bare)).toEqual([expect.objectContaining({ ref: "Attribute[0]", tlp: "AMBER" })]);
    expect(reports(api).map((r) => [r.ref, r.tlp])).toEqual([
      ["response[0].Event.Attribute[0]", "AMBER"],
      ["response[1].Event.Attribute[0]", "AMBER"],
    ]);
    expect(reports(list).map((r) => r.ref)).toEqual(["[0].Event.Attribute[0]", "[1].Attribute[0]"]);
    expect([feed, bare, api, list].map((items) => tally(items).rejected + tally(items).skipped)).toEqual([0, 0, 0, 0]);
  });

  it("applies the event's Tag even when it comes after the attributes", async () => {
    const items = await parse(
      parseMisp,
      text(
        `{"Event": {"Attribute": [${JSON.stringify(mispAttribute("domain", "late.example"))}], "Tag": [{"name": "tlp:red"}]}}`,
      ),
    );
    expect(reports(items)).toEqual([expect.objectContaining({ value: "late.example", type: "DOMAIN", tlp: "RED" })]);
  });

  it.each([
    ["0", { tlp: "RED", audienceOrgIds: [], audienceGroupIds: [] }],
    ["1", { tlp: "AMBER" }],
    ["2", { tlp: "GREEN" }],
    ["3", { tlp: "GREEN" }],
  ])("maps distribution %s without tlp tag to %j", async (distribution, marking) => {
    const [r] = reports(await parse(parseMisp, json({ Event: event({ distribution, Tag: [] }) })));
    expect(r).toMatchObject(marking);
    if (distribution !== "0") expect(r?.audienceOrgIds).toBeUndefined();
  });

  it("lets tlp tags win over distribution but for 0 (owner only), the attribute's over the event's, and the strictest distribution apply", async () => {
    const items = reports(
      await parse(
        parseMisp,
        json({
          Event: {
            info: "x",
            distribution: 3,
            Tag: [tag("tlp:white"), tag('osint:certainty="75"')],
            Attribute: [
              mispAttribute("domain", "inherit.example", { distribution: "5" }),
              mispAttribute("domain", "own-tag.example", { Tag: [tag("TLP:AMBER+STRICT")] }),
              mispAttribute("domain", "tlp-clear.example", { Tag: [tag("tlp:clear"), tag('osint:certainty="50"')] }),
              // Distribution 0 keeps it with the owner whatever its tag says: MISP would never share it.
              mispAttribute("domain", "tagged-org-only.example", { distribution: "0", Tag: [tag("tlp:green")] }),
            ],
          },
        }),
      ),
    );
    expect(items.map((r) => [r.value, r.tlp, r.confidence, r.audienceOrgIds])).toEqual([
      ["inherit.example", "CLEAR", 75, undefined],
      ["own-tag.example", "AMBER_STRICT", 75, undefined],
      ["tlp-clear.example", "CLEAR", 50, undefined],
      ["tagged-org-only.example", "RED", 75, []],
    ]);
    const untagged = reports(
      await parse(
        parseMisp,
        json({
          Event: {
            info: "x",
            distribution: "3",
            Attribute: [mispAttribute("domain", "org-only.example", { distribution: "0" })],
            Object: [
              { name: "domain-ip", distribution: "1", Attribute: [mispAttribute("domain", "community.example")] },
            ],
          },
        }),
      ),
    );
    expect(untagged.map((r) => [r.value, r.tlp, r.audienceOrgIds])).toEqual([
      ["org-only.example", "RED", []],
      ["community.example", "AMBER", undefined],
    ]);
  });

  describe("sharing groups (distribution 4)", () => {
    const CIRCLE = "5f0c3f6e-6b7a-4f4e-9d55-0a1b2c3d4e5f";
    const OTHER = "8d7e9f10-1a2b-4c3d-8e4f-5a6b7c8d9e0f";
    const circle = { id: "3", uuid: CIRCLE.toUpperCase(), name: "CERT circle" };
    const toCircle = (extra: Record<string, unknown> = {}) => ({
      audienceOrgIds: [],
      audienceGroupIds: [],
      sourceGroup: { id: CIRCLE, label: `MISP sharing group "CERT circle" (${CIRCLE})`, withinFeedAudience: false },
      ...extra,
    });

    it("names the event's group, by uuid, as the whole audience of its attributes (never the feed's)", async () => {
      const items = await parse(
        parseMisp,
        json({
          Event: event({ distribution: "4", sharing_group_id: "3", SharingGroup: circle, Tag: [] }),
        }),
      );
      expect(items).toEqual([expect.objectContaining({ kind: "report", tlp: "AMBER", ...toCircle() })]);
    });

    it("waits for the event's SharingGroup even when it comes after the attributes", async () => {
      const attribute = JSON.stringify(mispAttribute("domain", "late-group.example"));
      const items = await parse(
        parseMisp,
        text(
          `{"Event": {"info": "x", "distribution": "4", "sharing_group_id": "3", "Tag": [], ` +
            `"Attribute": [${attribute}], "SharingGroup": ${JSON.stringify(circle)}}}`,
        ),
      );
      expect(reports(items)).toEqual([expect.objectContaining({ value: "late-group.example", ...toCircle() })]);
    });

    it("reads an attribute's or object's own group, or its sharing_group_id among the groups the event describes", async () => {
      const items = await parse(
        parseMisp,
        json({
          Event: {
            info: "x",
            distribution: "3",
            Tag: [tag("tlp:amber+strict")],
            Attribute: [
              mispAttribute("domain", "own.example", {
                distribution: "4",
                sharing_group_id: "3",
                SharingGroup: circle,
              }),
              mispAttribute("domain", "nested.example", {
                distribution: 4,
                sharing_group_id: 3,
                SharingGroup: { SharingGroup: circle },
              }),
            ],
            Object: [
              {
                name: "domain-ip",
                distribution: "4",
                sharing_group_id: "3",
                SharingGroup: circle,
                Attribute: [
                  mispAttribute("domain", "in-object.example", { distribution: "5" }),
                  mispAttribute("domain", "by-id.example", { distribution: "4", sharing_group_id: "3" }),
                ],
              },
            ],
          },
        }),
      );
      // The tlp tag still sets the level; the group is the audience.
      expect(items.map((i) => [i.kind, "value" in i ? i.value : undefined])).toEqual([
        ["report", "own.example"],
        ["report", "nested.example"],
        ["report", "in-object.example"],
        ["report", "by-id.example"],
      ]);
      for (const r of reports(items)) expect(r).toMatchObject({ tlp: "AMBER_STRICT", ...toCircle() });
    });

    it("says when the group also lies within 'this community', and lets distribution 0 keep the owner alone", async () => {
      const items = reports(
        await parse(
          parseMisp,
          json({
            Event: {
              info: "x",
              distribution: "1",
              Attribute: [
                mispAttribute("domain", "community.example", { distribution: "4", SharingGroup: circle }),
                mispAttribute("domain", "org-only.example", {
                  distribution: "0",
                  Sighting: [{ type: "0", date_sighting: "1700000000" }],
                }),
              ],
            },
          }),
        ),
      );
      expect(items[0]).toMatchObject({
        tlp: "AMBER",
        sourceGroup: { id: CIRCLE, withinFeedAudience: true },
      });
      expect(items[1]).toMatchObject({ tlp: "RED", audienceOrgIds: [], audienceGroupIds: [] });
      expect(items[1]?.sourceGroup).toBeUndefined();
    });

    it("shares the attribute's sightings with the same group", async () => {
      const items = await parse(
        parseMisp,
        json({
          Event: event({
            distribution: "4",
            SharingGroup: circle,
            Tag: [],
            Attribute: [
              mispAttribute("ip-dst", "198.51.100.9", { Sighting: [{ type: "0", date_sighting: "1700000000" }] }),
            ],
          }),
        }),
      );
      expect(sightings(items)).toEqual([expect.objectContaining({ value: "198.51.100.9", ...toCircle() })]);
    });

    it("rejects, naming the group, an attribute whose group is not described with its uuid or is ambiguous", async () => {
      const items = await parse(
        parseMisp,
        json({
          Event: {
            info: "x",
            distribution: "4",
            sharing_group_id: "3",
            SharingGroup: circle,
            Attribute: [
              mispAttribute("domain", "by-unknown-id.example", { distribution: "4", sharing_group_id: "9" }),
              mispAttribute("domain", "no-uuid.example", {
                distribution: "4",
                SharingGroup: { id: "7", name: "Old group" },
              }),
              mispAttribute("domain", "two-groups.example", {
                distribution: "4",
                SharingGroup: { id: "8", uuid: OTHER, name: "Other" },
              }),
              mispAttribute("domain", "no-group.example", { distribution: "4", sharing_group_id: "0" }),
            ],
          },
        }),
      );
      // The last one names no group on its own level (sharing_group_id 0 is "none").
      expect(items.map((i) => (i.kind === "rejected" ? [i.value, i.reason] : i.kind))).toEqual([
        [
          "by-unknown-id.example",
          "distribution 4: MISP sharing group (id 9) is not described with its uuid in this event",
        ],
        [
          "no-uuid.example",
          'distribution 4: MISP sharing group "Old group" (id 7) is not described with its uuid in this event',
        ],
        [
          "two-groups.example",
          `distribution 4 names different sharing groups at different levels: MISP sharing group "Other" (${OTHER}), ` +
            `MISP sharing group "CERT circle" (${CIRCLE})`,
        ],
        ["no-group.example", "distribution 4 (sharing group) without a sharing group"],
      ]);
    });
  });

  it("maps composite and hash types, skips the rest by type, rejects broken values", async () => {
    const items = await parse(
      parseMisp,
      json({
        Event: event({
          Attribute: [
            mispAttribute("ip-src", "2001:db8::7"),
            mispAttribute("ip-dst|port", "198.51.100.2|443"),
            mispAttribute("domain|ip", "evil.example|198.51.100.3"),
            mispAttribute("hostname", "www.evil.example"),
            mispAttribute("url", "hxxp://evil[.]example/x"),
            mispAttribute("uri", "/gate.php"),
            mispAttribute("uri", "https://evil.example/gate.php"),
            mispAttribute("link", "https://blog.example/report"),
            mispAttribute("email-src", "a@evil.example"),
            mispAttribute("sha512", "ab".repeat(64)),
            mispAttribute("filename|sha256", `a|b.exe|${"cd".repeat(32)}`),
            mispAttribute("mutex", "Global\\x"),
            mispAttribute("domain|ip", "no-pipe.example"),
            mispAttribute("domain", ""),
            { value: "typeless" },
          ],
        }),
      }),
    );
    expect(
      items.map((i) => (i.kind === "report" ? [i.type, i.value] : [i.kind, "reason" in i ? i.reason : ""])),
    ).toEqual([
      ["IPV6", "2001:db8::7"],
      ["IPV4", "198.51.100.2"],
      ["DOMAIN", "evil.example"],
      ["IPV4", "198.51.100.3"],
      ["DOMAIN", "www.evil.example"],
      ["URL", "hxxp://evil[.]example/x"],
      ["skipped", "uri without scheme and host"],
      ["URL", "https://evil.example/gate.php"],
      ["skipped", "link (a reference to a source, not an indicator)"],
      ["EMAIL", "a@evil.example"],
      ["SHA512", "ab".repeat(64)],
      ["SHA256", "cd".repeat(32)],
      ["skipped", "MISP attribute type mutex is not stored"],
      ["rejected", "domain|ip value is not domain|ip"],
      ["rejected", "domain attribute has no value"],
      ["rejected", "attribute has no type"],
    ]);
  });

  it("keeps to_ids=false with a label, revokes deleted attributes, reads first/last seen and sightings", async () => {
    const items = await parse(
      parseMisp,
      json({
        Event: event({
          Attribute: [
            mispAttribute("domain", "context.example", { to_ids: false, comment: "seen in the lure" }),
            mispAttribute("domain", "withdrawn.example", { deleted: true }),
            mispAttribute("ip-dst", "198.51.100.4", {
              first_seen: "2024-05-01T10:00:00.000000+00:00",
              last_seen: "2024-05-03T10:00:00.000000+00:00",
              Sighting: [
                { type: "0", date_sighting: "1714730400" },
                { type: "1", date_sighting: "1714730400" },
              ],
            }),
          ],
          ShadowAttribute: [mispAttribute("domain", "proposal.example")],
        }),
      }),
    );
    expect(items).toEqual([
      expect.objectContaining({
        value: "context.example",
        labels: ["misp-category:Network activity", TO_IDS_FALSE_LABEL],
        description: "seen in the lure",
      }),
      expect.objectContaining({ value: "withdrawn.example", revoked: true, description: "Synthetic event" }),
      expect.objectContaining({
        value: "198.51.100.4",
        firstSeen: new Date("2024-05-01T10:00:00Z"),
        lastSeen: new Date("2024-05-03T10:00:00Z"),
      }),
      {
        kind: "sighting",
        ref: "Event.Attribute[2].Sighting[0]",
        value: "198.51.100.4",
        type: "IPV4",
        tlp: "AMBER",
        count: 1,
        firstSeen: new Date(1714730400 * 1000),
        lastSeen: new Date(1714730400 * 1000),
      },
      { kind: "skipped", ref: "Event.Attribute[2].Sighting[1]", reason: "false-positive sighting" },
      { kind: "skipped", ref: "Event.ShadowAttribute[0]", reason: "MISP proposal (ShadowAttribute)" },
    ]);
  });

  it("rejects an attribute whose times are not times, and takes no name from Object.prototype", async () => {
    const items = await parse(
      parseMisp,
      json({
        Event: event({
          Attribute: [
            mispAttribute("domain", "when.example", { first_seen: "last week" }),
            mispAttribute("constructor", "x"),
            mispAttribute("filename|toString", "a.exe|x"),
          ],
        }),
      }),
    );
    expect(items).toEqual([
      {
        kind: "rejected",
        ref: "Event.Attribute[0]",
        value: "when.example",
        reason: 'domain: first_seen is not a time: "last week"',
      },
      { kind: "skipped", ref: "Event.Attribute[1]", reason: "MISP attribute type constructor is not stored" },
      { kind: "skipped", ref: "Event.Attribute[2]", reason: "MISP attribute type filename|toString is not stored" },
    ]);
  });

  it("says what is not an event, and throws on malformed JSON", async () => {
    expect(await parse(parseMisp, json({ info: "empty" }))).toEqual([
      { kind: "skipped", ref: "$", reason: "MISP event without attributes" },
    ]);
    expect(await parse(parseMisp, json({ response: ["x"] }))).toEqual([
      { kind: "rejected", ref: "response[0]", reason: "not a MISP event: not a JSON object" },
    ]);
    await expect(parse(parseMisp, text('{"Event": {"Attribute": ['))).rejects.toThrow(/^malformed JSON/);
  });
});

describe("CSV and plain lists", () => {
  it("reads a plain list: one value a line, comments and blank lines ignored, defanged values raw", async () => {
    const items = await parse(
      parseCsv,
      text(
        "# blocklist\n\n198.51.100.1\nhxxp://evil[.]example/a\t17\n  # indented comment\nevil.example  # c2\r\nhttp://x.example/#frag\n",
      ),
    );
    expect(items).toEqual([
      { kind: "report", ref: "line 3", value: "198.51.100.1" },
      { kind: "report", ref: "line 4", value: "hxxp://evil[.]example/a" },
      { kind: "report", ref: "line 6", value: "evil.example" },
      { kind: "report", ref: "line 7", value: "http://x.example/#frag" },
    ]);
  });

  it("takes the first column of headerless CSV", async () => {
    expect(await parse(parseCsv, text("198.51.100.1,ipv4,90\n,orphan\n"))).toEqual([
      { kind: "report", ref: "line 1", value: "198.51.100.1" },
      { kind: "rejected", ref: "line 2", reason: "line 2: the first cell is empty" },
    ]);
  });

  it("detects a header and reads columns by name, rejecting bad cells with the line", async () => {
    const csv = [
      "# exported 2024-06-01",
      "IOC,Type,Confidence,TLP,Labels,First Seen,last_seen,valid-until,Description",
      '198.51.100.1,ipv4-addr,80,tlp:amber+strict,"c2;botnet",2024-01-02,2024-01-03T04:05:06Z,2025-01-01,"C2, port 443"',
      "2001:db8::1,ip,,white,,,,,",
      "evil[.]example,,,,,,,,",
      "bad.example,domain,101,purple,,yesterday,,,",
      ",domain,,,,,,,",
      "x.example,fish,,,,,,,",
    ].join("\n");
    expect(await parse(parseCsv, text(csv))).toEqual([
      {
        kind: "report",
        ref: "line 3",
        value: "198.51.100.1",
        type: "IPV4",
        confidence: 80,
        tlp: "AMBER_STRICT",
        labels: ["c2", "botnet"],
        firstSeen: new Date("2024-01-02T00:00:00Z"),
        lastSeen: new Date("2024-01-03T04:05:06Z"),
        validUntil: new Date("2025-01-01T00:00:00Z"),
        description: "C2, port 443",
      },
      { kind: "report", ref: "line 4", value: "2001:db8::1", type: "IPV6", tlp: "CLEAR" },
      { kind: "report", ref: "line 5", value: "evil[.]example" },
      {
        kind: "rejected",
        ref: "line 6",
        value: "bad.example",
        reason:
          'line 6: confidence must be an integer 0-100, not "101"; unknown TLP "purple"; first_seen is not an ISO 8601 date: "yesterday"',
      },
      { kind: "rejected", ref: "line 7", reason: "line 7: the value cell is empty" },
      { kind: "rejected", ref: "line 8", value: "x.example", reason: 'line 8: unknown type "fish"' },
    ]);
  });

  it("knows type names only from its own table", async () => {
    expect(await parse(parseCsv, text("value,type\nx.example,constructor\n"))).toEqual([
      { kind: "rejected", ref: "line 2", value: "x.example", reason: 'line 2: unknown type "constructor"' },
    ]);
    expect(await parse(parseStix, bundle({ type: "constructor", id: "constructor--1", value: "x" }))).toEqual([
      { kind: "skipped", ref: "objects[0]", reason: "constructor is not an indicator, observable or sighting" },
    ]);
  });

  it("fails on a header without a value column and on a row it cannot read", async () => {
    await expect(parse(parseCsv, text("type,tlp\nipv4,red\n"))).rejects.toThrow(
      "malformed CSV: the header at line 1 has no value column (value, indicator, ioc or observable)",
    );
    await expect(parse(parseCsv, text('value\n"bad"quote\nok.example\n'))).rejects.toThrow(/^malformed CSV: .*line 2/);
  });
});

describe("choosing a parser", () => {
  it.each([
    ["application/stix+json;version=2.1", "STIX"],
    ["application/taxii+json; version=2.1", "STIX"],
    ["application/vnd.misp+json", "MISP"],
    ["text/csv; charset=utf-8", "CSV"],
    ["TEXT/PLAIN", "CSV"],
    ["application/json", null],
    [undefined, null],
  ])("%s → %s", (contentType, format) => {
    expect(formatFromContentType(contentType)).toBe(format);
  });

  it("maps each format to its parser", () => {
    expect([parserFor("STIX"), parserFor("MISP"), parserFor("CSV")]).toEqual([parseStix, parseMisp, parseCsv]);
  });
});

/** V8's collector, to measure what stays reachable rather than garbage not yet collected. */
function collector(): () => void {
  v8.setFlagsFromString("--expose-gc");
  return vm.runInNewContext("gc") as () => void;
}

describe("streaming", () => {
  it("parses 200,000 generated indicators with a heap that does not grow with the input", async () => {
    const N = 200_000;
    const encoder = new TextEncoder();
    const patterns = [
      (i: number) => `[ipv4-addr:value = '10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}']`,
      (i: number) => `[domain-name:value = 'h${i}.example.com']`,
      (i: number) => `[file:hashes.'SHA-256' = '${i.toString(16).padStart(64, "0")}']`,
      (i: number) => `[url:value = 'http://e${i}.example/a' OR url:value = 'http://e${i}.example/b']`,
    ];
    // About 60 MB of JSON, produced lazily 500 indicators at a time and never held whole.
    async function* generated(): AsyncGenerator<Uint8Array> {
      yield encoder.encode('{"type":"bundle","id":"bundle--9a0b7c7e-7b0f-4c5e-9a55-3d0f2b1e4c11","objects":[');
      for (let start = 0; start < N; start += 500) {
        const part: string[] = [];
        for (let i = start; i < start + 500; i++)
          part.push(
            JSON.stringify(
              indicator(patterns[i % 4]?.(i) ?? "", { confidence: i % 101, object_marking_refs: [GREEN_2] }),
            ),
          );
        yield encoder.encode((start ? "," : "") + part.join(","));
      }
      yield encoder.encode("]}");
    }
    const gc = collector();
    gc();
    const before = process.memoryUsage().heapUsed;
    let count = 0;
    let maxGrowth = 0;
    for await (const item of parseStix(generated())) {
      if (item.kind !== "report") throw new Error(`unexpected ${JSON.stringify(item)}`);
      if (++count % 50_000 === 0) {
        gc();
        maxGrowth = Math.max(maxGrowth, process.memoryUsage().heapUsed - before);
      }
    }
    expect(count).toBe(N + N / 4);
    // Holding the items or the text would keep well over 100 MB reachable; streaming keeps a few.
    expect(maxGrowth).toBeLessThan(32 * 1024 * 1024);
  }, 60_000);

  it("spools a large MISP event to disk until its trailing Tag, then applies it to every attribute", async () => {
    const N = 20_000;
    async function* event(): AsyncGenerator<string> {
      yield '{"response": [{"Event": {"info": "big", "Attribute": [';
      for (let start = 0; start < N; start += 1_000) {
        const part: string[] = [];
        for (let i = start; i < start + 1_000; i++)
          part.push(JSON.stringify(mispAttribute("domain", `d${i}.example`, { distribution: "5" })));
        yield (start ? "," : "") + part.join(",");
      }
      yield '], "distribution": "1", "Tag": [{"name": "tlp:amber"}]}}]}';
    }
    let count = 0;
    let last: ParsedItem | undefined;
    for await (const item of parseMisp(event())) {
      if (item.kind !== "report" || item.tlp !== "AMBER") throw new Error(`unexpected ${JSON.stringify(item)}`);
      count++;
      last = item;
    }
    expect(count).toBe(N);
    expect(last).toMatchObject({ value: `d${N - 1}.example`, ref: `response[0].Event.Attribute[${N - 1}]` });
  });

  it("can stop early without leaking (the consumer breaks out of a spooled event)", async () => {
    async function* event(): AsyncGenerator<string> {
      yield '{"Event": {"Attribute": [';
      yield Array.from({ length: 5_000 }, (_, i) => JSON.stringify(mispAttribute("domain", `e${i}.example`))).join(",");
      yield "]}}";
    }
    let seen = 0;
    for await (const item of parseMisp(event())) {
      expect(item.kind).toBe("report");
      if (++seen === 3) break;
    }
    expect(seen).toBe(3);
  });
});
