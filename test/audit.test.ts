import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditHead, auditLog, entryHash, verifyAudit } from "../src/modules/audit";
import type { AuditVerification } from "../src/modules/audit";
import { startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

interface Entry {
  seq: number;
  at: string;
  accountId: string | null;
  organizationId: string | null;
  operation: string;
  targetIds: string[];
  outcome: string;
  hash: string;
}

const AUDIT_LOG = `query Audit($filter: AuditFilter) {
  auditLog(filter: $filter, first: 100) {
    totalCount
    edges { node { seq at accountId organizationId operation targetIds outcome hash } }
  }
}`;

async function auditOf(hub: TestHub, token: string, filter?: { organizationId?: string; operation?: string }) {
  const r = await hub.gql<{ auditLog: { totalCount: number; edges: { node: Entry }[] } }>(token, AUDIT_LOG, {
    filter: filter ?? null,
  });
  return { ...r, entries: r.data?.auditLog.edges.map((e) => e.node) ?? [] };
}

const CREATE_ACCOUNT = `mutation($o: ID!) { createAccount(input: { organizationId: $o, name: "new", role: READER }) { id } }`;

describe("the audit log, through the API", () => {
  let hub: TestHub;
  let operator: SeededOrg;
  let xa: SeededOrg;
  let xb: SeededOrg;
  let operatorAdmin: SeededAccount;
  let xaAdmin: SeededAccount;
  let xaReader: SeededAccount;
  let xbAdmin: SeededAccount;
  let xaNewAccount = "";
  let partnerId = "";

  // Every mutation happens here; the tests only read.
  beforeAll(async () => {
    hub = await startHub();
    operator = await hub.world.org("HUB_OPERATOR");
    xa = await hub.world.org("MEMBER_STATE");
    xb = await hub.world.org("MEMBER_STATE");
    operatorAdmin = await hub.world.account(operator, "ADMIN");
    xaAdmin = await hub.world.account(xa, "ADMIN");
    xaReader = await hub.world.account(xa, "READER");
    xbAdmin = await hub.world.account(xb, "ADMIN");

    const created = await hub.gql<{ createAccount: { id: string } }>(xaAdmin.token, CREATE_ACCOUNT, { o: xa.gid });
    expect(created.errors).toBeUndefined();
    xaNewAccount = created.data?.createAccount.id ?? "";
    const refused = await hub.gql(xaReader.token, CREATE_ACCOUNT, { o: xa.gid });
    expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect((await hub.gql(xbAdmin.token, CREATE_ACCOUNT, { o: xb.gid })).errors).toBeUndefined();
    const partner = await hub.gql<{ createOrganization: { id: string } }>(
      operatorAdmin.token,
      `mutation { createOrganization(input: { kind: PARTNER, name: "Audited Partner" }) { id } }`,
    );
    expect(partner.errors).toBeUndefined();
    partnerId = partner.data?.createOrganization.id ?? "";
  });
  afterAll(() => hub?.dispose());

  it("records each mutation with who did it, for which organisation, on what, and how it ended", async () => {
    const { entries } = await auditOf(hub, operatorAdmin.token);
    expect(entries.find((e) => e.accountId === xaAdmin.gid)).toMatchObject({
      organizationId: xa.gid,
      operation: "createAccount",
      targetIds: expect.arrayContaining([xa.gid, xaNewAccount]),
      outcome: "SUCCESS",
    });
    expect(entries.find((e) => e.accountId === operatorAdmin.gid)).toMatchObject({
      organizationId: operator.gid,
      operation: "createOrganization",
      targetIds: [partnerId],
      outcome: "SUCCESS",
    });
  });

  it("records a refused attempt too: a reader's createAccount, with outcome FORBIDDEN", async () => {
    const { entries } = await auditOf(hub, operatorAdmin.token);
    expect(entries.filter((e) => e.accountId === xaReader.gid)).toEqual([
      expect.objectContaining({
        organizationId: xa.gid,
        operation: "createAccount",
        targetIds: [xa.gid],
        outcome: "FORBIDDEN",
      }),
    ]);
  });

  it("shows operator admins every entry, oldest first, each with its own hash", async () => {
    const { entries, data } = await auditOf(hub, operatorAdmin.token);
    expect(data?.auditLog.totalCount).toBe(4);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(entries.map((e) => e.organizationId)).toEqual([xa.gid, xa.gid, xb.gid, operator.gid]);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(4);
    for (const e of entries) expect(e.hash).toMatch(/^[0-9a-f]{64}$/);
    const onlyXb = await auditOf(hub, operatorAdmin.token, { organizationId: xb.gid });
    expect(onlyXb.entries.map((e) => e.organizationId)).toEqual([xb.gid]);
  });

  it("shows an organisation's admin only its own organisation's entries", async () => {
    const { entries, data, errors } = await auditOf(hub, xaAdmin.token);
    expect(errors).toBeUndefined();
    expect(data?.auditLog.totalCount).toBe(2);
    expect(entries.map((e) => [e.organizationId, e.outcome])).toEqual([
      [xa.gid, "SUCCESS"],
      [xa.gid, "FORBIDDEN"],
    ]);
    const other = await auditOf(hub, xaAdmin.token, { organizationId: xb.gid });
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("refuses a reader with FORBIDDEN", async () => {
    const r = await auditOf(hub, xaReader.token);
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(r.data).toBeNull();
  });

  it("verifies as intact while no one has touched it", async () => {
    expect(await verifyAudit(hub.database.db)).toEqual({ ok: true, entries: 4, problems: [] });
  });
});

describe("tampering with the audit log in the database", () => {
  let hub: TestHub;
  let pristine: { log: (typeof auditLog.$inferSelect)[]; head: (typeof auditHead.$inferSelect)[] };

  // One hub whose chain holds four entries made through the API; each case starts from that chain
  // as it was, restored row for row (cheaper than a database per case).
  beforeAll(async () => {
    hub = await startHub();
    const operator = await hub.world.org("HUB_OPERATOR");
    const admin = await hub.world.account(operator, "ADMIN");
    for (let i = 1; i <= 4; i++) {
      const r = await hub.gql(
        admin.token,
        `mutation($n: String!) { createOrganization(input: { kind: PARTNER, name: $n }) { id } }`,
        { n: `Partner ${i}` },
      );
      expect(r.errors).toBeUndefined();
    }
    const { db } = hub.database;
    pristine = { log: await db.select().from(auditLog), head: await db.select().from(auditHead) };
  });
  afterAll(() => hub?.dispose());

  beforeEach(async () => {
    await hub.database.db.transaction(async (tx) => {
      await tx.delete(auditLog);
      await tx.delete(auditHead);
      await tx.insert(auditLog).values(pristine.log);
      await tx.insert(auditHead).values(pristine.head);
    });
    expect(await verifyAudit(hub.database.db)).toEqual({ ok: true, entries: 4, problems: [] });
  });

  async function afterTampering(tamper: (hub: TestHub) => Promise<unknown>): Promise<AuditVerification> {
    await tamper(hub);
    return verifyAudit(hub.database.db);
  }

  it("finds an entry whose content was changed", async () => {
    const result = await afterTampering(({ database }) =>
      database.db.execute(sql`update audit_log set operation = 'deleteNothing' where seq = 2`),
    );
    expect(result.ok).toBe(false);
    expect(result.problems).toEqual([{ seq: 2, problem: expect.stringMatching(/changed/) }]);
  });

  it("finds an entry changed with its hash recomputed, where the next entry no longer links to it", async () => {
    const result = await afterTampering(async ({ database }) => {
      const [prev, target] = await database.db
        .select()
        .from(auditLog)
        .where(sql`${auditLog.seq} in (1, 2)`)
        .orderBy(auditLog.seq);
      if (!prev || !target) throw new Error("chain too short");
      const forged = { ...target, operation: "deleteNothing" };
      const detail = forged.detail as Record<string, unknown> | null;
      const hash = entryHash(prev.hash, { ...forged, at: forged.at.toISOString(), detail });
      await database.db.execute(sql`update audit_log set operation = 'deleteNothing', hash = ${hash} where seq = 2`);
    });
    expect(result.ok).toBe(false);
    expect(result.problems).toContainEqual({ seq: 3, problem: expect.stringMatching(/link/) });
  });

  it("finds an entry deleted from the middle", async () => {
    const result = await afterTampering(({ database }) =>
      database.db.execute(sql`delete from audit_log where seq = 2`),
    );
    expect(result.ok).toBe(false);
    expect(result.entries).toBe(3);
    expect(result.problems).toContainEqual({ seq: 3, problem: expect.stringMatching(/missing or was inserted/) });
  });

  it("finds a forged entry inserted after the last one, even with a correctly computed hash", async () => {
    const result = await afterTampering(async ({ database }) => {
      const [last] = await database.db
        .select()
        .from(auditLog)
        .where(sql`${auditLog.seq} = 4`);
      if (!last) throw new Error("chain too short");
      const at = new Date();
      const forged = {
        seq: 5,
        accountId: last.accountId,
        organizationId: last.organizationId,
        operation: "grantEverything",
        targetIds: [],
        outcome: "SUCCESS",
        detail: null,
      };
      const hash = entryHash(last.hash, { ...forged, at: at.toISOString() });
      await database.db.insert(auditLog).values({ ...forged, at, prevHash: last.hash, hash });
    });
    expect(result.ok).toBe(false);
    expect(result.entries).toBe(5);
    // Each entry links correctly: only the head, moved in the same transaction as every real append, tells.
    expect(result.problems).toEqual([expect.objectContaining({ problem: expect.stringMatching(/head/) })]);
  });

  it("finds the last entry deleted, through the chain's head", async () => {
    const result = await afterTampering(({ database }) =>
      database.db.execute(sql`delete from audit_log where seq = 4`),
    );
    expect(result.ok).toBe(false);
    expect(result.entries).toBe(3);
    expect(result.problems).toEqual([{ seq: 4, problem: expect.stringMatching(/removed from the end/) }]);
  });
});
