import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateFeedDocument,
  FeedsDocument,
  IndicatorByValueDocument,
  IndicatorsDocument,
  IngestDocument,
  LookupIndicatorsDocument,
  RevokeReportDocument,
} from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let statements = 0;
let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let partner: SeededOrg;
let xaAnalyst: SeededAccount;
let xbAnalyst: SeededAccount;
let partnerReader: SeededAccount;
let xaReader: SeededAccount;

beforeAll(async () => {
  // Token checks (re-run about once a second) are not the page's statements: they are left out.
  hub = await startHub({}, { onQuery: (q) => void (q.includes('"api_tokens"') || statements++) });
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xaReader = await hub.world.account(xa, "READER");
  xbAnalyst = await hub.world.account(xb, "ANALYST");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

async function feed(token: string, tlp: "CLEAR" | "GREEN" | "AMBER" | "RED", extra: Record<string, unknown> = {}) {
  const r = await op(hub.url, token, CreateFeedDocument, {
    input: { name: `feed ${Math.random()}`, format: "CSV", defaultMarking: { tlp, ...extra }, defaultConfidence: 50 },
  });
  expect(r.errors).toBeUndefined();
  return r.data?.createFeed.id ?? "";
}

const ingestCsv = (token: string, feedId: string, content: string) =>
  op(hub.url, token, IngestDocument, { feedId, content });

describe("ingest", () => {
  it("writes new values, says so, and changes nothing when the same content comes again", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    const csv = "value,confidence,labels\n198.51.100.10,80,c2\nevil[.]example,,\nhxxp://evil.example/x,60,\n";
    const first = await ingestCsv(xaAnalyst.token, f, csv);
    expect(first.errors).toBeUndefined();
    expect(first.data?.ingest.reports).toEqual({ created: 3, updated: 0, unchanged: 0, merged: 0 });
    const again = await ingestCsv(xaAnalyst.token, f, csv);
    expect(again.data?.ingest.reports).toEqual({ created: 0, updated: 0, unchanged: 3, merged: 0 });
    const changed = await ingestCsv(xaAnalyst.token, f, csv.replace("80,c2", "90,c2"));
    expect(changed.data?.ingest.reports).toEqual({ created: 0, updated: 1, unchanged: 2, merged: 0 });
  });

  it("stores text with tabs, newlines, backslashes, quotes and braces exactly as sent", async () => {
    const created = await op(hub.url, xaAnalyst.token, CreateFeedDocument, {
      input: { name: `stix ${Math.random()}`, format: "STIX", defaultMarking: { tlp: "GREEN" } },
    });
    const feedId = created.data?.createFeed.id ?? "";
    const labels = ['say "hi"', "a,b", "back\\slash", "{braces}", "tab\there", "NULL", "\\N"];
    const description = "line one\nline\ttwo \\ end\r\n\\N";
    const phase = { kill_chain_name: "lockheed\tmartin", phase_name: 'c2 "x"\\' };
    const bundle = {
      type: "bundle",
      id: "bundle--6b4d3a1e-8f0c-4c1a-9f5e-0a1b2c3d4e5f",
      objects: [
        {
          type: "indicator",
          spec_version: "2.1",
          id: "indicator--0d4f6a2b-1c3e-4f5a-8b7c-9d0e1f2a3b4c",
          created: "2026-01-01T00:00:00.000Z",
          modified: "2026-01-01T00:00:00.000Z",
          pattern: "[domain-name:value = 'escapes.example']",
          pattern_type: "stix",
          valid_from: "2026-01-01T00:00:00Z",
          labels,
          description,
          kill_chain_phases: [phase],
        },
        {
          type: "indicator",
          spec_version: "2.1",
          id: "indicator--5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
          created: "2026-01-01T00:00:00.000Z",
          modified: "2026-01-01T00:00:00.000Z",
          pattern: "[domain-name:value = 'nul.example']",
          pattern_type: "stix",
          valid_from: "2026-01-01T00:00:00Z",
          description: "a NUL \u0000 in the text",
        },
      ],
    };
    const r = await op(hub.url, xaAnalyst.token, IngestDocument, { feedId, content: JSON.stringify(bundle) });
    expect(r.data?.ingest.reports.created).toBe(1);
    // PostgreSQL text cannot hold U+0000: that item is refused with its reason, the rest goes in.
    expect(r.data?.ingest.rejections).toEqual([expect.objectContaining({ reason: expect.stringMatching(/NUL/) })]);
    const seen = await op(hub.url, xaReader.token, IndicatorByValueDocument, { value: "escapes.example" });
    expect(seen.data?.indicator?.reports).toEqual([
      expect.objectContaining({
        labels,
        description,
        killChainPhases: [{ killChainName: phase.kill_chain_name, phaseName: phase.phase_name }],
      }),
    ]);
    const again = await op(hub.url, xaAnalyst.token, IngestDocument, { feedId, content: JSON.stringify(bundle) });
    expect(again.data?.ingest.reports).toEqual({ created: 0, updated: 0, unchanged: 1, merged: 0 });
  });

  it("shows on the feed its last ingest, the number of ingests and its live reports, to its owner only", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    await ingestCsv(xaAnalyst.token, f, "192.0.2.91\n192.0.2.92\n");
    await ingestCsv(xaAnalyst.token, f, "192.0.2.92\n192.0.2.93\nbad..x\n");
    const mine = (await op(hub.url, xaReader.token, FeedsDocument)).data?.feeds.find((x) => x.id === f);
    expect(mine).toMatchObject({
      ingestCount: 2,
      reportCount: 3,
      lastIngest: { reports: { created: 1, updated: 0, unchanged: 1, merged: 0 }, rejected: 1, skipped: 0 },
    });
    expect(mine?.lastIngestAt).toBeTruthy();
    const theirs = (await op(hub.url, xbAnalyst.token, FeedsDocument)).data?.feeds.map((x) => x.id);
    expect(theirs).not.toContain(f);
  });

  it("rejects bad values one by one with a reason and keeps the rest", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    const r = await ingestCsv(xaAnalyst.token, f, "192.0.2.1\n010.1.1.1\nnot a value at all\n192.0.2.2\n");
    expect(r.data?.ingest.reports.created).toBe(2);
    expect(r.data?.ingest.rejected).toBe(2);
    expect(r.data?.ingest.rejections.map((x) => x.reason)).toEqual([
      expect.stringMatching(/leading zeros/),
      expect.stringMatching(/not a recognisable/),
    ]);
  });

  it("does not let anyone ingest into another organisation's feed, answering as for a missing feed", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    const r = await ingestCsv(xbAnalyst.token, f, "192.0.2.3\n");
    expect(r.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("reports a value someone else holds under RED exactly like a new one (no existence oracle)", async () => {
    const red = await feed(xbAnalyst.token, "RED");
    await ingestCsv(xbAnalyst.token, red, "203.0.113.66\n");
    const mine = await feed(xaAnalyst.token, "AMBER");
    const held = await ingestCsv(xaAnalyst.token, mine, "203.0.113.66\n");
    const fresh = await ingestCsv(xaAnalyst.token, mine, "203.0.113.67\n");
    expect(held.data?.ingest.reports).toEqual(fresh.data?.ingest.reports);
    expect(held.data?.ingest.reports).toEqual({ created: 1, updated: 0, unchanged: 0, merged: 0 });
  });
});

describe("what a viewer sees of an indicator", () => {
  it("computes confidence, seen times and sources only from the reports the viewer may see", async () => {
    const green = await feed(xaAnalyst.token, "GREEN");
    const red = await feed(xbAnalyst.token, "RED");
    await ingestCsv(
      xaAnalyst.token,
      green,
      "value,confidence,first_seen,last_seen\n192.0.2.50,40,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z\n",
    );
    await ingestCsv(
      xbAnalyst.token,
      red,
      "value,confidence,first_seen,last_seen\n192.0.2.50,95,2025-01-01T00:00:00Z,2026-11-01T00:00:00Z\n",
    );
    const byXa = await op(hub.url, xaReader.token, IndicatorByValueDocument, { value: "192.0.2.50" });
    expect(byXa.data?.indicator).toMatchObject({
      type: "IPV4",
      confidence: 40,
      firstSeen: "2026-01-01T00:00:00.000Z",
      lastSeen: "2026-02-01T00:00:00.000Z",
      sourceCount: 1,
      confidenceScales: { noneLowMedHigh: "Med" },
    });
    expect(byXa.data?.indicator?.reports).toHaveLength(1);
    const byXb = await op(hub.url, xbAnalyst.token, IndicatorByValueDocument, { value: "192.0.2.50" });
    expect(byXb.data?.indicator).toMatchObject({
      confidence: 95,
      sourceCount: 2,
      firstSeen: "2025-01-01T00:00:00.000Z",
    });
  });

  it("answers null for a value the viewer may see nothing of, exactly as for an unknown value", async () => {
    const red = await feed(xbAnalyst.token, "RED");
    await ingestCsv(xbAnalyst.token, red, "secret.example\n");
    const hidden = await op(hub.url, xaReader.token, IndicatorByValueDocument, { value: "secret.example" });
    const unknown = await op(hub.url, xaReader.token, IndicatorByValueDocument, { value: "never-reported.example" });
    expect(hidden.data).toEqual({ indicator: null });
    expect(hidden).toEqual({ ...unknown, headers: hidden.headers });
  });

  it("shows GREEN to member states but not to a partner outside the audience", async () => {
    const green = await feed(xaAnalyst.token, "GREEN");
    await ingestCsv(xaAnalyst.token, green, "green-only.example\n");
    expect(
      (await op(hub.url, xbAnalyst.token, IndicatorByValueDocument, { value: "green-only.example" })).data?.indicator
        ?.value,
    ).toBe("green-only.example");
    expect(
      (await op(hub.url, partnerReader.token, IndicatorByValueDocument, { value: "green-only.example" })).data
        ?.indicator,
    ).toBeNull();
  });

  it("makes an indicator disappear for viewers who saw it only through a revoked report", async () => {
    const green = await feed(xaAnalyst.token, "GREEN");
    await ingestCsv(xaAnalyst.token, green, "revoke-me.example\n");
    const seen = await op(hub.url, xbAnalyst.token, IndicatorByValueDocument, { value: "revoke-me.example" });
    const reportId = seen.data?.indicator?.reports[0]?.id ?? "";
    const foreign = await op(hub.url, xbAnalyst.token, RevokeReportDocument, { id: reportId });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await op(hub.url, xaAnalyst.token, RevokeReportDocument, { id: reportId })).errors).toBeUndefined();
    expect(
      (await op(hub.url, xbAnalyst.token, IndicatorByValueDocument, { value: "revoke-me.example" })).data?.indicator,
    ).toBeNull();
  });
});

