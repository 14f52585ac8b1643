import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { pgTable, text } from "drizzle-orm/pg-core";
import fc from "fast-check";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { markingColumns } from "../src/modules/access/access.table";
import {
  canSee,
  ORGANIZATION_KINDS,
  OrganizationKind,
  Tlp,
  TLP_LEVELS,
  visibleTo,
  type AccessViewer,
  type Marking,
} from "../src/modules/access/tlp";
import { createTestDatabase, type TestDatabase } from "./harness";

/**
 * A marked table of the test's own: the same four marking columns (real `tlp` enum, uuid[]
 * audiences) as every contributed record, without the foreign key to organizations, so the
 * property test can mark records with organisations that exist only as uuids.
 */
const probes = pgTable("access_rule_probes", { id: text("id").primaryKey(), ...markingColumns() });

let tdb: TestDatabase;
const db = () => tdb.database.db;

beforeAll(async () => {
  tdb = await createTestDatabase();
  await db().execute(sql`
    create table access_rule_probes (
      id text primary key,
      owner_org_id uuid not null,
      tlp tlp not null,
      audience_orgs uuid[] not null default '{}'::uuid[],
      audience_groups uuid[] not null default '{}'::uuid[]
    )`);
});
afterAll(() => tdb?.dispose());

const clearProbes = () => db().execute(sql`delete from access_rule_probes`);

/** Inserts all records in one statement, whatever their number. */
async function insertMarked(records: readonly (Marking & { id: string })[]): Promise<void> {
  if (records.length === 0) return;
  await db()
    .insert(probes)
    .values(
      records.map((r) => ({
        id: r.id,
        ownerOrgId: r.ownerOrgId,
        tlp: r.tlp,
        audienceOrgs: [...r.audienceOrgIds],
        audienceGroups: [...r.audienceGroupIds],
      })),
    );
}

/** Ids of the records the SQL predicate lets this viewer read, sorted. */
async function visibleIds(viewer: AccessViewer): Promise<string[]> {
  const rows = await db().select({ id: probes.id }).from(probes).where(visibleTo(viewer, probes));
  return rows.map((r) => r.id).sort();
}

