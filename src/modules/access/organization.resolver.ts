import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { PageArgsInput } from "../../shared/pagination";
import { viewerOf, type Context } from "../../context";
import { notFound, forbidden } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { AccountConnection, Contact, Organization, OrganizationConnection, SharingGroup } from "./access.type";
import { CreateOrganizationInput, OrganizationFilter, UpdateOrganizationInput } from "./access.input";
import {
  createOrganization,
  listOrganizations,
  setRegionalMembership,
  updateOrganization,
} from "./organizations.service";
import { listAccounts } from "./accounts.service";
import { assertOperatorAdmin, isOperatorAdmin } from "./viewer";

@Resolver(() => Organization)
export class OrganizationResolver {
  @Query(() => Organization, { description: "An organisation; NOT_FOUND when there is none." })
  async organization(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Organization> {
    viewerOf(ctx);
    const dbId = idOf("Organization", id);
    const org = dbId ? await ctx.loaders.organization.load(dbId) : null;
    if (!org) throw notFound("Organization");
    return org;
  }

  @Query(() => OrganizationConnection, { description: "The directory of organisations, by name." })
  organizations(
    @Arg("filter", () => OrganizationFilter, { nullable: true }) filter: OrganizationFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    viewerOf(ctx);
    return listOrganizations(ctx.services.db, filter, page, ctx.services.config.MAX_PAGE_SIZE);
  }

  @FieldResolver(() => [Organization], { description: "Regional bodies this member state belongs to." })
  async regions(@Root() org: Organization, @Ctx() ctx: Context): Promise<Organization[]> {
    return (await ctx.loaders.regionsOf.load(org.dbId)).map((r) => r.org);
  }

  @FieldResolver(() => [Organization], { description: "Member states of this regional body." })
  async members(@Root() org: Organization, @Ctx() ctx: Context): Promise<Organization[]> {
    return (await ctx.loaders.membersOf.load(org.dbId)).map((r) => r.org);
  }

  @FieldResolver(() => [Contact], { description: "Points of contact the viewer may see." })
  contacts(@Root() org: Organization, @Ctx() ctx: Context): Promise<Contact[]> {
    return ctx.loaders.contactsOf.load(org.dbId);
  }

  @FieldResolver(() => [SharingGroup], {
    description: "Sharing groups this organisation owns that the viewer belongs to.",
  })
  sharingGroups(@Root() org: Organization, @Ctx() ctx: Context): Promise<SharingGroup[]> {
    return ctx.loaders.groupsOwnedBy.load(org.dbId);
  }

  @FieldResolver(() => AccountConnection, {
    description: "Accounts; for the organisation itself and the operator's admins.",
  })
  accounts(@Root() org: Organization, @Args(() => PageArgsInput) page: PageArgsInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    if (v.organizationId !== org.dbId && !isOperatorAdmin(v))
      throw forbidden("Only the organisation itself may list its accounts");
    return listAccounts(ctx.services.db, org.dbId, page, ctx.services.config.MAX_PAGE_SIZE);
  }

  @Mutation(() => Organization, { description: "Operator admins register an organisation." })
  createOrganization(@Arg("input", () => CreateOrganizationInput) input: CreateOrganizationInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createOrganization" }, (tx) => {
      assertOperatorAdmin(v);
      return createOrganization(tx, input);
    });
  }

  @Mutation(() => Organization)
  async updateOrganization(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateOrganizationInput) input: UpdateOrganizationInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    const org = await ctx.services.mutate(v, { operation: "updateOrganization", targetIds: [id] }, (tx) => {
      assertOperatorAdmin(v);
      return updateOrganization(tx, id, input);
    });
    ctx.services.auth.forget(); // viewers carry their organisation's row
    return org;
  }

  @Mutation(() => Organization, {
    description: "Operator admins add a member state to a regional body; returns the region.",
  })
  addRegionalMember(
    @Arg("regionId", () => ID) regionId: string,
    @Arg("memberId", () => ID) memberId: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "addRegionalMember", targetIds: [regionId, memberId] }, (tx) => {
      assertOperatorAdmin(v);
      return setRegionalMembership(tx, regionId, memberId, false);
    });
  }

  @Mutation(() => Organization, {
    description: "Operator admins remove a member state from a regional body; returns the region.",
  })
  removeRegionalMember(
    @Arg("regionId", () => ID) regionId: string,
    @Arg("memberId", () => ID) memberId: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "removeRegionalMember", targetIds: [regionId, memberId] }, (tx) => {
      assertOperatorAdmin(v);
      return setRegionalMembership(tx, regionId, memberId, true);
    });
  }
}
