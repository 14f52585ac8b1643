import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Db, Tx } from "../../db/client";
import { badInput, conflict, notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { paginate, type PageArgs } from "../../shared/pagination";
import { organizations, regionalMemberships } from "./access.table";
import { toOrganization } from "./access.mappers";
import type { Organization } from "./access.type";
import type { CreateOrganizationInput, OrganizationFilter, UpdateOrganizationInput } from "./access.input";
import { OrganizationKind } from "./tlp";

const COUNTRY = /^[A-Z]{2}$/;

export function listOrganizations(
  db: Db,
  filter: OrganizationFilter | null | undefined,
  args: PageArgs,
  maxPageSize: number,
) {
  const where = filter?.kinds?.length ? inArray(organizations.kind, filter.kinds) : undefined;
  return paginate({
    args,
    maxPageSize,
    orderBy: [organizations.name, organizations.id],
    keyOf: (o: Organization) => [o.name, o.dbId],
    fetch: async (after, limit) =>
      (
        await db
          .select()
          .from(organizations)
          .where(and(where, after))
          .orderBy(asc(organizations.name), asc(organizations.id))
          .limit(limit)
      ).map(toOrganization),
    count: async () => (await db.select({ n: count() }).from(organizations).where(where))[0]?.n ?? 0,
  });
}

function checkCountry(kind: OrganizationKind, code: string | null | undefined): string | null {
  if (kind !== OrganizationKind.MEMBER_STATE) {
    if (code) throw badInput("countryCode", "only member states have a country code");
    return null;
  }
  if (!code || !COUNTRY.test(code))
    throw badInput("countryCode", "a member state needs an ISO 3166-1 alpha-2 code (two capital letters)");
  return code;
}

function checkName(name: string): string {
  const n = name.trim();
  if (n.length < 2 || n.length > 200) throw badInput("name", "must be 2 to 200 characters");
  return n;
}

async function failOnDuplicate<T>(work: Promise<T>, what: string): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`${what} already exists`);
    throw e;
  }
}

/** PostgreSQL's unique_violation, from either driver (drizzle wraps the driver's error). */
export function isUniqueViolation(e: unknown): boolean {
  for (let x: unknown = e; x && typeof x === "object"; x = (x as { cause?: unknown }).cause) {
    if ((x as { code?: unknown }).code === "23505") return true;
  }
  return false;
}

export async function createOrganization(tx: Tx, input: CreateOrganizationInput) {
  const values = {
    name: checkName(input.name),
    kind: input.kind,
    countryCode: checkCountry(input.kind, input.countryCode),
  };
  const [row] = await failOnDuplicate(
    tx.insert(organizations).values(values).returning(),
    "An organisation with this name or country code",
  );
  if (!row) throw new Error("insert returned no row");
  return toOrganization(row);
}

export async function updateOrganization(tx: Tx, globalId: string, input: UpdateOrganizationInput) {
  const id = idOf("Organization", globalId);
  const current = id ? (await tx.select().from(organizations).where(eq(organizations.id, id)))[0] : undefined;
  if (!id || !current) throw notFound("Organization");
  const set: Partial<typeof organizations.$inferInsert> = {};
  if (input.name != null) set.name = checkName(input.name);
  if (input.countryCode !== undefined)
    set.countryCode = checkCountry(current.kind as OrganizationKind, input.countryCode);
  if (Object.keys(set).length === 0) return toOrganization(current);
  const [row] = await failOnDuplicate(
    tx.update(organizations).set(set).where(eq(organizations.id, id)).returning(),
    "An organisation with this name or country code",
  );
  if (!row) throw notFound("Organization");
  return toOrganization(row);
}

/** Adds (or with `remove`, removes) a member state to or from a regional body. */
export async function setRegionalMembership(tx: Tx, regionGlobalId: string, memberGlobalId: string, remove: boolean) {
  const regionId = idOf("Organization", regionGlobalId);
  const memberId = idOf("Organization", memberGlobalId);
  const rows = await tx
    .select()
    .from(organizations)
    .where(
      inArray(
        organizations.id,
        [regionId, memberId].filter((x): x is string => !!x),
      ),
    );
  const region = rows.find((r) => r.id === regionId);
  const member = rows.find((r) => r.id === memberId);
  if (!region) throw badInput("regionId", "unknown organisation");
  if (!member) throw badInput("memberId", "unknown organisation");
  if (region.kind !== OrganizationKind.REGIONAL_BODY) throw badInput("regionId", "is not a regional body");
  if (member.kind !== OrganizationKind.MEMBER_STATE) throw badInput("memberId", "is not a member state");
  if (remove) {
    await tx
      .delete(regionalMemberships)
      .where(and(eq(regionalMemberships.regionId, region.id), eq(regionalMemberships.memberId, member.id)));
  } else {
    await tx.insert(regionalMemberships).values({ regionId: region.id, memberId: member.id }).onConflictDoNothing();
  }
  return toOrganization(region);
}
