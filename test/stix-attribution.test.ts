import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../src/shared/ids";
import { startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

/** The real public fixtures, read where CI has them too (never copied into the repo). */
const FIXTURES = resolve(process.cwd(), "../shared/fixtures");
const ATTACK = "mitre-attack-ics-attribution-subset/ics-attack-18.1-attribution-subset.json";
const CTI_DOC = "stix2.1-cti-documentation-examples/defining-campaigns-threat-actors-intrusion-sets.json";
const APT1 = "stix2.1-json-schemas/examples/threat-reports/apt1.json";
const read = (p: string) => readFileSync(resolve(FIXTURES, p), "utf8");

let hub: TestHub;
let org: SeededOrg;
let analyst: SeededAccount;
let other: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  org = await hub.world.org("MEMBER_STATE");
  analyst = await hub.world.account(org, "ANALYST");
  other = await hub.world.account(await hub.world.org("MEMBER_STATE"), "ANALYST");
});
afterAll(() => hub?.dispose());

interface Counts {
  assessments: { created: number; updated: number; unchanged: number; withdrawn: number };
  actors: { created: number; revoked: number };
}
interface Report {
  rejected: number;
  skipped: number;
  rejections: { ref: string; reason: string }[];
  skips: { ref: string; reason: string }[];
  attributions: Counts;
}

const REPORT = `rejected skipped rejections { ref reason } skips { ref reason }
  attributions { assessments { created updated unchanged withdrawn } actors { created revoked } }`;

const ASSESSMENT = `id status revision likelihood analyticConfidence stixConfidence rationale stixId nextReviewAt
  marking { tlp }
  subjectKind campaignName campaignStixId subjectIntrusionSet { name stixId }
  actor { name kind stixId aliases revokedAt }
  evidence { references }
  revisions { number action reason }`;

/** AMBER by default: each test's organisation alone sees what it imported, so tests do not match each other's actors. */
async function feed(token: string, tlp = "AMBER"): Promise<string> {
  const r = await hub.gql<{ createFeed: { id: string } }>(
    token,
    `mutation($input: CreateFeedInput!) { createFeed(input: $input) { id } }`,
    { input: { name: `stix ${Math.random()}`, format: "STIX", defaultMarking: { tlp } } },
  );
  expect(r.errors).toBeUndefined();
  return r.data?.createFeed.id ?? "";
}

async function ingest(token: string, feedId: string, content: string): Promise<Report> {
  const r = await hub.gql<{ ingest: Report }>(
    token,
    `mutation($feedId: ID!, $content: String!) { ingest(feedId: $feedId, content: $content) { ${REPORT} } }`,
    { feedId, content },
  );
  expect(r.errors).toBeUndefined();
  if (!r.data) throw new Error("no data");
  return r.data.ingest;
}

interface AssessmentView {
  id: string;
  status: string;
  revision: number;
  likelihood: string;
  analyticConfidence: string;
  stixConfidence: number;
  rationale: string;
  stixId: string;
  nextReviewAt: string | null;
  marking: { tlp: string };
  subjectKind: string;
  campaignName: string | null;
  campaignStixId: string | null;
  subjectIntrusionSet: { name: string; stixId: string } | null;
  actor: { name: string; kind: string; stixId: string | null; aliases: string[]; revokedAt: string | null };
  evidence: { references: string[] };
  revisions: { number: number; action: string; reason: string }[];
}

async function assessmentsOf(token: string, ownerGid: string) {
  const r = await hub.gql<{ assessments: { totalCount: number; edges: { node: AssessmentView }[] } }>(
    token,
    `query($filter: AssessmentFilter) { assessments(filter: $filter, first: 100) { totalCount edges { node { ${ASSESSMENT} } } } }`,
    { filter: { ownerIds: [ownerGid] } },
  );
  expect(r.errors).toBeUndefined();
  const a = r.data?.assessments;
  return { totalCount: a?.totalCount ?? -1, nodes: (a?.edges ?? []).map((e) => e.node) };
}

