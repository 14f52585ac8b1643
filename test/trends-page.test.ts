import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";
import { demoToken } from "../seeds/demo-world";
import { demoOrgId, seedDemoWorld } from "../src/seed";
import { toGlobalId } from "../src/shared/ids";
import {
  CreateAssessmentDocument,
  CreateIncidentDocument,
  CreateThreatActorDocument,
  TrendsDocument,
  type TrendsInput,
  type TrendsQuery,
} from "./generated/graphql";
import { op, startHub, type TestHub } from "./harness";

/** Debian's chromium (CI installs it when missing); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveBrowser = existsSync(CHROMIUM);
if (!haveBrowser)
  process.stdout.write(
    `trends-page.test.ts skipped: no browser at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)\n`,
  );

const OUTPUT = join(import.meta.dirname, "..", "test-output");

let hub: TestHub;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!haveBrowser) return;
  hub = await startHub();
  await seedDemoWorld(hub.database.db);
  profile = mkdtempSync(join(tmpdir(), "hub-trends-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-quic",
      "--no-first-run",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 800 },
  });
});
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await hub?.dispose();
});

type Answer = TrendsQuery["trends"];

/** Bars the chart should draw: each shown cell with a count, and one withheld marker per bucket with any withheld cell. */
const expectedBars = (t: Answer) =>
  t.buckets.reduce(
    (n, b) =>
      n +
      b.cells.filter((c) => !c.suppressed && (c.count ?? 0) > 0).length +
      (b.cells.some((c) => c.suppressed) ? 1 : 0),
    0,
  );

describe.skipIf(!haveBrowser)("the /trends page in headless Chromium", () => {
  it("asks for the demo world's regional trends and draws the bars the answer holds, withheld cells hatched", async () => {
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => void (m.type() === "error" && problems.push(m.text())));
    const token = demoToken("ncc-analyst");
    const ncc = toGlobalId("Organization", demoOrgId("ncc"));

    const res = await page.goto(`${hub.url}/trends`);
    expect(res?.status()).toBe(200);
    await page.fill("#token", token);
    await page.click("#load-scopes");
    await page.waitForSelector(`#scope option[value="${ncc}"]`, { state: "attached" });
    await page.selectOption("#scope", ncc);
    await page.selectOption("#metric", "INCIDENTS");
    await page.selectOption("#interval", "WEEK");
    await page.check('#group-by input[value="RSIT_CLASS"]');
    await page.click("#show");
    await page.waitForSelector('body[data-state="ready"]');

    const drawn = await page.evaluate(() => {
      const w = globalThis as unknown as {
        trendsRequest: unknown;
        trendsChart: {
          data: { datasets: { label: string; stack: string }[] };
          getDatasetMeta(i: number): { data: { skip?: boolean; y: number; base: number }[] };
        };
      };
      const chart = w.trendsChart;
      let bars = 0;
      const stacks: string[] = [];
      chart.data.datasets.forEach((ds, i) => {
        stacks.push(ds.stack);
        bars += chart.getDatasetMeta(i).data.filter((el) => !el.skip && Math.abs(el.base - el.y) > 0.5).length;
      });
      return { request: w.trendsRequest, bars, stacks };
    });
    // The same question straight to the API, with the same token.
    const direct = await op(hub.url, token, TrendsDocument, { input: drawn.request as TrendsInput });
    expect(direct.errors).toBeUndefined();
    const t = direct.data?.trends as Answer;
    expect(t.buckets).toHaveLength(13);
    const shown = t.buckets.flatMap((b) => b.cells).filter((c) => !c.suppressed && (c.count ?? 0) > 0).length;
    expect(shown).toBeGreaterThan(0);
    expect(t.buckets.some((b) => b.cells.some((c) => c.suppressed))).toBe(true);
    expect(drawn.bars).toBe(expectedBars(t));
    expect(drawn.stacks).toContain("withheld");

    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, "trends-page.png"), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it("groups incidents by threat actor and names the actors in the legend", async () => {
    // Three of the council's members each attribute an incident of this week to one actor.
    const actor = await op(hub.url, demoToken("xa-analyst"), CreateThreatActorDocument, {
      input: { name: "Page Test Bear", kind: "THREAT_ACTOR", marking: { tlp: "GREEN" } },
    });
    const actorId = actor.data?.createThreatActor.id ?? "";
    for (const member of ["xa", "xb", "xc"]) {
      const token = demoToken(`${member}-analyst`);
      const created = await op(hub.url, token, CreateIncidentDocument, {
        input: {
          title: "Wiper on a water utility",
          rsitClass: "malicious-code",
          rsitType: "infected-system",
          severity: "HIGH",
          occurredAt: new Date().toISOString(),
          marking: { tlp: "GREEN" },
        },
      });
      const assessed = await op(hub.url, token, CreateAssessmentDocument, {
        input: {
          subject: { incidentId: created.data?.createIncident.id ?? "" },
          actorId,
          likelihood: "LIKELY",
          analyticConfidence: "MODERATE",
          rationale: "Same wiper family and staging servers.",
          status: "CONFIRMED",
          marking: { tlp: "GREEN" },
        },
      });
      expect(assessed.errors).toBeUndefined();
    }
    const page = await context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    const token = demoToken("ncc-analyst");
    const ncc = toGlobalId("Organization", demoOrgId("ncc"));
    await page.goto(`${hub.url}/trends`);
    await page.fill("#token", token);
    await page.click("#load-scopes");
    await page.waitForSelector(`#scope option[value="${ncc}"]`, { state: "attached" });
    await page.selectOption("#scope", ncc);
    await page.selectOption("#metric", "INCIDENTS");
    await page.check('#group-by input[value="THREAT_ACTOR"]');
    await page.click("#show");
    await page.waitForSelector('body[data-state="ready"]');
    const drawn = await page.evaluate(() => {
      const w = globalThis as unknown as {
        trendsRequest: unknown;
        trendsChart: { data: { datasets: { label: string }[] } };
      };
      return { request: w.trendsRequest, labels: w.trendsChart.data.datasets.map((d) => d.label) };
    });
    const direct = await op(hub.url, token, TrendsDocument, { input: drawn.request as TrendsInput });
    expect(direct.data?.trends.groupBy).toEqual(["THREAT_ACTOR"]);
    expect(direct.data?.trends.axes[0]?.values).toContain(actorId);
    expect(drawn.labels).toContain("Page Test Bear");
    expect(drawn.labels.join(" ")).not.toContain(actorId);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("serves Chart.js from the hub itself, under a policy that lets the page talk to nothing else", async () => {
    const chart = await fetch(`${hub.url}/trends/chart.umd.min.js`);
    expect(chart.status).toBe(200);
    expect(chart.headers.get("content-type")).toMatch(/^text\/javascript/);
    expect(await chart.text()).toContain("Chart");
    const html = await fetch(`${hub.url}/trends`);
    expect(html.headers.get("content-security-policy")).toContain("connect-src 'self'");
    expect(await html.text()).not.toMatch(/https?:\/\//);
    expect((await fetch(`${hub.url}/trends`, { method: "POST" })).status).toBe(405);
  });
});
