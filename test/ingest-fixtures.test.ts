import { createReadStream, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { observables, reports } from "../src/modules/indicators/indicators.table";
import { CreateFeedDocument, IndicatorByValueDocument } from "./generated/graphql";
import { op, startHub, type SeededAccount, type TestHub } from "./harness";

/** The real public fixtures, read where CI has them too (never copied into the repo). */
const FIXTURES = resolve(process.cwd(), "../shared/fixtures");
const fixture = (p: string) => resolve(FIXTURES, p);

let hub: TestHub;
let analyst: SeededAccount;
let reader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  const org = await hub.world.org("MEMBER_STATE");
  analyst = await hub.world.account(org, "ANALYST");
  reader = await hub.world.account(await hub.world.org("MEMBER_STATE"), "READER");
});
afterAll(() => hub?.dispose());

async function feed(format: "STIX" | "MISP" | "CSV") {
  const r = await op(hub.url, analyst.token, CreateFeedDocument, {
    input: { name: `${format} ${Math.random()}`, format, defaultMarking: { tlp: "GREEN" } },
  });
  return r.data?.createFeed.id ?? "";
}

async function post(feedId: string, file: string, contentType = "application/json") {
  const res = await fetch(`${hub.url}/ingest?feed=${encodeURIComponent(feedId)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${analyst.token}`, "content-type": contentType },
    body: createReadStream(file) as unknown as RequestInit["body"],
    duplex: "half",
  } as RequestInit);
  const body = (await res.json()) as {
    data?: {
      ingest: { reports: Record<string, number>; sightings: Record<string, number>; rejected: number; skipped: number };
    };
    errors?: { extensions: { code: string } }[];
  };
  return { status: res.status, ...body };
}

describe("real fixtures through POST /ingest", () => {
  // Counts made by hand from the files (see test/parsers.test.ts for the per-object tally):
  // poisonivy has 67 value items naming 45 distinct values, one of them ("domain autuo.xicp.net",
  // with a space) not a domain name.
  it("ingests the Poison Ivy report: 44 distinct values, 22 repeats merged, 1 bad value rejected", async () => {
    const f = await feed("STIX");
    const r = await post(f, fixture("stix2.1-json-schemas/examples/threat-reports/poisonivy.json"));
    expect(r.status).toBe(200);
    expect(r.data?.ingest).toMatchObject({
      reports: { created: 44, updated: 0, unchanged: 0, merged: 22 },
      rejected: 1,
      skipped: 130,
    });
    const again = await post(f, fixture("stix2.1-json-schemas/examples/threat-reports/poisonivy.json"));
    expect(again.data?.ingest.reports).toEqual({ created: 0, updated: 0, unchanged: 44, merged: 22 });
  });

  it("ingests an indicator and its sighting, resolving the sighting by the indicator's STIX id", async () => {
    const f = await feed("STIX");
    const r = await post(f, fixture("stix2.1-cti-documentation-examples/sighting-of-an-indicator.json"));
    expect(r.data?.ingest.reports).toMatchObject({ created: 1 });
    expect(r.data?.ingest.sightings).toMatchObject({ created: 1 });
    const bundle = JSON.parse(
      readFileSync(fixture("stix2.1-cti-documentation-examples/sighting-of-an-indicator.json"), "utf8"),
    ) as {
      objects: { type: string; pattern?: string; count?: number }[];
    };
    const pattern = bundle.objects.find((o) => o.type === "indicator")?.pattern ?? "";
    const value = /'([^']+)'/.exec(pattern)?.[1] ?? "";
    const seen = await op(hub.url, reader.token, IndicatorByValueDocument, { value });
    expect(seen.data?.indicator?.sightings).toHaveLength(1);
  });

  it("ingests the ESET Zebrocy MISP event (API wrapping): 28 values, GREEN from its tlp tag", async () => {
    const f = await feed("MISP");
    const r = await post(f, fixture("misp-events/eset-malware-ioc/sednit-2018-11-20_Zebrocy.json"));
    expect(r.data?.ingest).toMatchObject({ reports: { created: 28, merged: 0 }, rejected: 0 });
  });

  it("ingests the pymisp bare event: 68 value attributes naming 66 distinct values", async () => {
    const f = await feed("MISP");
    const r = await post(f, fixture("misp-events/pymisp-tests/existing_event.json"));
    expect(r.data?.ingest).toMatchObject({ reports: { created: 66, merged: 2 }, rejected: 0 });
  });

  it("answers malformed JSON with BAD_USER_INPUT and writes nothing of the batch", async () => {
    const f = await feed("STIX");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const dir = mkdtempSync(resolve(tmpdir(), "hub-bad-"));
    const good = {
      type: "indicator",
      spec_version: "2.1",
      id: "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
      created: "2026-01-01T00:00:00.000Z",
      modified: "2026-01-01T00:00:00.000Z",
      pattern: "[domain-name:value = 'half-written.example']",
      pattern_type: "stix",
      valid_from: "2026-01-01T00:00:00Z",
    };
    writeFileSync(
      resolve(dir, "bad.json"),
      `{"type":"bundle","id":"bundle--1","objects":[${JSON.stringify(good)},{"type":`,
    );
    const r = await post(f, resolve(dir, "bad.json"));
    expect(r.status).toBe(400);
    expect(r.errors?.[0]?.extensions.code).toBe("BAD_USER_INPUT");
    const analystView = await op(hub.url, analyst.token, IndicatorByValueDocument, { value: "half-written.example" });
    expect(analystView.data?.indicator).toBeNull();
  });
});

