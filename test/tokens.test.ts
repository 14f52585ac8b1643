import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { apiTokens } from "../src/modules/access/access.table";
import { hashToken } from "../src/modules/access/tokens";
import { CreateApiTokenDocument, RevokeApiTokenDocument, ViewerDocument } from "./generated/graphql";
import { op, startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;
let xa: SeededOrg;
let admin: SeededAccount;
let analyst: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  xa = await hub.world.org("MEMBER_STATE");
  admin = await hub.world.account(xa, "ADMIN");
  analyst = await hub.world.account(xa, "ANALYST");
});
afterAll(() => hub?.dispose());

async function rawViewer(authorization: string | undefined) {
  const res = await fetch(`${hub.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query: "{ viewer { role } }" }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { errors?: { message: string; extensions: { code: string } }[] },
  };
}

describe("unusable tokens", () => {
  it("answers malformed, unknown, expired and revoked tokens identically with UNAUTHENTICATED", async () => {
    const expired = await hub.world.account(xa, "READER", { expiresAt: new Date(Date.now() - 1000) });
    const revoked = await hub.world.account(xa, "READER");
    await hub.database.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, revoked.tokenId));
    const cases = {
      malformed: "Bearer not-a-hub-token",
      wrongScheme: `Basic ${analyst.token}`,
      unknown: `Bearer hub_${"A".repeat(43)}`,
      expired: `Bearer ${expired.token}`,
      revoked: `Bearer ${revoked.token}`,
    };
    const answers = await Promise.all(Object.values(cases).map(rawViewer));
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(a.body).toEqual({
        errors: [{ message: "Missing or invalid credentials", extensions: { code: "UNAUTHENTICATED" } }],
      });
    }
  });

  it("stores only a hash and a short prefix of a token, and the issued secret works", async () => {
    const r = await op(hub.url, admin.token, CreateApiTokenDocument, {
      input: { accountId: analyst.gid, name: "sensor" },
    });
    expect(r.errors).toBeUndefined();
    const token = r.data?.createApiToken.token ?? "";
    expect(token).toMatch(/^hub_[A-Za-z0-9_-]{43}$/);
    expect(token.startsWith(r.data?.createApiToken.apiToken.prefix ?? "x")).toBe(true);
    const rows = await hub.database.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, hashToken(token)));
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows[0])).not.toContain(token);
    const v = await op(hub.url, token, ViewerDocument);
    expect(v.data?.viewer.role).toBe("ANALYST");
  });

  it("gives a token 90 days by default and refuses an expiry in the past", async () => {
    const r = await op(hub.url, admin.token, CreateApiTokenDocument, { input: { accountId: analyst.gid, name: "t" } });
    const days = (Date.parse(r.data?.createApiToken.apiToken.expiresAt ?? "") - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(89.9);
    expect(days).toBeLessThanOrEqual(90);
    const past = await op(hub.url, admin.token, CreateApiTokenDocument, {
      input: { accountId: analyst.gid, name: "t", expiresAt: new Date(Date.now() - 60_000).toISOString() },
    });
    expect(past.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "expiresAt" });
  });

  it("stops a revoked token at once on this node", async () => {
    const issued = await op(hub.url, admin.token, CreateApiTokenDocument, {
      input: { accountId: analyst.gid, name: "short-lived" },
    });
    const token = issued.data?.createApiToken.token ?? "";
    expect((await op(hub.url, token, ViewerDocument)).data?.viewer.role).toBe("ANALYST");
    const revoked = await op(hub.url, admin.token, RevokeApiTokenDocument, {
      id: issued.data?.createApiToken.apiToken.id ?? "",
    });
    expect(revoked.data?.revokeApiToken.revokedAt).toBeTruthy();
    const after = await op(hub.url, token, ViewerDocument);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("honours a revocation made behind this node's back within the token cache time (one second)", async () => {
    const other = await hub.world.account(xa, "READER");
    expect((await op(hub.url, other.token, ViewerDocument)).data?.viewer.role).toBe("READER");
    // As another node would: straight in the database, without touching this node's cache.
    await hub.database.db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, other.tokenId));
    await new Promise((r) => setTimeout(r, hub.config.TOKEN_CACHE_MS + 50));
    expect((await op(hub.url, other.token, ViewerDocument)).status).toBe(401);
  });

  it("records when a token was last used", async () => {
    const fresh = await hub.world.account(xa, "READER");
    await op(hub.url, fresh.token, ViewerDocument);
    const [row] = await hub.database.db.select().from(apiTokens).where(eq(apiTokens.id, fresh.tokenId));
    expect(row?.lastUsedAt).toBeInstanceOf(Date);
  });

  it("does not let an admin of one organisation revoke another organisation's tokens, and answers as for a missing one", async () => {
    const xb = await hub.world.org("MEMBER_STATE");
    const xbAnalyst = await hub.world.account(xb, "ANALYST");
    const { toGlobalId } = await import("../src/shared/ids");
    const theirs = await op(hub.url, admin.token, RevokeApiTokenDocument, {
      id: toGlobalId("ApiToken", xbAnalyst.tokenId),
    });
    const missing = await op(hub.url, admin.token, RevokeApiTokenDocument, {
      id: toGlobalId("ApiToken", crypto.randomUUID()),
    });
    expect(theirs.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(theirs.errors).toEqual(missing.errors);
    expect((await op(hub.url, xbAnalyst.token, ViewerDocument)).data?.viewer.role).toBe("ANALYST");
  });
});