describe("lookup and listing", () => {
  it("looks many values up in one database round trip, one answer per value in order", async () => {
    const green = await feed(xaAnalyst.token, "GREEN");
    const values = Array.from({ length: 300 }, (_, i) => `10.77.${Math.floor(i / 256)}.${i % 256}`);
    await ingestCsv(xaAnalyst.token, green, values.join("\n"));
    const asked = [...values.slice(0, 200), "nothing.example", "10.1.1", "10[.]77[.]0[.]5"];
    const before = statements;
    const r = await op(hub.url, xbAnalyst.token, LookupIndicatorsDocument, { values: asked });
    const used = statements - before;
    expect(used).toBe(1);
    const answers = r.data?.lookupIndicators ?? [];
    expect(answers).toHaveLength(asked.length);
    expect(answers.slice(0, 200).every((a) => a.indicator?.type === "IPV4")).toBe(true);
    expect(answers[200]).toEqual({ input: "nothing.example", error: null, indicator: null });
    expect(answers[201]?.error).toMatch(/dotted-quad/);
    expect(answers[202]?.indicator?.value).toBe("10.77.0.5");
  });

  it("pages indicators with filters, and a page with its reports costs the same statements whatever its size", async () => {
    const green = await feed(xbAnalyst.token, "GREEN");
    const values = Array.from({ length: 150 }, (_, i) => `list-${i}.example`);
    await ingestCsv(
      xbAnalyst.token,
      green,
      `value,confidence,labels\n${values.map((v) => `${v},77,listed`).join("\n")}`,
    );
    const count = async (first: number) => {
      const before = statements;
      const r = await op(hub.url, xaReader.token, IndicatorsDocument, { filter: { label: "listed" }, first });
      expect(r.errors).toBeUndefined();
      return { used: statements - before, r };
    };
    const small = await count(10);
    const big = await count(100);
    expect(big.r.data?.indicators.edges).toHaveLength(100);
    expect(big.r.data?.indicators.totalCount).toBe(150);
    expect(big.used).toBe(small.used);
    const filtered = await op(hub.url, xaReader.token, IndicatorsDocument, {
      filter: { label: "listed", minConfidence: 78 },
    });
    expect(filtered.data?.indicators.totalCount).toBe(0);
    const hiddenFromPartner = await op(hub.url, partnerReader.token, IndicatorsDocument, {
      filter: { label: "listed" },
    });
    expect(hiddenFromPartner.data?.indicators.totalCount).toBe(0);
  });
});

