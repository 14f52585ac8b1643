import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../src/shared/ids";
import {
  AddRegionalMemberDocument,
  DeleteContactDocument,
  DisableAccountDocument,
  RemoveRegionalMemberDocument,
  UpdateAccountDocument,
  UpdateContactDocument,
  UpdateSharingGroupDocument,
  CreateAccountDocument,
  CreateContactDocument,
  CreateOrganizationDocument,
  CreateSharingGroupDocument,
  NodeByIdDocument,
  OrganizationDocument,
  OrganizationsDocument,
  SharingGroupDocument,
  ViewerDocument,
} from "./generated/graphql";
import type { OrganizationsQuery } from "./generated/graphql";
import { op, startHub, type GqlResult, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;
let operator: SeededOrg;
let opAdmin: SeededAccount;
let xa: SeededOrg;
let xaAdmin: SeededAccount;
let xaReader: SeededAccount;
let xb: SeededOrg;
let xbAdmin: SeededAccount;
let partner: SeededOrg;
let partnerReader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  operator = await hub.world.org("HUB_OPERATOR");
  opAdmin = await hub.world.account(operator, "ADMIN");
  xa = await hub.world.org("MEMBER_STATE");
  xaAdmin = await hub.world.account(xa, "ADMIN");
  xaReader = await hub.world.account(xa, "READER");
  xb = await hub.world.org("MEMBER_STATE");
  xbAdmin = await hub.world.account(xb, "ADMIN");
  partner = await hub.world.org("PARTNER");
  partnerReader = await hub.world.account(partner, "READER");
});
afterAll(() => hub?.dispose());

