import { createClient, type Client } from "graphql-ws";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  AddOpinionDocument,
  AddTimelineEntryDocument,
  CreateAssessmentDocument,
  CreateFeedDocument,
  CreateIncidentDocument,
  CreateThreatActorDocument,
  IndicatorByValueDocument,
  IngestDocument,
  ReviseAssessmentDocument,
  UpdateIncidentDocument,
  type CreateAssessmentInput,
  type CreateIncidentInput,
  type Tlp,
} from "./generated/graphql";
import { gql, op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

/** Long enough for a loaded machine; a test that waits this long has failed, it is not a timing. */
const PATIENCE_MS = 25_000;

let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let xc: SeededOrg;
let xaAnalyst: SeededAccount;
let xbReader: SeededAccount;
let xcAnalyst: SeededAccount;
let partnerReader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  xc = await hub.world.org("MEMBER_STATE");
  const partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xbReader = await hub.world.account(xb, "READER");
  xcAnalyst = await hub.world.account(xc, "ANALYST");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

const clients: Client[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.dispose()));
});

interface Ev {
  kind: string;
  cursor: string;
  id: string;
  title: string | null;
}

/** One subscription's events and errors, with a way to wait for more. */
class Received {
  events: Ev[] = [];
  errors: unknown[] = [];
  private listeners = new Set<() => void>();
  push(e: Ev) {
    this.events.push(e);
    for (const l of this.listeners) l();
  }
  until(done: (r: Received) => boolean, what: string): Promise<void> {
    if (done(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`did not get ${what}; got ${JSON.stringify(this.events)} ${JSON.stringify(this.errors)}`)),
        PATIENCE_MS,
      );
      const check = () => {
        if (!done(this)) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }
  /** Waits for the event about `id`; what came before it is all that was delivered before it. */
  untilId(id: string) {
    return this.until((r) => r.events.some((e) => e.id === id), id);
  }
  summary() {
    return this.events.map((e) => [e.kind, e.id, e.title]);
  }
}

const INCIDENTS = `subscription ($filter: IncidentEventFilter, $after: String) {
  incidentEvents(filter: $filter, after: $after) { kind cursor id incident { title timeline { summary } } } }`;
const ASSESSMENTS = `subscription ($filter: AssessmentEventFilter, $after: String) {
  assessmentEvents(filter: $filter, after: $after) { kind cursor id assessment { rationale opinionSummary { count } } } }`;

async function subscribe(token: string, query: string, variables: Record<string, unknown> = {}) {
  const client = createClient({
    url: hub.wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => {},
  });
  clients.push(client);
  const r = new Received();
  client.subscribe<
    Record<
      string,
      {
        kind: string;
        cursor: string;
        id: string;
        incident?: { title: string } | null;
        assessment?: { rationale: string } | null;
      }
    >
  >(
    { query, variables },
    {
      next: (result) => {
        for (const e of result.errors ?? []) r.errors.push(e);
        const ev = result.data?.incidentEvents ?? result.data?.assessmentEvents;
        if (ev)
          r.push({
            kind: ev.kind,
            cursor: ev.cursor,
            id: ev.id,
            title: ev.incident?.title ?? ev.assessment?.rationale ?? null,
          });
      },
      error: (e) => void r.errors.push(e),
      complete: () => {},
    },
  );
  // Operations on one socket are handled in order: once this answers, the subscription is open.
  await new Promise<void>((resolve, reject) =>
    client.subscribe({ query: "{ __typename }" }, { next: () => {}, error: reject, complete: resolve }),
  );
  return { r, client };
}

async function incident(title: string, tlp: Tlp, over: Partial<CreateIncidentInput> = {}) {
  const r = await op(hub.url, xaAnalyst.token, CreateIncidentDocument, {
    input: {
      title,
      rsitClass: "malicious-code",
      rsitType: "infected-system",
      severity: "HIGH",
      marking: { tlp },
      ...over,
    },
  });
  expect(r.errors).toBeUndefined();
  return r.data?.createIncident.id ?? "";
}

const update = async (id: string, input: Record<string, unknown>) =>
  expect((await op(hub.url, xaAnalyst.token, UpdateIncidentDocument, { id, input })).errors).toBeUndefined();