describe("sightings by reference and access", () => {
  it("rejects a sighting of an indicator someone else holds under RED exactly like one of an unknown indicator", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const ownerAnalyst = await hub.world.account(owner, "ANALYST");
    const redFeed = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "red stix", format: "STIX", defaultMarking: { tlp: "RED" } },
    });
    const indicatorId = "indicator--0f4f5c57-3c8e-4b0c-9f4e-1c1f1b7f0a11";
    const ts = "2026-01-01T00:00:00.000Z";
    const bundle = (objects: object[]) =>
      JSON.stringify({ type: "bundle", id: "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", objects });
    const indicator = {
      type: "indicator",
      spec_version: "2.1",
      id: indicatorId,
      created: ts,
      modified: ts,
      pattern: "[ipv4-addr:value = '203.0.113.200']",
      pattern_type: "stix",
      valid_from: ts,
    };
    const sighting = (ref: string) => ({
      type: "sighting",
      spec_version: "2.1",
      id: "sighting--ee20065d-2555-424f-ad9e-0f8113f52f0c",
      created: ts,
      modified: ts,
      sighting_of_ref: ref,
      count: 3,
    });
    const ingestAs = async (token: string, feedId: string, content: string) =>
      (
        await hub.gql<{
          ingest: { rejected: number; rejections: { reason: string }[]; sightings: { created: number } };
        }>(
          token,
          "mutation($f: ID!, $c: String!) { ingest(feedId: $f, content: $c) { rejected rejections { reason } sightings { created } } }",
          { f: feedId, c: content },
        )
      ).data?.ingest;
    await ingestAs(ownerAnalyst.token, redFeed.data?.createFeed.id ?? "", bundle([indicator]));
    const mine = await feed("STIX");
    const held = await ingestAs(analyst.token, mine, bundle([sighting(indicatorId)]));
    const unknownRef = "indicator--5a4b7e2c-1d3f-4e6a-8b9c-0d1e2f3a4b5c";
    const unknown = await ingestAs(analyst.token, mine, bundle([sighting(unknownRef)]));
    expect(held?.sightings.created).toBe(0);
    expect(held?.rejected).toBe(1);
    expect(held?.rejections[0]?.reason.replace(indicatorId, "ID")).toBe(
      unknown?.rejections[0]?.reason.replace(unknownRef, "ID"),
    );
    // The owner's own sighting of it resolves.
    const ownSightingFeed = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "red sightings", format: "STIX", defaultMarking: { tlp: "RED" } },
    });
    const own = await ingestAs(
      ownerAnalyst.token,
      ownSightingFeed.data?.createFeed.id ?? "",
      bundle([sighting(indicatorId)]),
    );
    expect(own?.sightings.created).toBe(1);
  });
});

