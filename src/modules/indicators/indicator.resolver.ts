import { Arg, Args, Ctx, FieldResolver, Mutation, Query, Resolver, Root, ID } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { badInput, notFound } from "../../shared/errors";
import { PageArgsInput } from "../../shared/pagination";
import { Organization } from "../access/access.type";
import { toScales } from "./confidence";
import {
  ConfidenceScales,
  Feed,
  Indicator,
  IndicatorConnection,
  IndicatorLookup,
  IndicatorReport,
  Sighting,
} from "./indicators.type";
import { IndicatorFilter } from "./indicators.input";
import { listIndicators, lookup, MAX_LOOKUP } from "./indicators.service";
import { ObservableType } from "./normalize";
import { revokeReport } from "./reports.service";

@Resolver(() => Indicator)
export class IndicatorResolver {
  @Query(() => Indicator, {
    nullable: true,
    description: "An indicator by value (type detected when omitted); null when the viewer may see nothing about it.",
  })
  async indicator(
    @Arg("value", () => String) value: string,
    @Arg("type", () => ObservableType, { nullable: true }) type: ObservableType | null,
    @Ctx() ctx: Context,
  ): Promise<Indicator | null> {
    // lookup() normalises the value once and answers its reason when it cannot be read.
    const [hit] = await lookup(ctx.services.db, viewerOf(ctx), [value], type);
    if (hit?.error != null) throw badInput("value", hit.error);
    return hit?.indicator ?? null;
  }

  @Query(() => [IndicatorLookup], {
    description: `Looks up to ${MAX_LOOKUP} values at once in one database round trip; one answer per value, in order.`,
  })
  lookupIndicators(
    @Arg("values", () => [String]) values: string[],
    @Arg("type", () => ObservableType, { nullable: true, description: "When every value is of one type." })
    type: ObservableType | null,
    @Ctx() ctx: Context,
  ) {
    return lookup(ctx.services.db, viewerOf(ctx), values, type);
  }

  @Query(() => IndicatorConnection, { description: "Indicators the viewer may see, oldest first." })
  indicators(
    @Arg("filter", () => IndicatorFilter, { nullable: true }) filter: IndicatorFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    return listIndicators(ctx.services.db, viewerOf(ctx), filter, page, ctx.services.config.MAX_PAGE_SIZE);
  }

  @FieldResolver(() => [IndicatorReport], { description: "The reports the viewer may see, oldest first." })
  reports(@Root() i: Indicator, @Ctx() ctx: Context) {
    return ctx.loaders.reportsOf.load(i.dbId);
  }

  @FieldResolver(() => [Sighting], { description: "The sightings the viewer may see." })
  sightings(@Root() i: Indicator, @Ctx() ctx: Context) {
    return ctx.loaders.sightingsOf.load(i.dbId);
  }

  @FieldResolver(() => ConfidenceScales, { description: "The confidence in the STIX appendix A scales." })
  confidenceScales(@Root() i: Indicator): ConfidenceScales {
    return toScales(i.confidence);
  }

  @Mutation(() => IndicatorReport, {
    description: "Revokes one of your organisation's reports; the indicator disappears for those who saw only it.",
  })
  revokeReport(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "revokeReport", targetIds: [id] }, (tx) => revokeReport(tx, v, id));
  }
}

@Resolver(() => IndicatorReport)
export class IndicatorReportResolver {
  @FieldResolver(() => Organization)
  async owner(@Root() r: IndicatorReport, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(r.ownerDbId);
    if (!org) throw notFound("Organization");
    return org;
  }

  @FieldResolver(() => Feed, { nullable: true, description: "The feed, for its owner; null for everyone else." })
  feed(@Root() r: IndicatorReport, @Ctx() ctx: Context) {
    return ctx.loaders.feed.load(r.feedDbId);
  }

  @FieldResolver(() => ConfidenceScales)
  confidenceScales(@Root() r: IndicatorReport): ConfidenceScales {
    return toScales(r.confidence);
  }
}

@Resolver(() => Sighting)
export class SightingResolver {
  @FieldResolver(() => Organization)
  async owner(@Root() s: Sighting, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(s.ownerDbId);
    if (!org) throw notFound("Organization");
    return org;
  }
}