describe("viewer", () => {
  it("answers who the token belongs to", async () => {
    const r = await op(hub.url, xaAdmin.token, ViewerDocument);
    expect(r.errors).toBeUndefined();
    expect(r.headers.get("cache-control")).toBe("no-store");
    expect(r.data?.viewer).toMatchObject({
      role: "ADMIN",
      account: { id: xaAdmin.gid },
      organization: { id: xa.gid, kind: "MEMBER_STATE" },
    });
  });

  it("refuses every field without a token with UNAUTHENTICATED, but answers __typename", async () => {
    expect((await hub.gql(null, "{ viewer { role } }")).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect((await hub.gql(null, "{ organizations { totalCount } }")).errors?.[0]?.extensions?.code).toBe(
      "UNAUTHENTICATED",
    );
    expect((await hub.gql(null, "{ __typename }")).data).toEqual({ __typename: "Query" });
  });
});

describe("organisations", () => {
  it("lets operator admins register a member state and refuses a duplicate name with CONFLICT", async () => {
    const input = { name: "Freedonia CERT", kind: "MEMBER_STATE" as const, countryCode: "QM" };
    const r = await op(hub.url, opAdmin.token, CreateOrganizationDocument, { input });
    expect(r.data?.createOrganization).toMatchObject({ name: "Freedonia CERT", countryCode: "QM" });
    const again = await op(hub.url, opAdmin.token, CreateOrganizationDocument, {
      input: { ...input, countryCode: "QN" },
    });
    expect(again.errors?.[0]?.extensions?.code).toBe("CONFLICT");
  });

  it("requires a country code for member states and refuses one for other kinds", async () => {
    const none = await op(hub.url, opAdmin.token, CreateOrganizationDocument, {
      input: { name: "No code", kind: "MEMBER_STATE" },
    });
    expect(none.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "countryCode" });
    const extra = await op(hub.url, opAdmin.token, CreateOrganizationDocument, {
      input: { name: "Region", kind: "REGIONAL_BODY", countryCode: "QO" },
    });
    expect(extra.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "countryCode" });
  });

  it("refuses organisation management to anyone but operator admins", async () => {
    const r = await op(hub.url, xaAdmin.token, CreateOrganizationDocument, {
      input: { name: "Rogue", kind: "PARTNER" },
    });
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("records regional memberships in both directions", async () => {
    const region = await hub.world.org("REGIONAL_BODY");
    const r = await op(hub.url, opAdmin.token, AddRegionalMemberDocument, { regionId: region.gid, memberId: xa.gid });
    expect(r.data?.addRegionalMember.members.map((m) => m.id)).toEqual([xa.gid]);
    const member = await op(hub.url, xbAdmin.token, OrganizationDocument, { id: xa.gid });
    expect(member.data?.organization.regions.map((o) => o.id)).toContain(region.gid);
    const wrong = await op(hub.url, opAdmin.token, AddRegionalMemberDocument, { regionId: xa.gid, memberId: xb.gid });
    expect(wrong.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "regionId" });
  });

  it("pages the directory in a stable order with opaque cursors and a totalCount", async () => {
    for (let i = 0; i < 5; i++) await hub.world.org("PARTNER");
    const all = await op(hub.url, xaReader.token, OrganizationsDocument, { first: 100 });
    const total = all.data?.organizations.totalCount ?? 0;
    expect(all.data?.organizations.edges).toHaveLength(total);
    const names = all.data?.organizations.edges.map((e) => e.node.name) ?? [];
    expect([...names].sort()).toEqual(names);
    const seen: string[] = [];
    let after: string | null | undefined = null;
    for (;;) {
      const page: GqlResult<OrganizationsQuery> = await op(hub.url, xaReader.token, OrganizationsDocument, {
        first: 3,
        after,
      });
      expect(page.data?.organizations.totalCount).toBe(total);
      seen.push(...(page.data?.organizations.edges.map((e) => e.node.id) ?? []));
      if (!page.data?.organizations.pageInfo.hasNextPage) break;
      after = page.data.organizations.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.data?.organizations.edges.map((e) => e.node.id));
    const bad = await op(hub.url, xaReader.token, OrganizationsDocument, { first: 3, after: "garbage" });
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("filters the directory by kind, and counts what the filter lets through", async () => {
    const r = await op(hub.url, xaReader.token, OrganizationsDocument, { filter: { kinds: ["HUB_OPERATOR"] } });
    expect(r.data?.organizations.edges.map((e) => e.node.id)).toEqual([operator.gid]);
    expect(r.data?.organizations.totalCount).toBe(1);
  });
});

describe("accounts", () => {
  it("lets an organisation's admin add accounts to it, and the operator's admins to any", async () => {
    const own = await op(hub.url, xaAdmin.token, CreateAccountDocument, {
      input: { organizationId: xa.gid, name: "sensor-1", role: "ANALYST", isService: true },
    });
    expect(own.data?.createAccount).toMatchObject({ name: "sensor-1", role: "ANALYST" });
    const byOperator = await op(hub.url, opAdmin.token, CreateAccountDocument, {
      input: { organizationId: xb.gid, name: "first admin", role: "ADMIN" },
    });
    expect(byOperator.errors).toBeUndefined();
  });

  it("refuses account management to readers and to admins of other organisations with FORBIDDEN", async () => {
    const reader = await op(hub.url, xaReader.token, CreateAccountDocument, {
      input: { organizationId: xa.gid, name: "x", role: "READER" },
    });
    expect(reader.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const foreign = await op(hub.url, xbAdmin.token, CreateAccountDocument, {
      input: { organizationId: xa.gid, name: "x", role: "ADMIN" },
    });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("hides another organisation's accounts: node(id) answers NOT_FOUND as for a missing one", async () => {
    const hidden = await op(hub.url, xbAdmin.token, NodeByIdDocument, { id: xaReader.gid });
    const missing = await op(hub.url, xbAdmin.token, NodeByIdDocument, {
      id: toGlobalId("Account", crypto.randomUUID()),
    });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(hidden.errors).toEqual(missing.errors);
    expect((await op(hub.url, xaAdmin.token, NodeByIdDocument, { id: xaReader.gid })).data?.node).toEqual({
      id: xaReader.gid,
      __typename: "Account",
    });
  });
});

describe("sharing groups", () => {
  it("shows members the group's name but not its members, unless the owner allows it", async () => {
    const created = await op(hub.url, xaAdmin.token, CreateSharingGroupDocument, {
      input: { name: "Inner circle", memberIds: [xb.gid, partner.gid] },
    });
    const id = created.data?.createSharingGroup.id ?? "";
    expect(created.data?.createSharingGroup.members?.map((m) => m.id).sort()).toEqual([xb.gid, partner.gid].sort());
    const asMember = await op(hub.url, xbAdmin.token, SharingGroupDocument, { id });
    expect(asMember.data?.sharingGroup).toMatchObject({ name: "Inner circle", members: null, owner: { id: xa.gid } });
    const open = await op(hub.url, xaAdmin.token, CreateSharingGroupDocument, {
      input: { name: "Open circle", memberIds: [xb.gid], membersVisible: true },
    });
    const asMemberOpen = await op(hub.url, xbAdmin.token, SharingGroupDocument, {
      id: open.data?.createSharingGroup.id ?? "",
    });
    expect(asMemberOpen.data?.sharingGroup.members?.map((m) => m.id)).toEqual([xb.gid]);
  });

  it("lists a new group among the members' groups at once", async () => {
    const created = await op(hub.url, xaAdmin.token, CreateSharingGroupDocument, {
      input: { name: "Fresh circle", memberIds: [partner.gid] },
    });
    const v = await op(hub.url, partnerReader.token, ViewerDocument);
    expect(v.data?.viewer.sharingGroups.map((g) => g.id)).toContain(created.data?.createSharingGroup.id);
  });

  it("refuses a group with an unknown member, naming memberIds", async () => {
    const r = await op(hub.url, xaAdmin.token, CreateSharingGroupDocument, {
      input: { name: "Broken", memberIds: [toGlobalId("Organization", crypto.randomUUID())] },
    });
    expect(r.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "memberIds" });
  });
});

describe("points of contact", () => {
  const contact = (tlp: "CLEAR" | "GREEN" | "AMBER" | "RED", extra: Record<string, unknown> = {}) => ({
    kind: "TECHNICAL" as const,
    name: `${tlp} desk`,
    channels: [{ kind: "EMAIL", value: "desk@example.org" }],
    languages: ["en", "fr-BE"],
    timeZone: "Europe/Brussels",
    available24x7: true,
    marking: { tlp, ...extra },
  });

  it("shows each viewer only the contacts its TLP and audience allow", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const ownerAdmin = await hub.world.account(owner, "ADMIN");
    for (const [tlp, extra] of [
      ["CLEAR", {}],
      ["GREEN", {}],
      ["AMBER", { audienceOrganizationIds: [xb.gid] }],
      ["RED", { audienceOrganizationIds: [partner.gid] }],
    ] as const) {
      const r = await op(hub.url, ownerAdmin.token, CreateContactDocument, {
        organizationId: owner.gid,
        input: contact(tlp, extra),
      });
      expect(r.errors).toBeUndefined();
    }
    const seenBy = async (token: string) =>
      ((await op(hub.url, token, OrganizationDocument, { id: owner.gid })).data?.organization.contacts ?? [])
        .map((c) => c.marking.tlp)
        .sort();
    expect(await seenBy(ownerAdmin.token)).toEqual(["AMBER", "CLEAR", "GREEN", "RED"]);
    expect(await seenBy(xbAdmin.token)).toEqual(["AMBER", "CLEAR", "GREEN"]);
    expect(await seenBy(xaReader.token)).toEqual(["CLEAR", "GREEN"]);
    expect(await seenBy(partnerReader.token)).toEqual(["CLEAR", "RED"]);
    expect(await seenBy(opAdmin.token)).toEqual(["CLEAR", "GREEN"]);
  });

  it("refuses an unknown time zone and a malformed language tag, naming the field", async () => {
    const tz = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: { ...contact("GREEN"), timeZone: "Mars/Olympus" },
    });
    expect(tz.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.timeZone" });
    const lang = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: { ...contact("GREEN"), languages: ["english!"] },
    });
    expect(lang.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.languages" });
  });
});

describe("changes", () => {
  it("changes an account's role, and a disabled account's tokens stop working at once", async () => {
    const victim = await hub.world.account(xa, "READER");
    const promoted = await op(hub.url, xaAdmin.token, UpdateAccountDocument, {
      id: victim.gid,
      input: { role: "ANALYST" },
    });
    expect(promoted.data?.updateAccount.role).toBe("ANALYST");
    expect((await op(hub.url, victim.token, ViewerDocument)).data?.viewer.role).toBe("ANALYST");
    const disabled = await op(hub.url, xaAdmin.token, DisableAccountDocument, { id: victim.gid });
    expect(disabled.data?.disableAccount.disabledAt).toBeTruthy();
    expect((await op(hub.url, victim.token, ViewerDocument)).status).toBe(401);
  });

  it("moves what a member may see when the owner changes a group's members", async () => {
    const owner = await hub.world.org("MEMBER_STATE");
    const ownerAdmin = await hub.world.account(owner, "ADMIN");
    const g = await op(hub.url, ownerAdmin.token, CreateSharingGroupDocument, {
      input: { name: "Moving circle", memberIds: [xb.gid] },
    });
    const gid = g.data?.createSharingGroup.id ?? "";
    const c = await op(hub.url, ownerAdmin.token, CreateContactDocument, {
      organizationId: owner.gid,
      input: { kind: "POLICY", name: "Envoy", timeZone: "UTC", marking: { tlp: "AMBER", audienceGroupIds: [gid] } },
    });
    const cid = c.data?.createContact.id ?? "";
    const sees = async (token: string) =>
      (await op(hub.url, token, NodeByIdDocument, { id: cid })).data?.node?.id === cid;
    expect(await sees(xbAdmin.token)).toBe(true);
    expect(await sees(xaAdmin.token)).toBe(false);
    const moved = await op(hub.url, ownerAdmin.token, UpdateSharingGroupDocument, {
      id: gid,
      input: { memberIds: [xa.gid] },
    });
    expect(moved.data?.updateSharingGroup.members?.map((m) => m.id)).toEqual([xa.gid]);
    expect(await sees(xbAdmin.token)).toBe(false);
    expect(await sees(xaAdmin.token)).toBe(true);
    const foreign = await op(hub.url, xaAdmin.token, UpdateSharingGroupDocument, {
      id: gid,
      input: { name: "mine now" },
    });
    expect(foreign.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });

  it("updates and deletes a contact, and only its organisation's admins may", async () => {
    const c = await op(hub.url, xaAdmin.token, CreateContactDocument, {
      organizationId: xa.gid,
      input: { kind: "TECHNICAL", name: "Old desk", timeZone: "UTC", marking: { tlp: "GREEN" } },
    });
    const id = c.data?.createContact.id ?? "";
    const input = { kind: "TECHNICAL" as const, name: "New desk", timeZone: "UTC", marking: { tlp: "CLEAR" as const } };
    const updated = await op(hub.url, xaAdmin.token, UpdateContactDocument, { id, input });
    expect(updated.data?.updateContact).toMatchObject({ name: "New desk", marking: { tlp: "CLEAR" } });
    expect((await op(hub.url, xbAdmin.token, UpdateContactDocument, { id, input })).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect((await op(hub.url, xaReader.token, DeleteContactDocument, { id })).errors?.[0]?.extensions?.code).toBe(
      "FORBIDDEN",
    );
    expect((await op(hub.url, xaAdmin.token, DeleteContactDocument, { id })).data?.deleteContact).toBe(id);
    expect((await op(hub.url, xaAdmin.token, NodeByIdDocument, { id })).errors?.[0]?.extensions?.code).toBe(
      "NOT_FOUND",
    );
  });

  it("removes a member state from a regional body", async () => {
    const region = await hub.world.org("REGIONAL_BODY");
    await hub.world.membership(region, xb);
    const r = await op(hub.url, opAdmin.token, RemoveRegionalMemberDocument, {
      regionId: region.gid,
      memberId: xb.gid,
    });
    expect(r.data?.removeRegionalMember.members).toEqual([]);
  });
});
