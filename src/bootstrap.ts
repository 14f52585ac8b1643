import { eq } from "drizzle-orm";
import type { Db } from "./db/client";
import type { Logger } from "./shared/logger";
import { accounts, apiTokens, organizations, hashToken, displayPrefix, OrganizationKind, Role } from "./modules/access";
import { appendAudit } from "./modules/audit";
import { toGlobalId } from "./shared/ids";

/**
 * With HUB_BOOTSTRAP_TOKEN set and no operator yet, creates the operator organisation and an
 * admin account whose token is that value, so a new deployment can be set up through the API.
 * Does nothing once an operator exists.
 */
export async function bootstrapOperator(db: Db, token: string, log: Logger): Promise<void> {
  await db.transaction(async (tx) => {
    const existing = await tx
      .select({ id: organizations.id })
      .from(organizations)
      .where(eq(organizations.kind, OrganizationKind.HUB_OPERATOR))
      .limit(1);
    if (existing.length) {
      log.info("HUB_BOOTSTRAP_TOKEN ignored: an operator organisation exists");
      return;
    }
    const [org] = await tx
      .insert(organizations)
      .values({ kind: OrganizationKind.HUB_OPERATOR, name: "Hub Operator" })
      .returning();
    if (!org) throw new Error("insert returned no row");
    const [account] = await tx
      .insert(accounts)
      .values({ organizationId: org.id, name: "bootstrap", role: Role.ADMIN, isService: true })
      .returning();
    if (!account) throw new Error("insert returned no row");
    const [t] = await tx
      .insert(apiTokens)
      .values({ accountId: account.id, name: "bootstrap", prefix: displayPrefix(token), tokenHash: hashToken(token) })
      .returning();
    await appendAudit(tx, {
      accountId: null,
      organizationId: null,
      operation: "bootstrap",
      targetIds: [
        toGlobalId("Organization", org.id),
        toGlobalId("Account", account.id),
        ...(t ? [toGlobalId("ApiToken", t.id)] : []),
      ],
      outcome: "SUCCESS",
    });
    log.warn(
      "created the operator organisation and a bootstrap admin from HUB_BOOTSTRAP_TOKEN; revoke that token once real admins exist",
    );
  });
}
