import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { badInput } from "../../shared/errors";
import { exportStix } from "./export.service";
import { IndicatorFilter } from "./indicators.input";
import { STIX_EXPORT_KINDS, StixExportKind } from "./indicators.enums";

export const MAX_EXPORT_REPORTS = 10_000;

@Resolver()
export class ExportResolver {
  @Query(() => String, {
    description: `A STIX 2.1 bundle (JSON text) of what the viewer may see: indicators and sightings (up to \`limit\` reports, at most ${MAX_EXPORT_REPORTS}), assessments as attributed-to relationships with their opinions (up to \`limit\`), incidents (up to \`limit\`); \`include\` picks the kinds (default all). GET /export/stix streams any size. With onwardSharing (the default) AMBER_STRICT and RED records stay out. The filter applies to indicators.`,
  })
  async exportStix(
    @Arg("filter", () => IndicatorFilter, { nullable: true }) filter: IndicatorFilter | null,
    @Arg("onwardSharing", () => Boolean, { defaultValue: true }) onwardSharing: boolean,
    @Arg("limit", () => Int, { defaultValue: 1000 }) limit: number,
    @Arg("include", () => [StixExportKind], { defaultValue: STIX_EXPORT_KINDS }) include: StixExportKind[],
    @Ctx() ctx: Context,
  ): Promise<string> {
    const viewer = viewerOf(ctx);
    if (limit < 1 || limit > MAX_EXPORT_REPORTS) throw badInput("limit", `must be 1 to ${MAX_EXPORT_REPORTS}`);
    let out = "";
    if (!include.length) throw badInput("include", "name at least one kind");
    for await (const chunk of exportStix(ctx.services.db, viewer, { onwardSharing, limit, filter, include }))
      out += chunk;
    return out;
  }
}
