import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { badInput } from "../../shared/errors";
import { exportStix } from "./export.service";
import { IndicatorFilter } from "./indicators.input";

export const MAX_EXPORT_REPORTS = 10_000;

@Resolver()
export class ExportResolver {
  @Query(() => String, {
    description: `A STIX 2.1 bundle (JSON text) of the indicators and sightings the viewer may see, up to ${MAX_EXPORT_REPORTS} reports; GET /export/stix streams any size. With onwardSharing (the default) AMBER_STRICT and RED records stay out.`,
  })
  async exportStix(
    @Arg("filter", () => IndicatorFilter, { nullable: true }) filter: IndicatorFilter | null,
    @Arg("onwardSharing", () => Boolean, { defaultValue: true }) onwardSharing: boolean,
    @Arg("limit", () => Int, { defaultValue: 1000 }) limit: number,
    @Ctx() ctx: Context,
  ): Promise<string> {
    const viewer = viewerOf(ctx);
    if (limit < 1 || limit > MAX_EXPORT_REPORTS) throw badInput("limit", `must be 1 to ${MAX_EXPORT_REPORTS}`);
    let out = "";
    for await (const chunk of exportStix(ctx.services.db, viewer, { onwardSharing, limit, filter })) out += chunk;
    return out;
  }
}