describe("versions and audit", () => {
  it("retires the values an older version of a STIX indicator named (medallion's three versions)", async () => {
    const state = JSON.parse(readFileSync(fixture("taxii2.1-medallion-testdata/default_data.json"), "utf8")) as {
      trustgroup1: { collections: { id: string; objects: unknown[] }[] };
    };
    const objects = state.trustgroup1.collections.find((c) => c.id === "91a7b528-80eb-42ed-a74d-c6fbd5a26116")?.objects;
    const f = await feed("STIX");
    const r = await hub.gql<{ ingest: { reports: Record<string, number> } }>(
      analyst.token,
      "mutation($f: ID!, $c: String!) { ingest(feedId: $f, content: $c) { reports { created updated unchanged merged } } }",
      { f, c: JSON.stringify({ objects }) },
    );
    expect(r.errors).toBeUndefined();
    const old = await op(hub.url, analyst.token, IndicatorByValueDocument, { value: "http://z4z10farb.cn/4712" });
    const current = await op(hub.url, analyst.token, IndicatorByValueDocument, { value: "http://x4z9arb.cn/4712" });
    expect(old.data?.indicator).toBeNull();
    expect(current.data?.indicator?.reports).toHaveLength(1);
  });

  it("writes an audit entry for every ingest, refused ones included", async () => {
    const admin = await hub.world.account(await hub.world.org("MEMBER_STATE"), "ADMIN");
    const own = await hub.world.account({ id: admin.orgId, gid: "", name: "", kind: "MEMBER_STATE" }, "ANALYST");
    const f = await op(hub.url, own.token, CreateFeedDocument, {
      input: { name: "audited", format: "CSV", defaultMarking: { tlp: "GREEN" } },
    });
    const feedId = f.data?.createFeed.id ?? "";
    const ingestQuery = "mutation($f: ID!, $c: String!) { ingest(feedId: $f, content: $c) { rejected } }";
    await hub.gql(own.token, ingestQuery, { f: feedId, c: "192.0.2.77\n" });
    await hub.gql(analyst.token, ingestQuery, { f: feedId, c: "192.0.2.78\n" }); // not their feed
    const log = await hub.gql<{
      auditLog: { edges: { node: { operation: string; outcome: string; targetIds: string[] } }[] };
    }>(admin.token, '{ auditLog(filter: { operation: "ingest" }) { edges { node { operation outcome targetIds } } } }');
    expect(log.data?.auditLog.edges.map((e) => e.node)).toEqual([
      { operation: "ingest", outcome: "SUCCESS", targetIds: [feedId] },
    ]);
    const refusedSide = await hub.world.account(
      { id: analyst.orgId, gid: "", name: "", kind: "MEMBER_STATE" },
      "ADMIN",
    );
    const refused = await hub.gql<{ auditLog: { edges: { node: { outcome: string; targetIds: string[] } }[] } }>(
      refusedSide.token,
      '{ auditLog(filter: { operation: "ingest" }) { edges { node { outcome targetIds } } } }',
    );
    expect(refused.data?.auditLog.edges.map((e) => e.node)).toContainEqual({
      outcome: "NOT_FOUND",
      targetIds: [feedId],
    });
  });
});