describe("the access rule on examples from DESIGN section 3", () => {
  // A cast of viewers. G is a sharing group owned by the regional body, with a partner and a
  // member state as members; H is a second group that only the member state belongs to.
  const G = randomUUID();
  const H = randomUUID();
  const cast = {
    owner: { organizationId: randomUUID(), organizationKind: OrganizationKind.MEMBER_STATE, groupIds: [] },
    memberState: { organizationId: randomUUID(), organizationKind: OrganizationKind.MEMBER_STATE, groupIds: [] },
    regionalBody: { organizationId: randomUUID(), organizationKind: OrganizationKind.REGIONAL_BODY, groupIds: [G] },
    operator: { organizationId: randomUUID(), organizationKind: OrganizationKind.HUB_OPERATOR, groupIds: [] },
    partner: { organizationId: randomUUID(), organizationKind: OrganizationKind.PARTNER, groupIds: [] },
    namedPartner: { organizationId: randomUUID(), organizationKind: OrganizationKind.PARTNER, groupIds: [] },
    groupPartner: { organizationId: randomUUID(), organizationKind: OrganizationKind.PARTNER, groupIds: [G] },
    groupMemberState: {
      organizationId: randomUUID(),
      organizationKind: OrganizationKind.MEMBER_STATE,
      groupIds: [G, H],
    },
  } satisfies Record<string, AccessViewer>;
  type Who = keyof typeof cast;
  const everyone = Object.keys(cast) as Who[];
  const nonPartners: Who[] = ["owner", "memberState", "regionalBody", "operator", "groupMemberState"];

  const mark = (tlp: Tlp, audience: { orgs?: Who[]; groups?: string[]; owner?: Who } = {}): Marking => ({
    ownerOrgId: cast[audience.owner ?? "owner"].organizationId,
    tlp,
    audienceOrgIds: (audience.orgs ?? []).map((w) => cast[w].organizationId),
    audienceGroupIds: audience.groups ?? [],
  });

  /** Stores the record alone, then asks both the pure function and the SQL predicate who sees it. */
  async function whoSees(marking: Marking): Promise<{ pure: Who[]; sql: Who[] }> {
    await insertMarked([{ id: "r", ...marking }]);
    const pure: Who[] = [];
    const bySql: Who[] = [];
    for (const who of everyone) {
      if (canSee(cast[who], marking)) pure.push(who);
      if ((await visibleIds(cast[who])).includes("r")) bySql.push(who);
    }
    return { pure, sql: bySql };
  }

  /** Both twins must admit exactly `expected`. */
  async function expectSeenBy(marking: Marking, expected: Who[]): Promise<void> {
    const sorted = [...expected].sort();
    const seen = await whoSees(marking);
    expect({ pure: seen.pure.sort(), sql: seen.sql.sort() }).toEqual({ pure: sorted, sql: sorted });
  }

  beforeEach(clearProbes);

  it("shows a CLEAR record to every kind of organisation, partners included", async () => {
    await expectSeenBy(mark(Tlp.CLEAR), everyone);
  });

  it("shows a GREEN record to member states, regional bodies and the operator, but not to partners outside the audience", async () => {
    await expectSeenBy(mark(Tlp.GREEN), nonPartners);
  });

  it("shows a GREEN record to a partner named among its audience organisations", async () => {
    await expectSeenBy(mark(Tlp.GREEN, { orgs: ["namedPartner"] }), [...nonPartners, "namedPartner"]);
  });

  it("shows a GREEN record to a partner that belongs to one of its audience groups", async () => {
    await expectSeenBy(mark(Tlp.GREEN, { groups: [G] }), [...nonPartners, "groupPartner"]);
  });

  describe.each([Tlp.AMBER, Tlp.AMBER_STRICT])("%s", (tlp) => {
    it("shows a record with an empty audience to its owner alone, not even to the operator", async () => {
      await expectSeenBy(mark(tlp), ["owner"]);
    });

    it("shows a record to the owner and the named audience organisations, whatever their kind", async () => {
      await expectSeenBy(mark(tlp, { orgs: ["memberState", "namedPartner"] }), [
        "owner",
        "memberState",
        "namedPartner",
      ]);
    });

    it("shows a record to every member of an audience group, and to the organisation that owns the group", async () => {
      await expectSeenBy(mark(tlp, { groups: [G] }), ["owner", "regionalBody", "groupPartner", "groupMemberState"]);
    });

    it("does not show a record to the operator unless the operator is in the audience", async () => {
      await expectSeenBy(mark(tlp, { orgs: ["memberState"], groups: [G] }), [
        "owner",
        "memberState",
        "regionalBody",
        "groupPartner",
        "groupMemberState",
      ]);
      await clearProbes();
      await expectSeenBy(mark(tlp, { orgs: ["operator"] }), ["owner", "operator"]);
    });
  });

  it("shows a RED record to the owner and the named audience organisations only", async () => {
    await expectSeenBy(mark(Tlp.RED, { orgs: ["namedPartner", "regionalBody"] }), [
      "owner",
      "namedPartner",
      "regionalBody",
    ]);
  });

  it("does not show a RED record to members of its audience groups", async () => {
    await expectSeenBy(mark(Tlp.RED, { groups: [G, H] }), ["owner"]);
  });

  it("shows a RED record to a group member only because it is also named as an organisation", async () => {
    await expectSeenBy(mark(Tlp.RED, { orgs: ["groupPartner"], groups: [G] }), ["owner", "groupPartner"]);
  });

  it("does not show a RED record to the operator", async () => {
    await expectSeenBy(mark(Tlp.RED), ["owner"]);
  });

  it.each(TLP_LEVELS)(
    "always shows its own %s record to the owner, even a partner outside the audience",
    async (tlp) => {
      const seen = await whoSees(mark(tlp, { owner: "partner", orgs: ["memberState"] }));
      expect(seen.pure).toContain("partner");
      expect(seen.sql).toContain("partner");
    },
  );

  describe("edge cases", () => {
    it("answers for a viewer with no sharing groups, granting it nothing through groups", async () => {
      const loner: AccessViewer = { ...cast.groupPartner, groupIds: [] };
      const record = mark(Tlp.AMBER, { groups: [G] });
      await insertMarked([{ id: "r", ...record }]);
      expect(canSee(loner, record)).toBe(false);
      expect(await visibleIds(loner)).toEqual([]);
    });

    it("grants through groups when any one of the viewer's groups is among the record's", async () => {
      const other = randomUUID();
      const viewer: AccessViewer = { ...cast.partner, groupIds: [randomUUID(), H, randomUUID()] };
      const records = [
        { id: "overlap", ...mark(Tlp.AMBER, { groups: [other, H] }) },
        { id: "disjoint", ...mark(Tlp.AMBER, { groups: [other, G] }) },
      ];
      await insertMarked(records);
      expect(records.filter((r) => canSee(viewer, r)).map((r) => r.id)).toEqual(["overlap"]);
      expect(await visibleIds(viewer)).toEqual(["overlap"]);
    });

    it("does not take a group id in the audience organisations, or an organisation id in the audience groups, for the other", async () => {
      const records = [
        { id: "group-as-org", ...mark(Tlp.AMBER, { groups: [] }), audienceOrgIds: [G] },
        { id: "org-as-group", ...mark(Tlp.AMBER), audienceGroupIds: [cast.partner.organizationId] },
      ];
      await insertMarked(records);
      for (const viewer of [cast.groupPartner, { ...cast.partner, groupIds: [] }]) {
        expect(records.filter((r) => canSee(viewer, r))).toEqual([]);
        expect(await visibleIds(viewer)).toEqual([]);
      }
    });

    it("leaves records with empty audiences to the level's own grant and the owner", async () => {
      await insertMarked(TLP_LEVELS.map((tlp) => ({ id: tlp, ...mark(tlp) })));
      expect(await visibleIds(cast.partner)).toEqual([Tlp.CLEAR]);
      expect(await visibleIds(cast.operator)).toEqual([Tlp.CLEAR, Tlp.GREEN].sort());
      expect(await visibleIds(cast.owner)).toEqual([...TLP_LEVELS].sort());
    });

    it("reads uuid[] audiences back as lowercase strings, the form the pure function compares", async () => {
      const upper = cast.namedPartner.organizationId.toUpperCase();
      await db().execute(
        sql`insert into access_rule_probes (id, owner_org_id, tlp, audience_orgs, audience_groups)
            values ('r', ${cast.owner.organizationId}, 'RED', array[${upper}]::uuid[], array[${G.toUpperCase()}]::uuid[])`,
      );
      const [row] = await db().select().from(probes);
      expect(row?.audienceOrgs).toEqual([cast.namedPartner.organizationId]);
      expect(row?.audienceGroups).toEqual([G]);
      const stored: Marking = {
        ownerOrgId: row?.ownerOrgId ?? "",
        tlp: row?.tlp ?? Tlp.CLEAR,
        audienceOrgIds: row?.audienceOrgs ?? [],
        audienceGroupIds: row?.audienceGroups ?? [],
      };
      expect(canSee(cast.namedPartner, stored)).toBe(true);
      expect(await visibleIds(cast.namedPartner)).toEqual(["r"]);
    });
  });
});

