import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../src/shared/ids";
import { TLP2_MARKING_ID } from "../src/modules/indicators/stix";
import { compareTimestamps, validateStix } from "./stix-schemas";
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

/** Free evidence references: a URL, and a title that is not one. */
const EVIDENCE = ["https://example.org/reports/grid-2026?part=2", "Vendor report on the grid outage, March 2026"];

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
    // a later bundle revokes it, with the relationship alone: its ends are found in the hub
    const revoked = await ingest(
      analyst.token,
      feedId,
      JSON.stringify({
        type: "bundle",
        id: "bundle--5d0c4c4e-3c64-4b4c-9d9a-2f2d3c1f9a12",
        objects: [{ ...rel, modified: "2026-02-01T00:00:00.000Z", confidence: 85, revoked: true }],
      }),
    );
    expect(revoked.rejected).toBe(0);
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
  it("an actor another organisation holds under RED resolves exactly like an unknown id", async () => {
    const holder = await hub.world.account(await hub.world.org("MEMBER_STATE"), "ANALYST");
    const held = "intrusion-set--0a6b6f8c-3f3e-4d53-8d1e-2b1f4f6c9a01";
    const unknown = "intrusion-set--0a6b6f8c-3f3e-4d53-8d1e-2b1f4f6c9a02";
    const made = await hub.gql(
      holder.token,
      `mutation($input: CreateThreatActorInput!) { createThreatActor(input: $input) { id } }`,
      {
        input: {
          kind: "INTRUSION_SET",
          name: `Held ${Math.random()}`,
          aliases: [],
          stixId: held,
          marking: { tlp: "RED" },
        },
      },
    );
    expect(made.errors).toBeUndefined();
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const f = await feed(a.token);
    const campaign = {
      type: "campaign",
      spec_version: "2.1",
      id: "campaign--0a6b6f8c-3f3e-4d53-8d1e-2b1f4f6c9a03",
      created: "2026-01-01T00:00:00.000Z",
      modified: "2026-01-01T00:00:00.000Z",
      name: "Probe",
    };
    const probe = async (target: string) => {
      const r = await ingest(
        a.token,
        f,
        JSON.stringify({
          type: "bundle",
          id: "bundle--0a6b6f8c-3f3e-4d53-8d1e-2b1f4f6c9a04",
          objects: [
            campaign,
            {
              type: "relationship",
              spec_version: "2.1",
              id: "relationship--0a6b6f8c-3f3e-4d53-8d1e-2b1f4f6c9a05",
              created: "2026-01-01T00:00:00.000Z",
              modified: "2026-01-01T00:00:00.000Z",
              relationship_type: "attributed-to",
              source_ref: campaign.id,
              target_ref: target,
            },
          ],
        }),
      );
      return JSON.stringify(r).replaceAll(target, "TARGET");
    };
    const answer = await probe(held);
    expect(answer).toBe(await probe(unknown));
    expect(answer).toContain("TARGET is neither in the bundle nor known here");
  });

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