describe("MISP sharing groups", () => {
  const mispEvent = (group: { uuid: string; name: string }, values: string[]) =>
    JSON.stringify({
      Event: {
        info: "shared with a sharing group",
        distribution: "4",
        sharing_group_id: "12",
        SharingGroup: { id: "12", ...group },
        Attribute: values.map((value) => ({ type: "domain", category: "Network activity", value, to_ids: true })),
      },
    });
  const ingestMisp = async (token: string, feedId: string, content: string) =>
    (
      await hub.gql<{ ingest: { reports: { created: number }; rejected: number; rejections: { reason: string }[] } }>(
        token,
        "mutation($f: ID!, $c: String!) { ingest(feedId: $f, content: $c) { reports { created } rejected rejections { reason } } }",
        { f: feedId, c: content },
      )
    ).data?.ingest;

  it("gives an item the hub sharing group with its MISP group's uuid as audience: members see it, others do not", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const member = await hub.world.org("MEMBER_STATE");
    const outsider = await hub.world.org("MEMBER_STATE");
    const ownerAnalyst = await hub.world.account(owner, "ANALYST");
    const memberReader = await hub.world.account(member, "READER");
    const outsiderReader = await hub.world.account(outsider, "READER");
    const group = await hub.world.group(owner, [member]);
    // GREEN by default: every member state would see the item if the feed's audience applied.
    const f = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "misp with groups", format: "MISP", defaultMarking: { tlp: "GREEN" } },
    });
    const feedId = f.data?.createFeed.id ?? "";
    const r = await ingestMisp(
      ownerAnalyst.token,
      feedId,
      mispEvent({ uuid: group.id.toUpperCase(), name: "circle" }, ["sg-mapped.example"]),
    );
    expect(r).toMatchObject({ reports: { created: 1 }, rejected: 0 });
    const [row] = await hub.database.db
      .select({ tlp: reports.tlp, orgs: reports.audienceOrgs, groups: reports.audienceGroups })
      .from(reports)
      .innerJoin(observables, eq(observables.id, reports.observableId))
      .where(and(eq(observables.value, "sg-mapped.example"), eq(reports.ownerOrgId, owner.id)));
    expect(row).toEqual({ tlp: "AMBER", orgs: [], groups: [group.id] });
    const seenBy = async (token: string) =>
      (await op(hub.url, token, IndicatorByValueDocument, { value: "sg-mapped.example" })).data?.indicator?.value;
    expect(await seenBy(memberReader.token)).toBe("sg-mapped.example");
    expect(await seenBy(outsiderReader.token)).toBeUndefined();
  });

  it("rejects an item whose MISP group is no hub group the feed's organisation may use, naming it, alike for unknown and others' groups", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const other = await hub.world.org("MEMBER_STATE");
    const ownerAnalyst = await hub.world.account(owner, "ANALYST");
    const othersGroup = await hub.world.group(other, []);
    const unknown = crypto.randomUUID();
    const f = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "misp unknown groups", format: "MISP", defaultMarking: { tlp: "GREEN" } },
    });
    const feedId = f.data?.createFeed.id ?? "";
    const toUnknown = await ingestMisp(
      ownerAnalyst.token,
      feedId,
      mispEvent({ uuid: unknown, name: "elsewhere" }, ["sg-unknown.example"]),
    );
    const toOthers = await ingestMisp(
      ownerAnalyst.token,
      feedId,
      mispEvent({ uuid: othersGroup.id, name: "elsewhere" }, ["sg-theirs.example"]),
    );
    expect(toUnknown).toMatchObject({ reports: { created: 0 }, rejected: 1 });
    expect(toUnknown?.rejections[0]?.reason).toBe(
      `MISP sharing group "elsewhere" (${unknown}) is not a sharing group of this hub that your organisation may use`,
    );
    expect(toOthers).toMatchObject({ reports: { created: 0 }, rejected: 1 });
    expect(toOthers?.rejections[0]?.reason.replace(othersGroup.id, "ID")).toBe(
      toUnknown?.rejections[0]?.reason.replace(unknown, "ID"),
    );
    const seen = await op(hub.url, ownerAnalyst.token, IndicatorByValueDocument, { value: "sg-unknown.example" });
    expect(seen.data?.indicator).toBeNull();
  });

  it("maps a group within 'this community' only when the feed's default audience names that group", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const ownerAnalyst = await hub.world.account(owner, "ANALYST");
    const group = await hub.world.group(owner, []);
    const event = (value: string) =>
      JSON.stringify({
        Event: {
          info: "community event, one attribute for a group",
          distribution: "1",
          Attribute: [
            {
              type: "domain",
              value,
              distribution: "4",
              sharing_group_id: "12",
              SharingGroup: { id: "12", uuid: group.id, name: "circle" },
            },
          ],
        },
      });
    const plain = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: { name: "community", format: "MISP", defaultMarking: { tlp: "AMBER" } },
    });
    const withGroup = await op(hub.url, ownerAnalyst.token, CreateFeedDocument, {
      input: {
        name: "community with the group",
        format: "MISP",
        defaultMarking: { tlp: "AMBER", audienceGroupIds: [group.gid] },
      },
    });
    const refused = await ingestMisp(
      ownerAnalyst.token,
      plain.data?.createFeed.id ?? "",
      event("sg-community.example"),
    );
    expect(refused?.rejections[0]?.reason).toMatch(/within distribution 1 \(this community\)/);
    const mapped = await ingestMisp(
      ownerAnalyst.token,
      withGroup.data?.createFeed.id ?? "",
      event("sg-community.example"),
    );
    expect(mapped).toMatchObject({ reports: { created: 1 }, rejected: 0 });
  });
});
