import { and, asc, count, eq, type SQL } from "drizzle-orm";
import { Arg, Args, Ctx, Query, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { badInput, forbidden } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { PageArgsInput, paginate } from "../../shared/pagination";
import { isOperatorAdmin, Role } from "../access";
import { auditLog } from "./audit.table";
import { AuditEntry, AuditEntryConnection, AuditFilter } from "./audit.type";

const toEntry = (r: typeof auditLog.$inferSelect): AuditEntry => ({
  seq: r.seq,
  at: r.at,
  accountId: r.accountId && toGlobalId("Account", r.accountId),
  organizationId: r.organizationId && toGlobalId("Organization", r.organizationId),
  operation: r.operation,
  targetIds: r.targetIds,
  outcome: r.outcome,
  detail: (r.detail as Record<string, unknown> | null) ?? null,
  hash: r.hash,
});

@Resolver()
export class AuditResolver {
  @Query(() => AuditEntryConnection, {
    description:
      "The audit log, oldest first: all of it for operator admins, an organisation's own entries for its admins.",
  })
  auditLog(
    @Arg("filter", () => AuditFilter, { nullable: true }) filter: AuditFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    const where: (SQL | undefined)[] = [];
    if (isOperatorAdmin(v)) {
      if (filter?.organizationId) {
        const org = idOf("Organization", filter.organizationId);
        if (!org) throw badInput("filter.organizationId", "unknown organisation");
        where.push(eq(auditLog.organizationId, org));
      }
    } else {
      if (v.role !== Role.ADMIN) throw forbidden("Only admins may read the audit log");
      if (filter?.organizationId && idOf("Organization", filter.organizationId) !== v.organizationId)
        throw forbidden("Admins may read their own organisation's entries only");
      where.push(eq(auditLog.organizationId, v.organizationId));
    }
    if (filter?.operation) where.push(eq(auditLog.operation, filter.operation));
    const db = ctx.services.db;
    return paginate({
      args: page,
      maxPageSize: ctx.services.config.MAX_PAGE_SIZE,
      orderBy: [auditLog.seq],
      keyOf: (e: AuditEntry) => [e.seq],
      fetch: async (after, limit) =>
        (
          await db
            .select()
            .from(auditLog)
            .where(and(...where, after))
            .orderBy(asc(auditLog.seq))
            .limit(limit)
        ).map(toEntry),
      count: async () =>
        (
          await db
            .select({ n: count() })
            .from(auditLog)
            .where(and(...where))
        )[0]?.n ?? 0,
    });
  }
}
