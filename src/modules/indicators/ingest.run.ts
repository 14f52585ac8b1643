import type { Db } from "../../db/client";
import { Role } from "../access/access.enums";
import { Tlp } from "../access/tlp";
import { assertRole, type ViewerIdentity } from "../access/viewer";
import { auditFailure } from "../audit";
import { ownFeed } from "./feeds.service";
import type { FeedFormat } from "./indicators.table";
import { ingest, readItems, type FeedRow, type IngestReport } from "./ingest.service";
import type { ParsedItem } from "./ingest.types";
import { parserFor } from "./parsers";

/**
 * The one entry for every way in (GraphQL mutation, POST /ingest, CLI through POST /ingest):
 * checks the caller may write to the feed, parses in the feed's format (or the one the request
 * names), maps the source's sharing groups to the hub's, ingests, and audits a failed attempt
 * too (the successful one is audited inside the ingest's own transaction).
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
    const items = withSourceGroups(readItems(parserFor(format ?? feed.format)(input)), viewer, feed);
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

/**
 * Gives an item shared with a sharing group of its source (a MISP sharing group, see SourceGroup)
 * the hub sharing group with that id as its whole audience, when the feed's owner organisation
 * may use that group (owns it or belongs to it: the viewer's groups, the viewer being of the
 * feed's organisation). Otherwise the item is rejected with a reason naming the group; a group the
 * organisation may not use reads exactly like one that does not exist. RED reaches named
 * organisations only, so a RED item keeps an empty audience (its owner alone).
 */
export async function* withSourceGroups(
  items: AsyncIterable<ParsedItem>,
  viewer: ViewerIdentity,
  feed: Pick<FeedRow, "defaultAudienceGroups">,
): AsyncIterable<ParsedItem> {
  for await (const item of items) {
    if ((item.kind !== "report" && item.kind !== "sighting") || !item.sourceGroup) {
      yield item;
      continue;
    }
    const { sourceGroup: group, ...rest } = item;
    const reason = !viewer.groupIds.includes(group.id)
      ? `${group.label} is not a sharing group of this hub that your organisation may use`
      : group.withinFeedAudience && !feed.defaultAudienceGroups.includes(group.id)
        ? `${group.label} within distribution 1 (this community) means its members within the feed's ` +
          "audience: the feed's default audience must name the group"
        : undefined;
    if (reason) yield { kind: "rejected", ref: item.ref, value: item.value, reason };
    else yield { ...rest, audienceOrgIds: [], audienceGroupIds: rest.tlp === Tlp.RED ? [] : [group.id] };
  }
}