describe("export of assessments, opinions and incidents", () => {
  let owner: SeededAccount;
  let ownerOrg: SeededOrg;
  let peer: SeededAccount;
  let secretive: SeededAccount;
  let reader: SeededAccount;
  const ids: Record<string, string> = {};

  async function must<T>(token: string, query: string, variables: Record<string, unknown>): Promise<T> {
    const r = await hub.gql<T>(token, query, variables);
    expect(r.errors).toBeUndefined();
    if (!r.data) throw new Error("no data");
    return r.data;
  }
  const actor = async (name: string, kind: string, tlp = "GREEN") =>
    (
      await must<{ createThreatActor: { id: string } }>(
        owner.token,
        `mutation($input: CreateThreatActorInput!) { createThreatActor(input: $input) { id } }`,
        { input: { kind, name: `${name} ${Math.random()}`, aliases: [], marking: { tlp } } },
      )
    ).createThreatActor.id;
  const incident = async (token: string, title: string, tlp: string) =>
    (
      await must<{ createIncident: { id: string } }>(
        token,
        `mutation($input: CreateIncidentInput!) { createIncident(input: $input) { id } }`,
        {
          input: {
            title,
            description: "exported as a STIX incident",
            rsitClass: "malicious-code",
            rsitType: "infected-system",
            severity: "HIGH",
            sectors: ["water"],
            countries: ["XA"],
            occurredAt: "2026-03-01T10:00:00.000Z",
            marking: { tlp },
          },
        },
      )
    ).createIncident.id;
  const assess = async (subject: Record<string, unknown>, actorId: string, tlp: string, extra = {}) =>
    (
      await must<{ createAssessment: { id: string; stixId: string } }>(
        owner.token,
        `mutation($input: CreateAssessmentInput!) { createAssessment(input: $input) { id stixId } }`,
        {
          input: {
            subject,
            actorId,
            likelihood: "LIKELY",
            analyticConfidence: "MODERATE",
            rationale: `Rationale ${tlp} ${JSON.stringify(subject)}`,
            status: "PROVISIONAL",
            nextReviewAt: "2027-01-01T00:00:00.000Z",
            marking: { tlp },
            ...extra,
          },
        },
      )
    ).createAssessment;
  const opinion = (token: string, assessmentId: string, stance: string, tlp: string, comment: string) =>
    must(
      token,
      `mutation($a: ID!, $input: CreateOpinionInput!) { addOpinion(assessmentId: $a, input: $input) { id } }`,
      { a: assessmentId, input: { stance, confidence: 70, comment, marking: { tlp } } },
    );

  beforeAll(async () => {
    ownerOrg = await hub.world.org("MEMBER_STATE");
    owner = await hub.world.account(ownerOrg, "ANALYST");
    peer = await hub.world.account(await hub.world.org("MEMBER_STATE"), "ANALYST");
    secretive = await hub.world.account(await hub.world.org("MEMBER_STATE"), "ANALYST");
    reader = await hub.world.account(await hub.world.org("MEMBER_STATE"), "READER");
    const sandworm = await actor("Export Sandworm", "THREAT_ACTOR");
    const set = await actor("Export Set", "INTRUSION_SET");
    const greenIncident = await incident(owner.token, "Green grid outage", "GREEN");
    const entries: [string, string, string][] = [
      ["2026-03-01T11:00:00.000Z", "Operators restored power by hand", "GREEN"],
      ["2026-03-01T10:00:00.000Z", "Breakers opened at the substation", "GREEN"],
      ["2026-03-01T10:30:00.000Z", "Source inside the operator", "RED"],
      ["2026-03-01T10:45:00.000Z", "Strictly shared finding", "AMBER_STRICT"],
    ];
    for (const [eventAt, summary, tlp] of entries)
      await must(
        owner.token,
        `mutation($id: ID!, $input: TimelineEntryInput!) { addTimelineEntry(incidentId: $id, input: $input) { id } }`,
        { id: greenIncident, input: { eventAt, summary, marking: { tlp } } },
      );
    ids.peerAmberIncident = await incident(peer.token, "Peer amber incident", "AMBER");
    const green = await assess({ campaignName: "Exported Campaign" }, sandworm, "GREEN", {
      evidence: { references: EVIDENCE },
    });
    ids.green = green.stixId;
    ids.greenGid = green.id;
    ids.red = (await assess({ campaignName: "Secret Campaign" }, sandworm, "RED")).stixId;
    ids.strict = (await assess({ campaignName: "Strict Campaign" }, sandworm, "AMBER_STRICT")).stixId;
    ids.onIncident = (await assess({ incidentId: greenIncident }, sandworm, "GREEN")).stixId;
    const withdrawn = await assess({ intrusionSetId: set }, sandworm, "GREEN");
    ids.withdrawn = withdrawn.stixId;
    await must(
      owner.token,
      `mutation($id: ID!) { withdrawAssessment(id: $id, expectedRevision: 1, reason: "new evidence") { id } }`,
      { id: withdrawn.id },
    );
    await opinion(peer.token, green.id, "STRONGLY_AGREE", "GREEN", "Seen the same infrastructure");
    await opinion(secretive.token, green.id, "DISAGREE", "RED", "Secret dissent");
  });

  async function exportAs(token: string, query = ""): Promise<{ objects: Record<string, unknown>[] }> {
    const res = await fetch(`${hub.url}/export/stix${query}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { type: string; objects?: Record<string, unknown>[] };
    expect(validateStix(bundle)).toEqual([]);
    for (const o of bundle.objects ?? [])
      if (typeof o.created === "string" && typeof o.modified === "string")
        expect(compareTimestamps(o.created, o.modified)).toBeLessThanOrEqual(0);
    return { objects: bundle.objects ?? [] };
  }
  const byId = (objects: Record<string, unknown>[], id: string) => objects.find((o) => o.id === id);

  it("exports a visible assessment as attributed-to with its confidence, campaign, actor and opinion", async () => {
    const { objects } = await exportAs(reader.token);
    const rel = byId(objects, ids.green ?? "");
    expect(rel).toMatchObject({
      type: "relationship",
      relationship_type: "attributed-to",
      // LIKELY (55-80 %, middle 67.5) held with moderate confidence: round(50 + 17.5 * 0.75)
      confidence: 63,
      x_hub_likelihood: "likely",
      x_hub_analytic_confidence: "moderate",
      description: expect.stringContaining("Rationale GREEN"),
      object_marking_refs: ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"],
    });
    expect(rel?.revoked).toBeUndefined();
    expect(rel?.external_references).toEqual([
      { source_name: "evidence", url: EVIDENCE[0] },
      { source_name: "evidence", description: EVIDENCE[1] },
    ]);
    expect(byId(objects, String(rel?.source_ref))).toMatchObject({ type: "campaign", name: "Exported Campaign" });
    expect(byId(objects, String(rel?.target_ref))).toMatchObject({ type: "threat-actor" });
    expect(byId(objects, String(rel?.created_by_ref))).toMatchObject({ type: "identity", name: ownerOrg.name });
    const opinions = objects.filter((o) => o.type === "opinion");
    expect(opinions).toEqual([
      expect.objectContaining({
        opinion: "strongly-agree",
        explanation: "Seen the same infrastructure",
        confidence: 70,
        object_refs: [ids.green],
      }),
    ]);
    const withdrawn = byId(objects, ids.withdrawn ?? "");
    expect(withdrawn).toMatchObject({ revoked: true, x_hub_status: "withdrawn" });
    expect(byId(objects, String(withdrawn?.source_ref))).toMatchObject({ type: "intrusion-set" });
    const onIncident = byId(objects, ids.onIncident ?? "");
    expect(byId(objects, String(onIncident?.source_ref))).toMatchObject({
      type: "incident",
      name: "Green grid outage",
      x_hub_rsit_class: "malicious-code",
      x_hub_rsit_type: "infected-system",
      x_hub_severity: "high",
    });
  });

  it("exports an incident's timeline entries the viewer may see as notes about it, in event order", async () => {
    const { objects } = await exportAs(reader.token, "?include=INCIDENTS&onwardSharing=false");
    const incident = objects.find((o) => o.type === "incident" && o.name === "Green grid outage");
    const notes = objects.filter((o) => o.type === "note" && (o.object_refs as string[])[0] === incident?.id);
    expect(notes.map((n) => [n.content, n.x_hub_event_time])).toEqual([
      ["Breakers opened at the substation", "2026-03-01T10:00:00.000Z"],
      ["Operators restored power by hand", "2026-03-01T11:00:00.000Z"],
    ]);
    expect(notes[0]).toMatchObject({
      created_by_ref: incident?.created_by_ref,
      object_marking_refs: [TLP2_MARKING_ID.GREEN],
    });
    expect(JSON.stringify(objects)).not.toContain("Source inside the operator");
    // The owner sees all four, but an export for onward sharing keeps RED and AMBER_STRICT out.
    const contents = async (query: string) =>
      (await exportAs(owner.token, query)).objects.filter((o) => o.type === "note").map((n) => n.content);
    expect(await contents("?include=INCIDENTS&onwardSharing=false")).toEqual([
      "Breakers opened at the substation",
      "Source inside the operator",
      "Strictly shared finding",
      "Operators restored power by hand",
    ]);
    expect(await contents("?include=INCIDENTS")).toEqual([
      "Breakers opened at the substation",
      "Operators restored power by hand",
    ]);
  });

  it("leaves out what the viewer may not see: a RED assessment, a RED opinion, another's AMBER incident", async () => {
    const { objects } = await exportAs(reader.token, "?onwardSharing=false");
    const text = JSON.stringify(objects);
    expect(byId(objects, ids.red ?? "")).toBeUndefined();
    expect(byId(objects, ids.strict ?? "")).toBeUndefined();
    expect(text).not.toContain("Secret Campaign");
    expect(text).not.toContain("Secret dissent");
    expect(text).not.toContain("Peer amber incident");
    expect(objects.filter((o) => o.type === "opinion")).toHaveLength(1);
    // the peer sees its own AMBER incident
    const peerView = await exportAs(peer.token, "?include=INCIDENTS");
    expect(JSON.stringify(peerView.objects)).toContain("Peer amber incident");
    expect(peerView.objects.some((o) => o.type === "relationship" || o.type === "indicator")).toBe(false);
  });

  it("keeps AMBER_STRICT and RED out of onward exports even for their owner", async () => {
    const onward = await exportAs(owner.token, "?include=ASSESSMENTS");
    expect(byId(onward.objects, ids.red ?? "")).toBeUndefined();
    expect(byId(onward.objects, ids.strict ?? "")).toBeUndefined();
    const own = await exportAs(owner.token, "?include=ASSESSMENTS&onwardSharing=false");
    expect(byId(own.objects, ids.red ?? "")).toMatchObject({ object_marking_refs: [TLP2_MARKING_ID.RED] });
    expect(byId(own.objects, ids.strict ?? "")).toBeDefined();
  });

  it("refuses an unknown kind in include with BAD_USER_INPUT", async () => {
    const res = await fetch(`${hub.url}/export/stix?include=INDICATORS,ACTORS`, {
      headers: { authorization: `Bearer ${reader.token}` },
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe("BAD_USER_INPUT");
  });

  it("the GraphQL exportStix takes the same include", async () => {
    const r = await must<{ exportStix: string }>(
      reader.token,
      `query { exportStix(include: [ASSESSMENTS], limit: 100) }`,
      {},
    );
    const bundle = JSON.parse(r.exportStix) as { objects: Record<string, unknown>[] };
    expect(validateStix(bundle)).toEqual([]);
    expect(byId(bundle.objects, ids.green ?? "")).toBeDefined();
    expect(bundle.objects.some((o) => o.type === "incident" && o.name === "Peer amber incident")).toBe(false);
  });

  it("round trip: another organisation imports the export with the same likelihood and analytic confidence", async () => {
    const { objects } = await exportAs(reader.token, "?include=ASSESSMENTS");
    const o = await hub.world.org("MEMBER_STATE");
    const a = await hub.world.account(o, "ANALYST");
    const bundle = JSON.stringify({ type: "bundle", id: "bundle--6a1f7f0e-1b8e-4b55-9a39-5b0b1d0f2c11", objects });
    const r = await ingest(a.token, await feed(a.token), bundle);
    expect(r.rejected).toBe(0);
    // the green campaign one, the withdrawn intrusion-set one (created and withdrawn); the one about
    // an incident is skipped (the hub imports campaign and intrusion-set subjects)
    expect(r.attributions.assessments).toMatchObject({ created: 2, withdrawn: 1 });
    const { nodes } = await assessmentsOf(a.token, o.gid);
    const green = nodes.find((x) => x.stixId === ids.green);
    expect(green).toMatchObject({
      likelihood: "LIKELY",
      analyticConfidence: "MODERATE",
      stixConfidence: 63,
      campaignName: "Exported Campaign",
      rationale: expect.stringContaining("Rationale GREEN"),
      evidence: { references: EVIDENCE },
    });
    expect(nodes.find((x) => x.stixId === ids.withdrawn)).toMatchObject({ status: "WITHDRAWN" });
    const again = await ingest(a.token, await feed(a.token), bundle);
    // the same organisation again (another of its feeds): the same relationships, nothing changes
    expect(again.attributions.assessments).toEqual({ created: 0, updated: 0, unchanged: 2, withdrawn: 0 });
    // the owner's own export back through its own feed leaves its assessments as they are
    const ownFeed = await feed(owner.token);
    const home = await ingest(owner.token, ownFeed, bundle);
    expect(home.attributions.assessments).toEqual({ created: 0, updated: 0, unchanged: 2, withdrawn: 0 });
  });

  // Last: it adds an assessment the tests above do not count.
  it("exports a retired actor with a revoked-by relationship to its replacement", async () => {
    const t = "2026-02-01T00:00:00.000Z";
    const common = { spec_version: "2.1", created: t, modified: t, object_marking_refs: [TLP2_MARKING_ID.GREEN] };
    const [retired, successor, campaign, retiredToo, hidden] = [
      `intrusion-set--${randomUUID()}`,
      `intrusion-set--${randomUUID()}`,
      `campaign--${randomUUID()}`,
      `intrusion-set--${randomUUID()}`,
      `intrusion-set--${randomUUID()}`,
    ];
    const red = { object_marking_refs: [TLP2_MARKING_ID.RED] };
    const objects = [
      { ...common, type: "intrusion-set", id: retired, name: "Retired Export Set" },
      { ...common, type: "intrusion-set", id: successor, name: "Successor Export Set" },
      { ...common, type: "campaign", id: campaign, name: "Campaign of a retired set" },
      {
        ...common,
        type: "relationship",
        id: `relationship--${randomUUID()}`,
        relationship_type: "attributed-to",
        source_ref: campaign,
        target_ref: retired,
        confidence: 70,
      },
      {
        ...common,
        type: "relationship",
        id: `relationship--${randomUUID()}`,
        relationship_type: "revoked-by",
        source_ref: retired,
        target_ref: successor,
      },
      // Retired for a RED successor: the retirement shows, the successor does not.
      { ...common, type: "intrusion-set", id: retiredToo, name: "Retired Too Set" },
      { ...common, ...red, type: "intrusion-set", id: hidden, name: "Hidden Successor Set" },
      {
        ...common,
        type: "relationship",
        id: `relationship--${randomUUID()}`,
        relationship_type: "attributed-to",
        source_ref: campaign,
        target_ref: retiredToo,
        confidence: 70,
      },
      {
        ...common,
        ...red,
        type: "relationship",
        id: `relationship--${randomUUID()}`,
        relationship_type: "revoked-by",
        source_ref: retiredToo,
        target_ref: hidden,
      },
    ];
    const bundle = JSON.stringify({ type: "bundle", id: `bundle--${randomUUID()}`, objects });
    const r = await ingest(owner.token, await feed(owner.token, "GREEN"), bundle);
    expect(r.rejected).toBe(0);
    const exported = (await exportAs(reader.token, "?include=ASSESSMENTS")).objects;
    expect(byId(exported, retired)).toMatchObject({ name: "Retired Export Set", revoked: true });
    expect(byId(exported, successor)).toMatchObject({ type: "intrusion-set", name: "Successor Export Set" });
    const revokedBy = exported.filter((o) => o.relationship_type === "revoked-by");
    expect(revokedBy).toEqual([
      expect.objectContaining({
        source_ref: retired,
        target_ref: successor,
        object_marking_refs: [TLP2_MARKING_ID.GREEN],
      }),
    ]);
    expect(byId(exported, retiredToo)).toMatchObject({ revoked: true });
    expect(JSON.stringify(exported)).not.toContain(hidden);
    expect(JSON.stringify(exported)).not.toContain("Hidden Successor Set");
    // Its owner sees it, but not in an export for onward sharing.
    const own = async (query: string) =>
      (await exportAs(owner.token, query)).objects.filter((o) => o.relationship_type === "revoked-by").length;
    expect(await own("?include=ASSESSMENTS&onwardSharing=false")).toBe(2);
    expect(await own("?include=ASSESSMENTS")).toBe(1);
  });
});
