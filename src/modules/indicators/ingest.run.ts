import type { Db } from "../../db/client";
import { Role } from "../access/access.enums";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { auditFailure } from "../audit";
import { ownFeed } from "./feeds.service";
import type { FeedFormat } from "./indicators.table";
import { ingest, readItems, type IngestReport } from "./ingest.service";
import { parserFor } from "./parsers";

/**
 * The one entry for every way in (GraphQL mutation, POST /ingest, CLI through POST /ingest):
 * checks the caller may write to the feed, parses in the feed's format (or the one the request
 * names), ingests, and audits a failed attempt too (the successful one is audited inside the
 * ingest's own transaction).
 */
export async function ingestPayload(
  db: Db,
  viewer: ViewerIdentity,
  feedGlobalId: string,
  input: AsyncIterable<Uint8Array | string>,
  format?: FeedFormat | null,
  onProgress?: (report: IngestReport) => void,
): Promise<IngestReport> {
  try {
    assertRole(viewer, Role.ANALYST);
    const feed = await ownFeed(db, viewer, feedGlobalId);
    const items = readItems(parserFor(format ?? feed.format)(input));
    return await ingest(db, viewer, feed, items, onProgress);
  } catch (e) {
    await auditFailure(
      db,
      {
        accountId: viewer.accountId,
        organizationId: viewer.organizationId,
        operation: "ingest",
        targetIds: [feedGlobalId],
      },
      e,
    );
    throw e;
  }
}