interface ActorView {
  name: string;
  kind: string;
  stixId: string | null;
  revokedAt: string | null;
  replacedBy: { name: string } | null;
  owner: { id: string };
}
async function actorsNamed(token: string, search: string): Promise<ActorView[]> {
  const r = await hub.gql<{ threatActors: { edges: { node: ActorView }[] } }>(
    token,
    `query($s: String) { threatActors(filter: { search: $s }, first: 100) { edges { node { name kind stixId revokedAt replacedBy { name } owner { id } } } } }`,
    { s: search },
  );
  expect(r.errors).toBeUndefined();
  return (r.data?.threatActors.edges ?? []).map((e) => e.node);
}

describe("the ATT&CK for ICS attribution subset", () => {
  let feedId: string;
  let first: Report;

  beforeAll(async () => {
    feedId = await feed(analyst.token);
    first = await ingest(analyst.token, feedId, read(ATTACK));
  });

  it("imports its 5 attributions and 2 revocations, creating the 7 actors they name", () => {
    expect(first.attributions).toEqual({
      assessments: { created: 5, updated: 0, unchanged: 0, withdrawn: 0 },
      actors: { created: 7, revoked: 2 },
    });
    expect(first.rejected).toBe(0);
    // the identity, the (non-TLP) statement marking, 9 intrusion sets and 3 campaigns no relationship names
    expect(first.skipped).toBe(14);
  });

  it("makes each attribution a provisional campaign assessment of the feed's organisation", async () => {
    const { nodes, totalCount } = await assessmentsOf(analyst.token, org.gid);
    expect(totalCount).toBe(5);
    const pairs = nodes.map((a) => [a.campaignName, a.actor.name]).sort();
    expect(pairs).toEqual([
      ["2015 Ukraine Electric Power Attack", "Sandworm Team"],
      ["2016 Ukraine Electric Power Attack", "Sandworm Team"],
      ["2022 Ukraine Electric Power Attack", "Sandworm Team"],
      ["Triton Safety Instrumented System Attack", "TEMP.Veles"],
      ["Unitronics Defacement Campaign", "CyberAv3ngers"],
    ]);
    const triton = nodes.find((a) => a.actor.name === "TEMP.Veles");
    expect(triton).toMatchObject({
      status: "PROVISIONAL",
      revision: 1,
      // ATT&CK carries no confidence
      likelihood: "ROUGHLY_EVEN_CHANCE",
      analyticConfidence: "LOW",
      stixConfidence: 50,
      stixId: "relationship--538e5653-137a-4ce2-8b08-5ba69caa794a",
      marking: { tlp: "AMBER" },
      subjectKind: "CAMPAIGN",
      campaignStixId: "campaign--45a98f02-852f-49b2-94c0-c63207bebbbf",
      subjectIntrusionSet: null,
      actor: {
        kind: "INTRUSION_SET",
        stixId: "intrusion-set--9538b1a4-4120-4e2d-bf59-3b11fcab05a4",
        aliases: ["XENOTIME"],
        revokedAt: null,
      },
      revisions: [{ number: 1, action: "CREATE" }],
    });
    expect(triton?.rationale).toContain("FireEye TEMP.Veles 2018");
    expect(triton?.evidence.references).toEqual([
      "https://www.fireeye.com/blog/threat-research/2017/12/attackers-deploy-new-ics-attack-framework-triton.html",
      "https://www.fireeye.com/blog/threat-research/2018/10/triton-attribution-russian-government-owned-lab-most-likely-built-tools.html",
    ]);
    const review = new Date(triton?.nextReviewAt ?? 0).getTime() - Date.now();
    expect(review).toBeGreaterThan(89 * 86_400_000);
    expect(review).toBeLessThan(91 * 86_400_000);
  });

  it("retires APT34 in favour of OilRig and Dragonfly 2.0 in favour of Dragonfly", async () => {
    const [apt34] = (await actorsNamed(analyst.token, "apt34")).filter((a) => a.name === "APT34");
    expect(apt34).toMatchObject({
      stixId: "intrusion-set--68ba94ab-78b8-43e7-83e2-aed3466882c6",
      replacedBy: { name: "OilRig" },
    });
    expect(apt34?.revokedAt).not.toBeNull();
    const dragonflies = await actorsNamed(analyst.token, "dragonfly");
    expect(
      dragonflies
        .map((a) => [a.name, a.replacedBy?.name ?? null, a.revokedAt !== null])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0]))),
    ).toEqual([
      ["Dragonfly", null, false],
      ["Dragonfly 2.0", "Dragonfly", true],
    ]);
    // intrusion sets no relationship names are not made into actors
    expect(await actorsNamed(analyst.token, "hexane")).toEqual([]);
  });

  it("changes nothing on a second ingest of the same bundle", async () => {
    const again = await ingest(analyst.token, feedId, read(ATTACK));
    expect(again.attributions).toEqual({
      assessments: { created: 0, updated: 0, unchanged: 5, withdrawn: 0 },
      actors: { created: 0, revoked: 0 },
    });
    const { nodes } = await assessmentsOf(analyst.token, org.gid);
    expect(nodes.every((a) => a.revision === 1)).toBe(true);
  });

  it("revises on a newer version, ignores an older one, and withdraws on revocation", async () => {
    const bundle = JSON.parse(read(ATTACK)) as { objects: Record<string, unknown>[] };
    const rel = bundle.objects.find((o) => o.id === "relationship--538e5653-137a-4ce2-8b08-5ba69caa794a");
    const campaign = bundle.objects.find((o) => o.id === "campaign--45a98f02-852f-49b2-94c0-c63207bebbbf");
    const actor = bundle.objects.find((o) => o.id === "intrusion-set--9538b1a4-4120-4e2d-bf59-3b11fcab05a4");
    const one = (r: Record<string, unknown>) =>
      JSON.stringify({
        type: "bundle",
        id: "bundle--0b4c3c4e-3c64-4b4c-9d9a-2f2d3c1f9a11",
        objects: [campaign, actor, r],
      });

    const older = await ingest(
      analyst.token,
      feedId,
      one({ ...rel, modified: "2020-01-01T00:00:00.000Z", confidence: 95 }),
    );
    expect(older.attributions.assessments).toEqual({ created: 0, updated: 0, unchanged: 1, withdrawn: 0 });

    const newer = await ingest(
      analyst.token,
      feedId,
      one({ ...rel, modified: "2026-01-01T00:00:00.000Z", confidence: 85 }),
    );
    expect(newer.attributions.assessments).toEqual({ created: 0, updated: 1, unchanged: 0, withdrawn: 0 });
    // a later bundle revokes it
    const revoked = await ingest(
      analyst.token,
      feedId,
      one({ ...rel, modified: "2026-02-01T00:00:00.000Z", confidence: 85, revoked: true }),
    );
    expect(revoked.attributions.assessments).toEqual({ created: 0, updated: 0, unchanged: 0, withdrawn: 1 });

    const triton = (await assessmentsOf(analyst.token, org.gid)).nodes.find((a) => a.actor.name === "TEMP.Veles");
    expect(triton).toMatchObject({ status: "WITHDRAWN", revision: 3, likelihood: "VERY_LIKELY", nextReviewAt: null });
    expect(triton?.revisions.map((r) => r.action)).toEqual(["CREATE", "REVISE", "WITHDRAW"]);
    expect(triton?.revisions[2]?.reason).toContain("STIX revocation");
    expect(triton?.revisions[2]?.reason).toContain("relationship--538e5653-137a-4ce2-8b08-5ba69caa794a");
  });
});

