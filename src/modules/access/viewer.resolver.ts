import { Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { Account, Organization, SharingGroup, Viewer } from "./access.type";

@Resolver(() => Viewer)
export class ViewerResolver {
  @Query(() => Viewer, { description: "The account behind the token. UNAUTHENTICATED without one." })
  viewer(@Ctx() ctx: Context): Viewer {
    const v = viewerOf(ctx);
    return Object.assign(new Viewer(), {
      accountDbId: v.accountId,
      organizationDbId: v.organizationId,
      role: v.role,
      tokenExpiresAt: v.tokenExpiresAt,
    });
  }

  @FieldResolver(() => Account)
  async account(@Root() v: Viewer, @Ctx() ctx: Context): Promise<Account> {
    const a = await ctx.loaders.account.load(v.accountDbId);
    if (!a) throw new Error("viewer's account vanished");
    return a;
  }

  @FieldResolver(() => Organization)
  async organization(@Root() v: Viewer, @Ctx() ctx: Context): Promise<Organization> {
    const o = await ctx.loaders.organization.load(v.organizationDbId);
    if (!o) throw new Error("viewer's organisation vanished");
    return o;
  }

  @FieldResolver(() => [SharingGroup], { description: "Groups the viewer's organisation owns or belongs to." })
  async sharingGroups(@Ctx() ctx: Context): Promise<SharingGroup[]> {
    const groups = await ctx.loaders.sharingGroup.loadMany(viewerOf(ctx).groupIds);
    return groups
      .filter((g): g is SharingGroup => !!g && !(g instanceof Error))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
