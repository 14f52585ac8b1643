import { and, eq } from "drizzle-orm";
import type { Tx } from "../../db/client";
import { badInput, notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { contacts, organizations } from "./access.table";
import { toContact } from "./access.mappers";
import type { ContactInput } from "./access.input";
import { resolveMarking } from "./marking.service";
import { visibleTo } from "./tlp";
import { assertCanManage, type ViewerIdentity } from "./viewer";

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

async function values(tx: Tx, viewer: ViewerIdentity, input: ContactInput) {
  if (!input.name.trim()) throw badInput("input.name", "must not be empty");
  if (!isTimeZone(input.timeZone)) throw badInput("input.timeZone", `unknown IANA time zone ${input.timeZone}`);
  const bad = input.languages.find((l) => !/^[a-zA-Z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(l));
  if (bad) throw badInput("input.languages", `not a BCP 47 language tag: ${bad}`);
  const m = await resolveMarking(tx, viewer, input.marking, "input.marking");
  return {
    kind: input.kind,
    name: input.name.trim(),
    title: input.title,
    channels: input.channels.map((c) => ({ kind: c.kind, value: c.value })),
    languages: input.languages,
    timeZone: input.timeZone,
    available24x7: input.available24x7,
    lastVerifiedAt: input.lastVerifiedAt ?? null,
    tlp: m.tlp,
    audienceOrgs: m.audienceOrgs,
    audienceGroups: m.audienceGroups,
  };
}

/** An organisation's admins (or the operator's) add its points of contact. */
export async function createContact(tx: Tx, viewer: ViewerIdentity, organizationGlobalId: string, input: ContactInput) {
  const orgId = idOf("Organization", organizationGlobalId);
  const org = orgId
    ? (await tx.select({ id: organizations.id }).from(organizations).where(eq(organizations.id, orgId)))[0]
    : undefined;
  if (!org) throw badInput("organizationId", "unknown organisation");
  assertCanManage(viewer, org.id);
  const [row] = await tx
    .insert(contacts)
    .values({ ownerOrgId: org.id, ...(await values(tx, viewer, input)) })
    .returning();
  if (!row) throw new Error("insert returned no row");
  return toContact(row);
}

async function managedContact(tx: Tx, viewer: ViewerIdentity, globalId: string) {
  const id = idOf("Contact", globalId);
  const row = id
    ? (
        await tx
          .select()
          .from(contacts)
          .where(and(eq(contacts.id, id), visibleTo(viewer, contacts)))
      )[0]
    : undefined;
  if (!row) throw notFound("Contact");
  assertCanManage(viewer, row.ownerOrgId);
  return row;
}

export async function updateContact(tx: Tx, viewer: ViewerIdentity, globalId: string, input: ContactInput) {
  const current = await managedContact(tx, viewer, globalId);
  const [row] = await tx
    .update(contacts)
    .set(await values(tx, viewer, input))
    .where(eq(contacts.id, current.id))
    .returning();
  return toContact(row ?? current);
}

export async function deleteContact(tx: Tx, viewer: ViewerIdentity, globalId: string) {
  const current = await managedContact(tx, viewer, globalId);
  await tx.delete(contacts).where(eq(contacts.id, current.id));
  return globalId;
}
