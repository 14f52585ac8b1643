import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { auditLog } from "../src/modules/audit";
import {
  CreateThreatActorDocument,
  NodeByIdDocument,
  ThreatActorDocument,
  ThreatActorsDocument,
} from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;
let xa: SeededOrg;
let xb: SeededOrg;
let xaAnalyst: SeededAccount;
let xaReader: SeededAccount;
let xbAnalyst: SeededAccount;
let partnerReader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  xa = await hub.world.org("MEMBER_STATE");
  xb = await hub.world.org("MEMBER_STATE");
  const partner = await hub.world.org("PARTNER");
  xaAnalyst = await hub.world.account(xa, "ANALYST");
  xaReader = await hub.world.account(xa, "READER");
  xbAnalyst = await hub.world.account(xb, "ANALYST");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

type Tlp = "CLEAR" | "GREEN" | "AMBER" | "RED";
const create = (token: string, name: string, aliases: string[] = [], tlp: Tlp = "GREEN", stixId?: string) =>
  op(hub.url, token, CreateThreatActorDocument, {
    input: { name, aliases, description: `about ${name}`, marking: { tlp }, ...(stixId ? { stixId } : {}) },
  });

describe("threat actors", () => {
  it("lets an analyst name an actor with aliases, owned by their organisation, and not a reader", async () => {
    const r = await create(
      xaAnalyst.token,
      "Sandstorm Kitten",
      ["SK-1", "sk-1", "  Dune Cat "],
      "GREEN",
      "intrusion-set--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.createThreatActor).toMatchObject({
      kind: "INTRUSION_SET",
      name: "Sandstorm Kitten",
      aliases: ["SK-1", "Dune Cat"],
      stixId: "intrusion-set--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
      marking: { tlp: "GREEN" },
      owner: { id: xa.gid },
    });
    const refused = await create(xaReader.token, "Reader's Actor");
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const badStix = await create(
      xaAnalyst.token,
      "Bad Stix",
      [],
      "GREEN",
      "malware--0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    );
    expect(badStix.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.stixId" });
  });

  it("refuses a name or alias already used by an actor the caller can see, naming that actor", async () => {
    const first = await create(xaAnalyst.token, "Copper Heron", ["Bronze Stork"]);
    const existingId = first.data?.createThreatActor.id;
    for (const [name, aliases] of [
      ["COPPER HERON", []],
      ["Something Else", ["bronze stork"]],
      ["bronze stork", []],
    ] as const) {
      const dup = await create(xbAnalyst.token, name, [...aliases]);
      expect(dup.errors?.[0]?.extensions).toMatchObject({ code: "CONFLICT", existingId, existingName: "Copper Heron" });
      expect(dup.errors?.[0]?.message).toContain("Copper Heron");
    }
  });

  it("checks duplicates only among visible actors, so the answer reveals nothing about the others", async () => {
    const hidden = await create(xaAnalyst.token, "Quiet Lynx", ["QL"], "AMBER");
    expect(hidden.errors).toBeUndefined();
    // xb may not see xa's AMBER actor: its own actor of the same name is accepted, as if none existed.
    const mine = await create(xbAnalyst.token, "quiet lynx", [], "AMBER");
    expect(mine.errors).toBeUndefined();
    expect(mine.data?.createThreatActor.id).not.toBe(hidden.data?.createThreatActor.id);
    // Each sees only its own.
    const xbSees = await op(hub.url, xbAnalyst.token, ThreatActorsDocument, { filter: { search: "LYNX" } });
    expect(xbSees.data?.threatActors.totalCount).toBe(1);
    expect(xbSees.data?.threatActors.edges[0]?.node.owner.id).toBe(xb.gid);
    const gone = await op(hub.url, xbAnalyst.token, ThreatActorDocument, {
      id: hidden.data?.createThreatActor.id ?? "",
    });
    expect(gone.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const node = await op(hub.url, xbAnalyst.token, NodeByIdDocument, { id: hidden.data?.createThreatActor.id ?? "" });
    expect(node.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("lets exactly one of several simultaneous creations of the same name through", async () => {
    const results = await Promise.all(
      ["Racing Gecko", "racing gecko", "RACING GECKO", "Racing Gecko", "racing Gecko"].map((n) =>
        create(xaAnalyst.token, n),
      ),
    );
    expect(results.filter((r) => !r.errors)).toHaveLength(1);
    expect(results.filter((r) => r.errors?.[0]?.extensions?.code === "CONFLICT")).toHaveLength(4);
  });

  it("searches names and aliases case-insensitively, and pages through them by name", async () => {
    await create(xaAnalyst.token, "Paper Falcon", ["Origami Bird"]);
    await create(xaAnalyst.token, "Paper Owl");
    await create(xaAnalyst.token, "Ink Sparrow", ["PAPER trail"]);
    const byAlias = await op(hub.url, xaReader.token, ThreatActorsDocument, { filter: { search: "origami" } });
    expect(byAlias.data?.threatActors.edges.map((e) => e.node.name)).toEqual(["Paper Falcon"]);
    const names: string[] = [];
    let after: string | null | undefined;
    do {
      const page = await op(hub.url, xaReader.token, ThreatActorsDocument, {
        filter: { search: "paper" },
        first: 2,
        after,
      });
      expect(page.data?.threatActors.totalCount).toBe(3);
      names.push(...(page.data?.threatActors.edges.map((e) => e.node.name) ?? []));
      after = page.data?.threatActors.pageInfo.hasNextPage ? page.data.threatActors.pageInfo.endCursor : null;
    } while (after);
    expect(names).toEqual(["Ink Sparrow", "Paper Falcon", "Paper Owl"]);
    // GREEN is not for partners.
    const partner = await op(hub.url, partnerReader.token, ThreatActorsDocument, { filter: { search: "paper" } });
    expect(partner.data?.threatActors.totalCount).toBe(0);
  });

  it("audits each creation, and each refused one with its code", async () => {
    await create(xbAnalyst.token, "Audit Moth");
    await create(xbAnalyst.token, "audit moth");
    const entries = await hub.database.db.select().from(auditLog).where(eq(auditLog.operation, "createThreatActor"));
    const xbEntries = entries.filter((e) => e.organizationId === xb.id);
    expect(xbEntries.map((e) => e.outcome)).toContain("SUCCESS");
    expect(xbEntries.map((e) => e.outcome)).toContain("CONFLICT");
  });
});
