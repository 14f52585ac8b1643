import { eq, inArray } from "drizzle-orm";
import { organizations } from "../access/access.table";
import type { Db, Tx } from "../../db/client";
import { badInput, forbidden } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { Role } from "../access/access.enums";
import { OrganizationKind } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { DEFAULT_TRENDS_CONSENT, type TrendsConsent } from "./trends.enums";
import { trendsSettings } from "./trends.table";
import type { TrendsSettings } from "./trends.type";

/** The highest k a regional body may set for its scope. */
export const MAX_SCOPE_K = 100;

type Row = typeof trendsSettings.$inferSelect;

export interface StoredSettings {
  organizationId: string;
  kind: OrganizationKind;
  consent: TrendsConsent;
  scopeK: number | null;
}

export const toSettings = (s: StoredSettings, defaultK: number): TrendsSettings => ({
  consent: s.consent,
  scopeK: s.kind === OrganizationKind.REGIONAL_BODY ? Math.max(defaultK, s.scopeK ?? 0) : null,
  defaultK,
});

/** Settings of a batch of organisations (defaults where none were set), for a loader. */
export async function loadSettings(db: Db, orgIds: readonly string[]): Promise<StoredSettings[]> {
  const rows = await db
    .select({
      organizationId: organizations.id,
      kind: organizations.kind,
      consent: trendsSettings.consent,
      scopeK: trendsSettings.scopeK,
    })
    .from(organizations)
    .leftJoin(trendsSettings, eq(trendsSettings.organizationId, organizations.id))
    .where(inArray(organizations.id, [...orgIds]));
  return rows.map((r) => ({ ...r, kind: r.kind as OrganizationKind, consent: r.consent ?? DEFAULT_TRENDS_CONSENT }));
}

export async function scopeKOf(db: Db, regionId: string): Promise<number | null> {
  const [row] = await db
    .select({ k: trendsSettings.scopeK })
    .from(trendsSettings)
    .where(eq(trendsSettings.organizationId, regionId));
  return row?.k ?? null;
}

/** Only the organisation's own admins decide what the hub counts of its records and what k its scope uses. */
function ownAdmin(viewer: ViewerIdentity, globalId: string, what: string): string {
  const id = idOf("Organization", globalId);
  if (!id || id !== viewer.organizationId || viewer.role !== Role.ADMIN)
    throw forbidden(`Only the organisation's own admins set its ${what}`);
  return id;
}

async function upsert(tx: Tx, viewer: ViewerIdentity, set: Partial<Pick<Row, "consent" | "scopeK">>) {
  const [row] = await tx
    .insert(trendsSettings)
    .values({ organizationId: viewer.organizationId, ...set })
    .onConflictDoUpdate({ target: trendsSettings.organizationId, set: { ...set, updatedAt: new Date() } })
    .returning();
  if (!row) throw new Error("upsert returned no row");
  return {
    organizationId: row.organizationId,
    kind: viewer.organizationKind,
    consent: row.consent,
    scopeK: row.scopeK,
  };
}

/** Sets what the hub may count of the organisation's records; effective for the next trends answer. */
export async function setTrendsConsent(tx: Tx, viewer: ViewerIdentity, orgGlobalId: string, consent: TrendsConsent) {
  ownAdmin(viewer, orgGlobalId, "trends consent");
  return upsert(tx, viewer, { consent });
}

/** A regional body raises k for its scope (null: back to the operator's); never below the operator's. */
export async function setTrendsScopeK(
  tx: Tx,
  viewer: ViewerIdentity,
  regionGlobalId: string,
  k: number | null,
  defaultK: number,
) {
  ownAdmin(viewer, regionGlobalId, "trends k");
  if (viewer.organizationKind !== OrganizationKind.REGIONAL_BODY)
    throw badInput("regionId", "only a regional body has a scope to set k for");
  if (k !== null && (!Number.isInteger(k) || k < defaultK || k > MAX_SCOPE_K))
    throw badInput(
      "k",
      `must be between the operator's k (${defaultK}) and ${MAX_SCOPE_K}, or null for the operator's`,
    );
  return upsert(tx, viewer, { scopeK: k });
}