describe("POST /ingest and the CLI", () => {
  const post = (token: string | null, query: string, body: string, contentType = "text/csv") =>
    fetch(`${hub.url}/ingest${query}`, {
      method: "POST",
      headers: { "content-type": contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body,
    });

  it("streams a body into a feed and answers with the report", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    const res = await post(xaAnalyst.token, `?feed=${f}`, "192.0.2.201\n192.0.2.202\nbad..value\n");
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { ingest: { reports: unknown; rejected: number } } };
    expect(body.data.ingest).toMatchObject({
      reports: { created: 2, updated: 0, unchanged: 0, merged: 0 },
      rejected: 1,
    });
  });

  it("answers a missing feed parameter, another organisation's feed and a bad token with coded errors", async () => {
    const f = await feed(xaAnalyst.token, "GREEN");
    const missing = await post(xaAnalyst.token, "", "192.0.2.1\n");
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ errors: [{ extensions: { code: "BAD_USER_INPUT", field: "feed" } }] });
    const foreign = await post(xbAnalyst.token, `?feed=${f}`, "192.0.2.1\n");
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ errors: [{ extensions: { code: "NOT_FOUND" } }] });
    const reader = await post(xaReader.token, `?feed=${f}`, "192.0.2.1\n");
    expect(reader.status).toBe(403);
    expect((await post("hub_" + "x".repeat(43), `?feed=${f}`, "192.0.2.1\n")).status).toBe(401);
  });

  it("ingests a file through the CLI, which prints the report", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { execFile } = await import("node:child_process");
    const f = await feed(xaAnalyst.token, "GREEN");
    const dir = mkdtempSync(join(tmpdir(), "hub-cli-"));
    const file = join(dir, "iocs.csv");
    writeFileSync(file, Array.from({ length: 500 }, (_, i) => `cli-${i}.example`).join("\n"));
    const { stdout, code } = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = execFile(
        process.execPath,
        ["--import", "tsx", "src/cli/ingest.ts", "--url", hub.url, "--feed", f, "--quiet", file],
        { env: { ...process.env, HUB_TOKEN: xaAnalyst.token } },
        (_err, stdout) => resolve({ stdout, code: child.exitCode }),
      );
    });
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      reports: { created: 500, updated: 0, unchanged: 0, merged: 0 },
      rejected: 0,
    });
    const help = await new Promise<{ stdout: string; code: number | null }>((resolve) => {
      const child = execFile(process.execPath, ["--import", "tsx", "src/cli/ingest.ts", "--help"], (_err, stdout) =>
        resolve({ stdout, code: child.exitCode }),
      );
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run ingest -- --url URL --feed FEED_ID/);
  });
});

