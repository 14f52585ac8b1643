import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { IngestReportType } from "./indicators.type";
import { ingestPayload } from "./ingest.run";

@Resolver()
export class IngestResolver {
  @Mutation(() => IngestReportType, {
    description:
      "Ingests a payload in the feed's format (STIX bundle, MISP event, CSV or plain list), up to MAX_BODY_BYTES (1 MiB by default). Larger payloads go to POST /ingest?feed=ID, which streams.",
  })
  ingest(
    @Arg("feedId", () => ID) feedId: string,
    @Arg("content", () => String) content: string,
    @Ctx() ctx: Context,
  ): Promise<IngestReportType> {
    return ingestPayload(ctx.services.db, viewerOf(ctx), feedId, once(content));
  }
}

async function* once(text: string): AsyncIterable<string> {
  yield text;
}
