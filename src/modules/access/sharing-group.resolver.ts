import { Arg, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { Organization, SharingGroup } from "./access.type";
import { SharingGroupInput, UpdateSharingGroupInput } from "./access.input";
import { createSharingGroup, updateSharingGroup } from "./sharing-groups.service";

@Resolver(() => SharingGroup)
export class SharingGroupResolver {
  @Query(() => SharingGroup, {
    description: "A group the viewer's organisation owns or belongs to; NOT_FOUND otherwise.",
  })
  async sharingGroup(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<SharingGroup> {
    viewerOf(ctx);
    const dbId = idOf("SharingGroup", id);
    const g = dbId ? await ctx.loaders.sharingGroup.load(dbId) : null;
    if (!g) throw notFound("SharingGroup");
    return g;
  }

  @FieldResolver(() => Organization)
  async owner(@Root() g: SharingGroup, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(g.ownerDbId);
    if (!org) throw new Error(`group ${g.dbId} has no owner`);
    return org;
  }

  @FieldResolver(() => [Organization], {
    nullable: true,
    description: "The members: shown to the owner, and to members only when membersVisible; null otherwise.",
  })
  async members(@Root() g: SharingGroup, @Ctx() ctx: Context): Promise<Organization[] | null> {
    const v = viewerOf(ctx);
    if (v.organizationId !== g.ownerDbId && !g.membersVisible) return null;
    return (await ctx.loaders.groupMembers.load(g.dbId)).map((r) => r.org);
  }

  @Mutation(() => SharingGroup, { description: "Admins create a sharing group owned by their organisation." })
  async createSharingGroup(@Arg("input", () => SharingGroupInput) input: SharingGroupInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    const g = await ctx.services.mutate(v, { operation: "createSharingGroup" }, (tx) =>
      createSharingGroup(tx, v, input),
    );
    ctx.services.auth.forget(); // the owner's group list changed
    return g;
  }

  @Mutation(() => SharingGroup, { description: "The owner's admins rename a group or replace its members." })
  async updateSharingGroup(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateSharingGroupInput) input: UpdateSharingGroupInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    const g = await ctx.services.mutate(v, { operation: "updateSharingGroup", targetIds: [id] }, (tx) =>
      updateSharingGroup(tx, v, id, input),
    );
    ctx.services.auth.forget(); // members' group lists changed
    return g;
  }
}
