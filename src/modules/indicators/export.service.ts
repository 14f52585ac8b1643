import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import { organizations } from "../access/access.table";
import { ONWARD_SHARABLE, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { observables, reports, sightings } from "./indicators.table";
import { liveVisibleReports, liveVisibleSightings, reportConditions, typeCondition } from "./indicators.service";
import type { IndicatorFilter } from "./indicators.input";
import type { ObservableType } from "./normalize";
import {
  HUB_STIX_NAMESPACE,
  identityFor,
  identityId,
  patternFor,
  scoObject,
  stixBundle,
  stixTimestamp,
  TLP2_MARKING_ID,
  tlp2MarkingDefinition,
  uuidv5,
} from "./stix";

const BATCH = 1000;

export interface ExportOptions {
  /** Leave out AMBER_STRICT and RED: the export is meant to be passed on. Default true. */
  onwardSharing: boolean;
  /** Stop after this many reports (the GraphQL field caps it; the HTTP export does not). */
  limit?: number;
  /** The same filter as `indicators`, applied to the exported reports. */
  filter?: IndicatorFilter | null;
}

/** The STIX indicator id of a report: its own id when it came from STIX, else derived from the report. */
const indicatorIdOf = (r: { id: number; stixId: string | null }) =>
  r.stixId?.startsWith("indicator--") ? r.stixId : `indicator--${uuidv5(`report:${r.id}`, HUB_STIX_NAMESPACE)}`;

/**
 * Streams a STIX 2.1 bundle of what the viewer may see: for each visible live report an
 * `indicator` (pattern, confidence, validity, labels, kill chain, TLP 2.0 marking, creator), the
 * cyber-observable it is about, the viewer-visible sightings of it, the owners' identities and
 * the TLP 2.0 marking definitions used. Reads in keyset batches, so memory stays flat whatever
 * the size. With `onwardSharing`, AMBER_STRICT and RED records stay out.
 */
export function exportStix(db: Db, viewer: ViewerIdentity, opts: ExportOptions): AsyncIterable<string> {
  return stixBundle(exportObjects(db, viewer, opts));
}

async function* exportObjects(db: Db, viewer: ViewerIdentity, opts: ExportOptions): AsyncIterable<object> {
  const levels = opts.onwardSharing ? ONWARD_SHARABLE : null;
  const seenOrgs = new Set<string>();
  const seenScos = new Set<string>();
  const seenMarkings = new Set<Tlp>();
  // Observables whose sightings went out already (one number each: ~8 MB per million).
  const covered = new Set<number>();
  let after = 0;
  let emitted = 0;
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  while (emitted < limit) {
    const batch = await db
      .select({ report: reports, observable: observables })
      .from(reports)
      .innerJoin(observables, eq(observables.id, reports.observableId))
      .where(
        and(
          gt(reports.id, after),
          liveVisibleReports(viewer),
          levels ? inArray(reports.tlp, [...levels]) : undefined,
          typeCondition(opts.filter),
          ...reportConditions(opts.filter),
        ),
      )
      .orderBy(asc(reports.id))
      .limit(Math.min(BATCH, limit - emitted));
    if (batch.length === 0) break;
    after = batch.at(-1)?.report.id ?? after;
    emitted += batch.length;

    const newOrgs = [...new Set(batch.map((b) => b.report.ownerOrgId))].filter((id) => !seenOrgs.has(id));
    if (newOrgs.length) {
      for (const o of await db.select().from(organizations).where(inArray(organizations.id, newOrgs))) {
        seenOrgs.add(o.id);
        yield identityFor({ id: o.id, name: o.name, kind: o.kind, createdAt: o.createdAt });
      }
    }
    // Sightings go with the first exported indicator of their observable (sighting_of_ref).
    const firstIndicatorOf = new Map<number, string>();
    for (const { report: r, observable: o } of batch) {
      const tlp = r.tlp as Tlp;
      if (!seenMarkings.has(tlp)) {
        seenMarkings.add(tlp);
        yield tlp2MarkingDefinition(tlp);
      }
      const type = o.type as ObservableType;
      if (!seenScos.has(o.stixId)) {
        const sco = scoObject(type, o.value);
        if (sco) {
          seenScos.add(o.stixId);
          yield sco;
        }
      }
      const created = stixTimestamp(r.createdAt);
      const modified = stixTimestamp(r.stixModified ?? r.updatedAt);
      const indicatorId = indicatorIdOf(r);
      if (!covered.has(o.id) && !firstIndicatorOf.has(o.id)) firstIndicatorOf.set(o.id, indicatorId);
      yield {
        type: "indicator",
        spec_version: "2.1",
        id: indicatorId,
        created_by_ref: identityId(r.ownerOrgId),
        created,
        modified: modified < created ? created : modified,
        pattern: patternFor(type, o.value),
        pattern_type: "stix",
        valid_from: stixTimestamp(r.validFrom ?? r.firstSeen ?? r.createdAt),
        ...(r.validUntil && r.validUntil > (r.validFrom ?? r.createdAt)
          ? { valid_until: stixTimestamp(r.validUntil) }
          : {}),
        ...(r.confidence !== null ? { confidence: r.confidence } : {}),
        ...(r.labels.length ? { labels: r.labels } : {}),
        ...(r.killChainPhases?.length
          ? {
              kill_chain_phases: r.killChainPhases.map((k) => ({
                kill_chain_name: k.killChainName,
                phase_name: k.phaseName,
              })),
            }
          : {}),
        ...(r.description ? { description: r.description } : {}),
        object_marking_refs: [TLP2_MARKING_ID[tlp]],
      };
    }
    const observableIds = [...firstIndicatorOf.keys()];
    for (const id of observableIds) covered.add(id);
    if (observableIds.length === 0) continue;
    const visibleSightings = await db
      .select()
      .from(sightings)
      .where(
        and(
          inArray(sightings.observableId, observableIds),
          liveVisibleSightings(viewer),
          levels ? inArray(sightings.tlp, [...levels]) : undefined,
        ),
      )
      .orderBy(asc(sightings.id));
    const sightingOrgs = [...new Set(visibleSightings.map((x) => x.ownerOrgId))].filter((id) => !seenOrgs.has(id));
    if (sightingOrgs.length) {
      for (const o of await db.select().from(organizations).where(inArray(organizations.id, sightingOrgs))) {
        seenOrgs.add(o.id);
        yield identityFor({ id: o.id, name: o.name, kind: o.kind, createdAt: o.createdAt });
      }
    }
    for (const s of visibleSightings) {
      const tlp = s.tlp as Tlp;
      if (!seenMarkings.has(tlp)) {
        seenMarkings.add(tlp);
        yield tlp2MarkingDefinition(tlp);
      }
      const created = stixTimestamp(s.createdAt);
      const modified = stixTimestamp(s.updatedAt);
      yield {
        type: "sighting",
        spec_version: "2.1",
        id: s.stixId?.startsWith("sighting--")
          ? s.stixId
          : `sighting--${uuidv5(`sighting:${s.id}`, HUB_STIX_NAMESPACE)}`,
        created_by_ref: identityId(s.ownerOrgId),
        created,
        modified: modified < created ? created : modified,
        sighting_of_ref: firstIndicatorOf.get(s.observableId),
        count: s.count,
        ...(s.firstSeen ? { first_seen: stixTimestamp(s.firstSeen) } : {}),
        ...(s.lastSeen && (!s.firstSeen || s.lastSeen >= s.firstSeen) ? { last_seen: stixTimestamp(s.lastSeen) } : {}),
        where_sighted_refs: [identityId(s.ownerOrgId)],
        object_marking_refs: [TLP2_MARKING_ID[tlp]],
      };
    }
  }
}