describe("the cti-documentation and APT1 attribution examples", () => {
  it("imports campaign -> intrusion set, campaign -> threat actor and intrusion set -> threat actor", async () => {
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const r = await ingest(a.token, await feed(a.token), read(CTI_DOC));
    expect(r.attributions).toEqual({
      assessments: { created: 5, updated: 0, unchanged: 0, withdrawn: 0 },
      actors: { created: 2, revoked: 0 },
    });
    // threat actor -> identity is not an attribution the hub models
    expect(r.skips.map((s) => s.reason)).toContain(
      "attributed-to from threat-actor to identity: the hub attributes campaigns to intrusion sets or threat actors and intrusion sets to threat actors",
    );
    const { nodes } = await assessmentsOf(a.token, o.gid);
    const pairs = nodes.map((x) => [x.subjectKind, x.campaignName ?? x.subjectIntrusionSet?.name, x.actor.name]).sort();
    expect(pairs).toEqual([
      ["CAMPAIGN", "Operation Bran Flakes", "APT BPP"],
      ["CAMPAIGN", "Operation Bran Flakes", "Fake BPP (Branistan Peoples Party)"],
      ["CAMPAIGN", "Operation Raisin Bran", "APT BPP"],
      ["CAMPAIGN", "Operation Raisin Bran", "Fake BPP (Branistan Peoples Party)"],
      ["INTRUSION_SET", "APT BPP", "Fake BPP (Branistan Peoples Party)"],
    ]);
    const generated = nodes.find((x) => x.subjectKind === "INTRUSION_SET")?.rationale ?? "";
    expect(generated).toContain('intrusion-set "APT BPP" (intrusion-set--ed69450a-f067-4b51-9ba2-c4616b9a6713)');
    expect(generated).toContain("threat-actor--56f3f0db-b5d5-431c-ae56-c18f02caf500");
  });

  it("imports APT1's three intrusion set -> threat actor attributions", async () => {
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const r = await ingest(a.token, await feed(a.token), read(APT1));
    expect(r.attributions).toEqual({
      assessments: { created: 3, updated: 0, unchanged: 0, withdrawn: 0 },
      actors: { created: 4, revoked: 0 },
    });
    const { nodes } = await assessmentsOf(a.token, o.gid);
    expect(nodes.map((x) => [x.subjectIntrusionSet?.name, x.actor.name]).sort()).toEqual([
      ["APT1", "Communist Party of China"],
      ["APT1", "Ugly Gorilla"],
      ["APT1", "Unit 61398"],
    ]);
  });

  it("matches an actor the organisation already sees by name or alias instead of creating one", async () => {
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const made = await hub.gql<{ createThreatActor: { id: string } }>(
      a.token,
      `mutation($input: CreateThreatActorInput!) { createThreatActor(input: $input) { id } }`,
      { input: { kind: "INTRUSION_SET", name: "Comment Crew", aliases: [], marking: { tlp: "AMBER" } } },
    );
    expect(made.errors).toBeUndefined();
    const r = await ingest(a.token, await feed(a.token), read(APT1));
    expect(r.attributions.actors.created).toBe(3);
    const { nodes } = await assessmentsOf(a.token, o.gid);
    expect(new Set(nodes.map((x) => x.subjectIntrusionSet?.name))).toEqual(new Set(["Comment Crew"]));
  });
});

describe("access", () => {
  it("an imported RED attribution is invisible to other organisations", async () => {
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const r = await ingest(a.token, await feed(a.token, "RED"), read(CTI_DOC));
    expect(r.attributions.assessments.created).toBe(5);
    const mine = await assessmentsOf(a.token, o.gid);
    expect(mine.totalCount).toBe(5);
    expect(mine.nodes.every((x) => x.marking.tlp === "RED")).toBe(true);
    const theirs = await assessmentsOf(other.token, o.gid);
    expect(theirs).toEqual({ totalCount: 0, nodes: [] });
    const id = mine.nodes[0]?.id ?? "";
    const direct = await hub.gql(other.token, `query($id: ID!) { assessment(id: $id) { id } }`, { id });
    const missing = await hub.gql(other.token, `query($id: ID!) { assessment(id: $id) { id } }`, {
      id: toGlobalId("Assessment", randomUUID()),
    });
    expect(direct.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(direct.errors?.[0]?.message).toBe(missing.errors?.[0]?.message);
    // the actors it created are RED too (feed default): no trace in the other's actor search
    expect(await actorsNamed(other.token, "bpp")).toEqual([]);
  });
});
