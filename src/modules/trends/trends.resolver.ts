import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { Role } from "../access/access.enums";
import { Organization } from "../access/access.type";
import { isOperatorAdmin } from "../access/viewer";
import { byKey } from "../../shared/loaders";
import { TrendsConsent } from "./trends.enums";
import { computeTrends } from "./trends.service";
import { loadSettings, setTrendsConsent, setTrendsScopeK, toSettings } from "./trends-settings.service";
import { Trends, TrendsInput, TrendsSettings } from "./trends.type";

const settingsLoaders = new WeakMap<object, ReturnType<typeof makeSettingsLoader>>();
const makeSettingsLoader = (ctx: Context) =>
  byKey(
    (ids: readonly string[]) => loadSettings(ctx.services.db, ids),
    (s) => s.organizationId,
  );
/** One settings loader per operation, keyed like the other modules' by the operation's loaders. */
function settingsLoaderOf(ctx: Context) {
  const key = ctx.loaders as object;
  let l = settingsLoaders.get(key);
  if (!l) settingsLoaders.set(key, (l = makeSettingsLoader(ctx)));
  return l;
}

@Resolver()
export class TrendsResolver {
  @Query(() => Trends, {
    description:
      "k-anonymous counts over time for a regional body's member states (scopeId) or the whole hub. For the regional body, its member states and the operator; others get FORBIDDEN.",
  })
  trends(@Arg("input", () => TrendsInput) input: TrendsInput, @Ctx() ctx: Context): Promise<Trends> {
    return computeTrends(ctx.services.db, viewerOf(ctx), input, ctx.services.config.TRENDS_K);
  }

  @Mutation(() => TrendsSettings, {
    description: "The organisation's own admins set what the hub may count of its records in trends (at once).",
  })
  async setTrendsConsent(
    @Arg("organizationId", () => ID) organizationId: string,
    @Arg("consent", () => TrendsConsent) consent: TrendsConsent,
    @Ctx() ctx: Context,
  ): Promise<TrendsSettings> {
    const v = viewerOf(ctx);
    const s = await ctx.services.mutate(
      v,
      { operation: "setTrendsConsent", targetIds: [organizationId], detail: { consent } },
      (tx) => setTrendsConsent(tx, v, organizationId, consent),
    );
    return toSettings(s, ctx.services.config.TRENDS_K);
  }

  @Mutation(() => TrendsSettings, {
    description:
      "A regional body's own admins raise k for its scope (null: the operator's TRENDS_K); never below the operator's.",
  })
  async setTrendsScopeK(
    @Arg("regionId", () => ID) regionId: string,
    @Arg("k", () => Int, { nullable: true }) k: number | null,
    @Ctx() ctx: Context,
  ): Promise<TrendsSettings> {
    const v = viewerOf(ctx);
    const s = await ctx.services.mutate(
      v,
      { operation: "setTrendsScopeK", targetIds: [regionId], detail: { k } },
      (tx) => setTrendsScopeK(tx, v, regionId, k ?? null, ctx.services.config.TRENDS_K),
    );
    return toSettings(s, ctx.services.config.TRENDS_K);
  }
}

@Resolver(() => Organization)
export class OrganizationTrendsResolver {
  @FieldResolver(() => TrendsSettings, {
    nullable: true,
    description:
      "Its trends consent and scope k: for its own admins and the operator's admins; null for everyone else.",
  })
  async trendsSettings(@Root() org: Organization, @Ctx() ctx: Context): Promise<TrendsSettings | null> {
    const v = viewerOf(ctx);
    const mine = v.organizationId === org.dbId && v.role === Role.ADMIN;
    if (!mine && !isOperatorAdmin(v)) return null;
    const s = await settingsLoaderOf(ctx).load(org.dbId);
    return s ? toSettings(s, ctx.services.config.TRENDS_K) : null;
  }
}
