import { and, asc, count, eq } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { badInput, notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { accounts, apiTokens, organizations } from "./access.table";
import { toAccount, toApiToken } from "./access.mappers";
import type { Account } from "./access.type";
import type { CreateAccountInput, CreateApiTokenInput, UpdateAccountInput } from "./access.input";
import { displayPrefix, hashToken, newToken } from "./tokens";
import { assertCanManage, isOperatorAdmin, type ViewerIdentity } from "./viewer";

const DEFAULT_TOKEN_DAYS = 90;

export function listAccounts(db: Db, organizationId: string, args: PageArgs, maxPageSize: number) {
  const where = eq(accounts.organizationId, organizationId);
  return paginate({
    args,
    maxPageSize,
    orderBy: [accounts.name, accounts.id],
    keyOf: (a: Account) => [a.name, a.dbId],
    fetch: async (after, limit) =>
      (
        await db
          .select()
          .from(accounts)
          .where(and(where, after))
          .orderBy(asc(accounts.name), asc(accounts.id))
          .limit(limit)
      ).map(toAccount),
    count: async () => (await db.select({ n: count() }).from(accounts).where(where))[0]?.n ?? 0,
  });
}

/** The account behind a global id, if the viewer may manage it; otherwise NOT_FOUND or FORBIDDEN. */
async function managedAccount(tx: Tx, viewer: ViewerIdentity, globalId: string, field = "id") {
  const id = idOf("Account", globalId);
  const row = id ? (await tx.select().from(accounts).where(eq(accounts.id, id)))[0] : undefined;
  // Accounts of other organisations are invisible to non-operators: answer as for a missing one.
  if (!row || (!isOperatorAdmin(viewer) && row.organizationId !== viewer.organizationId))
    throw notFound(field === "accountId" ? "Account (accountId)" : "Account");
  assertCanManage(viewer, row.organizationId);
  return row;
}

export async function createAccount(tx: Tx, viewer: ViewerIdentity, input: CreateAccountInput) {
  const orgId = idOf("Organization", input.organizationId);
  const org = orgId ? (await tx.select().from(organizations).where(eq(organizations.id, orgId)))[0] : undefined;
  if (!org) throw badInput("organizationId", "unknown organisation");
  assertCanManage(viewer, org.id);
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw badInput("name", "must be 1 to 200 characters");
  const [row] = await tx
    .insert(accounts)
    .values({ organizationId: org.id, name, role: input.role, isService: input.isService })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return toAccount(row);
}

export async function updateAccount(tx: Tx, viewer: ViewerIdentity, globalId: string, input: UpdateAccountInput) {
  const current = await managedAccount(tx, viewer, globalId);
  const set: Partial<typeof accounts.$inferInsert> = {};
  if (input.name != null) {
    const name = input.name.trim();
    if (name.length < 1 || name.length > 200) throw badInput("name", "must be 1 to 200 characters");
    set.name = name;
  }
  if (input.role != null) set.role = input.role;
  if (Object.keys(set).length === 0) return toAccount(current);
  const [row] = await tx.update(accounts).set(set).where(eq(accounts.id, current.id)).returning();
  return toAccount(row ?? current);
}

/** Disables an account: its tokens stop working (within the token cache time on other nodes). */
export async function disableAccount(tx: Tx, viewer: ViewerIdentity, globalId: string) {
  const current = await managedAccount(tx, viewer, globalId);
  const [row] = await tx
    .update(accounts)
    .set({ disabledAt: current.disabledAt ?? new Date() })
    .where(eq(accounts.id, current.id))
    .returning();
  return toAccount(row ?? current);
}

export async function createApiToken(tx: Tx, viewer: ViewerIdentity, input: CreateApiTokenInput) {
  const account = await managedAccount(tx, viewer, input.accountId, "accountId");
  if (account.disabledAt) throw badInput("accountId", "the account is disabled");
  const expiresAt = input.expiresAt ?? new Date(Date.now() + DEFAULT_TOKEN_DAYS * 86_400_000);
  if (expiresAt.getTime() <= Date.now()) throw badInput("expiresAt", "must be in the future");
  const name = input.name.trim();
  if (name.length < 1 || name.length > 200) throw badInput("name", "must be 1 to 200 characters");
  const token = newToken();
  const [row] = await tx
    .insert(apiTokens)
    .values({ accountId: account.id, name, prefix: displayPrefix(token), tokenHash: hashToken(token), expiresAt })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return { token, apiToken: toApiToken(row) };
}

/** Revokes a token: by its own account, or by an admin who manages that account. */
export async function revokeApiToken(tx: Tx, viewer: ViewerIdentity, globalId: string) {
  const id = idOf("ApiToken", globalId);
  const found = id
    ? (
        await tx
          .select({ token: apiTokens, account: accounts })
          .from(apiTokens)
          .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
          .where(eq(apiTokens.id, id))
      )[0]
    : undefined;
  const visible = found && (isOperatorAdmin(viewer) || found.account.organizationId === viewer.organizationId);
  if (!found || !visible) throw notFound("ApiToken");
  if (found.account.id !== viewer.accountId) assertCanManage(viewer, found.account.organizationId);
  const [row] = await tx
    .update(apiTokens)
    .set({ revokedAt: found.token.revokedAt ?? new Date() })
    .where(eq(apiTokens.id, found.token.id))
    .returning();
  return toApiToken(row ?? found.token);
}

/** Tokens of an account, for the account itself and for those who manage it. */
export async function tokensOf(db: Db, viewer: ViewerIdentity, accountId: string, organizationId: string) {
  const allowed =
    viewer.accountId === accountId ||
    isOperatorAdmin(viewer) ||
    (viewer.role === "ADMIN" && viewer.organizationId === organizationId);
  if (!allowed) return null;
  return (
    await db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.accountId, accountId))
      .orderBy(asc(apiTokens.createdAt), asc(apiTokens.id))
  ).map(toApiToken);
}