describe("STIX export", () => {
  it("exports what the viewer may see as a bundle that validates, keeping AMBER_STRICT and RED out of onward sharing", async () => {
    const { validateStix } = await import("./stix-schemas");
    const owner = await hub.world.org("MEMBER_STATE");
    const ownerAnalyst = await hub.world.account(owner, "ANALYST");
    const viewer = await hub.world.org("MEMBER_STATE");
    const viewerReader = await hub.world.account(viewer, "READER");
    const stranger = await hub.world.org("MEMBER_STATE");
    const strangerAnalyst = await hub.world.account(stranger, "ANALYST");
    const audience = { audienceOrganizationIds: [viewer.gid] };
    const green = await feed(ownerAnalyst.token, "GREEN");
    const strict = await feed(ownerAnalyst.token, "AMBER", audience);
    await ingestCsv(
      ownerAnalyst.token,
      green,
      "value,confidence,labels\nexport-green.example,70,c2\n198.51.100.99,,\n",
    );
    const strictFeed = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "strict", format: "CSV", defaultMarking: { tlp: "AMBER_STRICT", ...audience } },
    });
    await ingestCsv(ownerAnalyst.token, strictFeed.data?.createFeed.id ?? "", "export-strict.example\n");
    const red = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "red", format: "CSV", defaultMarking: { tlp: "RED", ...audience } },
    });
    await ingestCsv(ownerAnalyst.token, red.data?.createFeed.id ?? "", "export-red.example\n");
    await ingestCsv(ownerAnalyst.token, strict, "export-amber.example\n");
    const strangerRed = await feed(strangerAnalyst.token, "RED");
    await ingestCsv(strangerAnalyst.token, strangerRed, "export-hidden.example\n");

    const fetchBundle = async (onward: boolean) => {
      const res = await fetch(`${hub.url}/export/stix?onwardSharing=${onward}`, {
        headers: { authorization: `Bearer ${viewerReader.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/stix+json");
      return (await res.json()) as { type: string; objects: { type: string; pattern?: string }[] };
    };
    const patterns = (b: { objects: { type: string; pattern?: string }[] }) =>
      b.objects.filter((o) => o.type === "indicator").map((o) => o.pattern ?? "");
    const onward = await fetchBundle(true);
    expect(validateStix(onward)).toEqual([]);
    const text = JSON.stringify(onward);
    expect(text).toContain("export-green.example");
    expect(text).toContain("export-amber.example");
    expect(text).not.toContain("export-strict.example");
    expect(text).not.toContain("export-red.example");
    expect(text).not.toContain("export-hidden.example");
    expect(onward.objects.some((o) => o.type === "identity")).toBe(true);
    expect(onward.objects.some((o) => o.type === "marking-definition")).toBe(true);
    const all = await fetchBundle(false);
    expect(validateStix(all)).toEqual([]);
    expect(patterns(all).join(" ")).toContain("export-strict.example");
    expect(patterns(all).join(" ")).toContain("export-red.example");
    expect(JSON.stringify(all)).not.toContain("export-hidden.example");

    const viaGraphql = await hub.gql<{ exportStix: string }>(viewerReader.token, "{ exportStix(limit: 10000) }");
    const bundle = JSON.parse(viaGraphql.data?.exportStix ?? "{}");
    expect(validateStix(bundle)).toEqual([]);
    expect(patterns(bundle).sort()).toEqual(patterns(onward).sort());
    const filtered = await hub.gql<{ exportStix: string }>(
      viewerReader.token,
      '{ exportStix(filter: { label: "c2", types: [DOMAIN] }) }',
    );
    const only = JSON.parse(filtered.data?.exportStix ?? "{}") as { objects: { type: string; pattern?: string }[] };
    expect(validateStix(only)).toEqual([]);
    expect(patterns(only).filter((p) => p.includes("export-"))).toEqual([
      "[domain-name:value = 'export-green.example']",
    ]);
  });
});