describe("the access rule's pure function and SQL predicate", () => {
  interface Org {
    id: string;
    kind: OrganizationKind;
  }
  interface Group {
    id: string;
    ownerIndex: number;
    memberIndexes: number[];
  }

  /**
   * A random world: organisations of random kinds, sharing groups each owned by one of them with
   * random members, and records marked by random owners with random audiences drawn from both.
   */
  const worldArb = fc
    .record({
      // One pool of distinct uuids: up to 8 organisations from the front, up to 5 groups from the
      // back, so even a shrunk counterexample never reuses an organisation's id for a group.
      ids: fc.uniqueArray(fc.uuid(), { minLength: 13, maxLength: 13 }),
      kinds: fc.array(fc.constantFrom(...ORGANIZATION_KINDS), { minLength: 8, maxLength: 8 }),
      orgCount: fc.integer({ min: 1, max: 8 }),
      groupCount: fc.integer({ min: 0, max: 5 }),
    })
    .chain(({ ids, kinds, orgCount, groupCount }) => {
      const orgs: Org[] = ids.slice(0, orgCount).map((id, i) => ({ id, kind: kinds[i] ?? OrganizationKind.PARTNER }));
      const groupIds = ids.slice(8, 8 + groupCount);
      const indexes = orgs.map((_, i) => i);
      const orgIds = orgs.map((o) => o.id);
      const groups = fc.tuple(
        ...groupIds.map((id) =>
          fc.record({
            id: fc.constant(id),
            ownerIndex: fc.constantFrom(...indexes),
            memberIndexes: fc.subarray(indexes),
          }),
        ),
      );
      const marking = fc.record({
        ownerOrgId: fc.constantFrom(...orgIds),
        tlp: fc.constantFrom(...TLP_LEVELS),
        audienceOrgIds: fc.subarray(orgIds),
        audienceGroupIds: fc.subarray(groupIds),
      });
      return fc.record({
        orgs: fc.constant<Org[]>(orgs),
        groups: groups as fc.Arbitrary<Group[]>,
        markings: fc.array(marking, { minLength: 1, maxLength: 40 }),
      });
    });

  /** Each organisation as a viewer, with the groups it belongs to or owns. */
  const viewersOf = (orgs: Org[], groups: Group[]): AccessViewer[] =>
    orgs.map((o, i) => ({
      organizationId: o.id,
      organizationKind: o.kind,
      groupIds: groups.filter((g) => g.ownerIndex === i || g.memberIndexes.includes(i)).map((g) => g.id),
    }));

  it("admit exactly the same records for every viewer", async () => {
    await fc.assert(
      fc.asyncProperty(worldArb, async ({ orgs, groups, markings }) => {
        await clearProbes();
        const records = markings.map((m, i) => ({ id: String(i).padStart(3, "0"), ...m }));
        await insertMarked(records);
        for (const viewer of viewersOf(orgs, groups)) {
          const admitted = records.filter((r) => canSee(viewer, r)).map((r) => r.id);
          expect(await visibleIds(viewer)).toEqual(admitted);
        }
      }),
      { numRuns: 100 },
    );
  });
});
