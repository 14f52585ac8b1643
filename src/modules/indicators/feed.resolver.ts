import { Arg, Ctx, FieldResolver, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { Organization } from "../access/access.type";
import { Feed, FeedIngestSummary } from "./indicators.type";
import { CreateFeedInput } from "./indicators.input";
import { createFeed, feedsOf } from "./feeds.service";

@Resolver(() => Feed)
export class FeedResolver {
  @Query(() => [Feed], { description: "Your organisation's feeds." })
  feeds(@Ctx() ctx: Context) {
    return feedsOf(ctx.services.db, viewerOf(ctx));
  }

  @Mutation(() => Feed, { description: "Analysts register a feed for their organisation." })
  createFeed(@Arg("input", () => CreateFeedInput) input: CreateFeedInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createFeed" }, (tx) => createFeed(tx, v, input));
  }

  @FieldResolver(() => FeedIngestSummary, {
    nullable: true,
    description: "What the last ingest did; null before the first.",
  })
  lastIngest(@Root() f: Feed): FeedIngestSummary | null {
    return (f.lastIngestCounts as FeedIngestSummary | null) ?? null;
  }

  @FieldResolver(() => Int, { description: "The feed's live (unrevoked) reports." })
  reportCount(@Root() f: Feed, @Ctx() ctx: Context): Promise<number> {
    return ctx.loaders.feedReportCount.load(f.dbId);
  }

  @FieldResolver(() => Organization)
  async owner(@Root() f: Feed, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(f.ownerDbId);
    if (!org) throw notFound("Organization");
    return org;
  }
}