describe("incidentEvents", () => {
  it("delivers incidents as each subscriber may see them: created, updated, removed, and nothing about what it may not see", async () => {
    const { r } = await subscribe(xbReader.token, INCIDENTS);
    const partner = await subscribe(partnerReader.token, INCIDENTS);
    const green = await incident("green one", "GREEN");
    const amber = await incident("amber one", "AMBER");
    await update(amber, { title: "amber one, renamed" });
    await update(green, { status: "CONTAINED" });
    // A RED timeline entry on a visible incident says nothing to XB; a GREEN one is an update.
    const entry = (tlp: Tlp, summary: string) =>
      op(hub.url, xaAnalyst.token, AddTimelineEntryDocument, {
        incidentId: green,
        input: { eventAt: "2026-03-01T10:00:00.000Z", summary, marking: { tlp } },
      });
    expect((await entry("RED", "secret step")).errors).toBeUndefined();
    expect((await entry("GREEN", "public step")).errors).toBeUndefined();
    // Released to XB's view: CREATED; then narrowed again: REMOVED, with only its id.
    await update(amber, { marking: { tlp: "GREEN" } });
    await update(amber, { marking: { tlp: "AMBER" } });
    const last = await incident("sentinel", "GREEN");
    await r.untilId(last);
    expect(r.summary()).toEqual([
      ["CREATED", green, "green one"],
      ["UPDATED", green, "green one"],
      ["UPDATED", green, "green one"],
      ["CREATED", amber, "amber one, renamed"],
      ["REMOVED", amber, null],
      ["CREATED", last, "sentinel"],
    ]);
    expect(JSON.stringify(r.events)).not.toContain("secret");
    // Partners see no GREEN incident: not one event, though a CLEAR one arrives.
    const clear = await incident("clear one", "CLEAR");
    await partner.r.untilId(clear);
    expect(partner.r.summary()).toEqual([["CREATED", clear, "clear one"]]);
  });

  it("tells a subscriber of a linked indicator only when it may see the indicator", async () => {
    const green = await incident("with indicators", "GREEN");
    const feed = await op(hub.url, xaAnalyst.token, CreateFeedDocument, {
      input: { name: `links ${Math.random()}`, format: "CSV", defaultMarking: { tlp: "AMBER" } },
    });
    const feedId = feed.data?.createFeed.id ?? "";
    expect(
      (await op(hub.url, xaAnalyst.token, IngestDocument, { feedId, content: "203.0.113.9\n" })).errors,
    ).toBeUndefined();
    const ind = await op(hub.url, xaAnalyst.token, IndicatorByValueDocument, { value: "203.0.113.9" });
    const indicatorId = ind.data?.indicator?.id ?? "";
    const { r } = await subscribe(xbReader.token, INCIDENTS);
    const link = await gql<{ linkIndicators: { indicators: { value: string }[] } }>(
      hub.url,
      xaAnalyst.token,
      `mutation ($i: ID!, $ids: [ID!]!) { linkIndicators(incidentId: $i, indicatorIds: $ids) { indicators { value } } }`,
      { i: green, ids: [indicatorId] },
    );
    expect(link.data?.linkIndicators.indicators).toEqual([{ value: "203.0.113.9" }]);
    // XB may not see the AMBER indicator: the incident shows no link, and no event came.
    const seen = await gql<{ incident: { indicators: unknown[] } }>(
      hub.url,
      xbReader.token,
      `query ($i: ID!) { incident(id: $i) { indicators { value } } }`,
      { i: green },
    );
    expect(seen.data?.incident.indicators).toEqual([]);
    const last = await incident("sentinel 2", "GREEN");
    await r.untilId(last);
    expect(r.summary()).toEqual([["CREATED", last, "sentinel 2"]]);
  });

  it("filters, and resumes after a cursor with exactly what was missed, in order", async () => {
    const first = await subscribe(xbReader.token, INCIDENTS, { filter: { minSeverity: "SEVERE" } });
    const low = await incident("low", "GREEN", { severity: "LOW" });
    const severe = await incident("severe", "GREEN", { severity: "SEVERE" });
    await first.r.untilId(severe);
    expect(first.r.summary()).toEqual([["CREATED", severe, "severe"]]);
    expect(low).not.toBe("");
    const cursor = first.r.events[0]?.cursor ?? "";
    await first.client.dispose();
    const missed = [await incident("m1", "GREEN"), await incident("m2", "AMBER"), await incident("m3", "GREEN")];
    const again = await subscribe(xbReader.token, INCIDENTS, { after: cursor });
    const live = await incident("live", "GREEN");
    await again.r.untilId(live);
    expect(again.r.summary().map((e) => e[1])).toEqual([missed[0], missed[2], live]);
  });
});

