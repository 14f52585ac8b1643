import { and, eq } from "drizzle-orm";
import type { Tx } from "../../db/client";
import { forbidden, notFound } from "../../shared/errors";
import { serialOf } from "../../shared/ids";
import { Role } from "../access/access.enums";
import { visibleTo, type Tlp } from "../access/tlp";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { appendChanges, ChangeKind, Stream } from "../realtime";
import { reports } from "./indicators.table";
import { toReport } from "./indicators.loaders";
import type { IndicatorReport } from "./indicators.type";
import { IndicatorRecord } from "./indicators.enums";

/**
 * Only the owner organisation's analysts revoke a report (as in STIX, only the creator versions
 * an object). A report the viewer may not see is NOT_FOUND, exactly like a missing one. Revoking
 * a live report records a REVOKED change in the event log, in the same transaction; revoking it
 * again changes nothing and records nothing.
 */
export async function revokeReport(tx: Tx, viewer: ViewerIdentity, globalId: string): Promise<IndicatorReport> {
  const id = serialOf("Report", globalId);
  const row = id
    ? (
        await tx
          .select()
          .from(reports)
          .where(and(eq(reports.id, id), visibleTo(viewer, reports)))
      )[0]
    : undefined;
  if (!row) throw notFound("Report");
  // Visible but someone else's: saying so reveals nothing the viewer cannot already see.
  if (row.ownerOrgId !== viewer.organizationId)
    throw forbidden("Only the organisation that made a report may revoke it");
  assertRole(viewer, Role.ANALYST);
  const [updated] = await tx
    .update(reports)
    .set({ revokedAt: row.revokedAt ?? new Date(), updatedAt: new Date() })
    .where(eq(reports.id, row.id))
    .returning();
  if (!row.revokedAt)
    await appendChanges(tx, Stream.INDICATOR, [
      {
        record: IndicatorRecord.REPORT,
        id: row.id,
        subject: row.observableId,
        kind: ChangeKind.REVOKED,
        prev: {
          tlp: row.tlp as Tlp,
          audienceOrgs: row.audienceOrgs,
          audienceGroups: row.audienceGroups,
          ownerOrgId: row.ownerOrgId,
          live: true,
        },
      },
    ]);
  return toReport(updated ?? row);
}