describe("assessmentEvents", () => {
  it("delivers revisions and opinions as each subscriber may see them", async () => {
    const actor = async (tlp: Tlp) => {
      const a = await op(hub.url, xaAnalyst.token, CreateThreatActorDocument, {
        input: { name: `events actor ${Math.random()}`, marking: { tlp } },
      });
      expect(a.errors).toBeUndefined();
      return a.data?.createThreatActor.id ?? "";
    };
    const greenActor = await actor("GREEN");
    const redActor = await actor("RED");
    const create = async (rationale: string, over: Partial<CreateAssessmentInput> = {}) => {
      const a = await op(hub.url, xaAnalyst.token, CreateAssessmentDocument, {
        input: {
          subject: { campaignName: "events campaign" },
          actorId: greenActor,
          likelihood: "LIKELY",
          analyticConfidence: "MODERATE",
          rationale,
          nextReviewAt: "2030-01-01T00:00:00.000Z",
          marking: { tlp: "GREEN" },
          ...over,
        },
      });
      expect(a.errors).toBeUndefined();
      return a.data?.createAssessment.id ?? "";
    };
    const { r } = await subscribe(xbReader.token, ASSESSMENTS);
    const likely = await subscribe(xbReader.token, ASSESSMENTS, { filter: { minLikelihood: "VERY_LIKELY" } });
    const a = await create("visible");
    // Its actor is RED: the assessment is invisible to XB, and so are its events.
    await create("names a hidden actor", { actorId: redActor });
    const revised = await op(hub.url, xaAnalyst.token, ReviseAssessmentDocument, {
      id: a,
      expectedRevision: 1,
      changes: { likelihood: "VERY_LIKELY" },
      reason: "more evidence",
    });
    expect(revised.errors).toBeUndefined();
    const opinion = (tlp: Tlp, comment: string) =>
      op(hub.url, xcAnalyst.token, AddOpinionDocument, {
        assessmentId: a,
        input: { stance: "DISAGREE", comment, marking: { tlp } },
      });
    expect((await opinion("RED", "private doubt")).errors).toBeUndefined();
    const narrowed = await op(hub.url, xaAnalyst.token, ReviseAssessmentDocument, {
      id: a,
      expectedRevision: 2,
      changes: { marking: { tlp: "AMBER" } },
      reason: "restricted again",
    });
    expect(narrowed.errors).toBeUndefined();
    const last = await create("sentinel");
    await r.untilId(last);
    expect(r.summary()).toEqual([
      ["CREATED", a, "visible"],
      ["UPDATED", a, "visible"],
      ["REMOVED", a, null],
      ["CREATED", last, "sentinel"],
    ]);
    const sentinel2 = await create("sentinel very likely", { likelihood: "ALMOST_CERTAIN" });
    await likely.r.untilId(sentinel2);
    expect(likely.r.summary()).toEqual([
      ["UPDATED", a, "visible"],
      ["REMOVED", a, null],
      ["CREATED", sentinel2, "sentinel very likely"],
    ]);
    // A GREEN opinion on a GREEN assessment is an update for XB.
    const b = await create("for opinions");
    const { r: r2 } = await subscribe(xbReader.token, ASSESSMENTS);
    const green = await op(hub.url, xcAnalyst.token, AddOpinionDocument, {
      assessmentId: b,
      input: { stance: "AGREE", marking: { tlp: "GREEN" } },
    });
    expect(green.errors).toBeUndefined();
    await r2.untilId(b);
    expect(r2.summary()).toEqual([["UPDATED", b, "for opinions"]]);
    expect(xb.id).not.toBe(xc.id);
  });

  it("tells a subscriber of an assessment it gains or loses through its incident's marking", async () => {
    const xaReader = await hub.world.account(xa, "READER");
    const actor = await op(hub.url, xaAnalyst.token, CreateThreatActorDocument, {
      input: { name: `subject events actor ${Math.random()}`, marking: { tlp: "GREEN" } },
    });
    expect(actor.errors).toBeUndefined();
    const create = async (rationale: string, subject: CreateAssessmentInput["subject"]) => {
      const a = await op(hub.url, xaAnalyst.token, CreateAssessmentDocument, {
        input: {
          subject,
          actorId: actor.data?.createThreatActor.id ?? "",
          likelihood: "LIKELY",
          analyticConfidence: "MODERATE",
          rationale,
          nextReviewAt: "2030-01-01T00:00:00.000Z",
          marking: { tlp: "GREEN" },
        },
      });
      expect(a.errors).toBeUndefined();
      return a.data?.createAssessment.id ?? "";
    };
    const { r: xbEvents } = await subscribe(xbReader.token, ASSESSMENTS);
    const { r: ownerEvents } = await subscribe(xaReader.token, ASSESSMENTS);
    const subject = await incident("subject of an assessment", "GREEN");
    const a = await create("about the incident", { incidentId: subject });
    // Narrowed to XA alone: XB may no longer see the incident, so neither the assessment.
    await update(subject, { marking: { tlp: "AMBER" } });
    await update(subject, { marking: { tlp: "GREEN" } });
    const last = await create("sentinel about a campaign", { campaignName: "subject events campaign" });
    await xbEvents.untilId(last);
    expect(xbEvents.summary()).toEqual([
      ["CREATED", a, "about the incident"],
      ["REMOVED", a, null],
      ["CREATED", a, "about the incident"],
      ["CREATED", last, "sentinel about a campaign"],
    ]);
    // The owner saw it throughout: the incident's changes are updates of the assessment.
    await ownerEvents.untilId(last);
    expect(ownerEvents.summary()).toEqual([
      ["CREATED", a, "about the incident"],
      ["UPDATED", a, "about the incident"],
      ["UPDATED", a, "about the incident"],
      ["CREATED", last, "sentinel about a campaign"],
    ]);
  });

  it("delivers assessments imported from STIX: created, then withdrawn by a later bundle", async () => {
    const feed = await op(hub.url, xaAnalyst.token, CreateFeedDocument, {
      input: { name: `stix events ${Math.random()}`, format: "STIX", defaultMarking: { tlp: "GREEN" } },
    });
    const feedId = feed.data?.createFeed.id ?? "";
    const at = (modified: string, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        type: "bundle",
        id: "bundle--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e01",
        objects: [
          {
            type: "campaign",
            spec_version: "2.1",
            id: "campaign--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e02",
            created: "2026-01-01T00:00:00.000Z",
            modified: "2026-01-01T00:00:00.000Z",
            name: "Imported events campaign",
          },
          {
            type: "intrusion-set",
            spec_version: "2.1",
            id: "intrusion-set--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e03",
            created: "2026-01-01T00:00:00.000Z",
            modified: "2026-01-01T00:00:00.000Z",
            name: `Imported events set ${Math.random()}`,
          },
          {
            type: "relationship",
            spec_version: "2.1",
            id: "relationship--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e04",
            created: "2026-01-01T00:00:00.000Z",
            modified,
            relationship_type: "attributed-to",
            source_ref: "campaign--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e02",
            target_ref: "intrusion-set--2f0e9a56-4f59-4b8e-8a57-3b7c2a1d9e03",
            description: "imported",
            ...extra,
          },
        ],
      });
    const { r } = await subscribe(xbReader.token, ASSESSMENTS);
    expect(
      (await op(hub.url, xaAnalyst.token, IngestDocument, { feedId, content: at("2026-01-01T00:00:00.000Z") })).errors,
    ).toBeUndefined();
    const again = await op(hub.url, xaAnalyst.token, IngestDocument, {
      feedId,
      content: at("2026-02-01T00:00:00.000Z", { revoked: true }),
    });
    expect(again.errors).toBeUndefined();
    await r.until((x) => x.events.length >= 2, "the import's two events");
    const id = r.events[0]?.id ?? "";
    expect(r.summary()).toEqual([
      ["CREATED", id, "imported"],
      ["UPDATED", id, "imported"],
    ]);
  });
});
