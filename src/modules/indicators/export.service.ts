import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { Db } from "../../db/client";
import type { Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { badInput } from "../../shared/errors";
import { assessmentStixObjects } from "../assessments/stix-export";
import { incidentStixObjects } from "../incidents/stix-export";
import { STIX_EXPORT_KINDS, StixExportKind } from "./indicators.enums";
import { observables, reports, sightings } from "./indicators.table";
import { liveVisibleReports, liveVisibleSightings, reportConditions, typeCondition } from "./indicators.service";
import type { IndicatorFilter } from "./indicators.input";
import type { ObservableType } from "./normalize";
import {
  HUB_STIX_NAMESPACE,
  identityId,
  patternFor,
  scoObject,
  stixBundle,
  stixTimestamp,
  TLP2_MARKING_ID,
  uuidv5,
} from "./stix";
import { StixExportScope } from "./stix-export-scope";

const BATCH = 1000;

export interface ExportOptions {
  /** Leave out AMBER_STRICT and RED: the export is meant to be passed on. Default true. */
  onwardSharing: boolean;
  /** Stop after this many reports, and as many assessments and incidents (the GraphQL field caps it; the HTTP export does not). */
  limit?: number;
  /** What goes in; default everything (indicators, assessments, incidents). */
  include?: readonly StixExportKind[];
  /** The same filter as `indicators`, applied to the exported reports. */
  filter?: IndicatorFilter | null;
}

/** The STIX indicator id of a report: its own id when it came from STIX, else derived from the report. */
const indicatorIdOf = (r: { id: number; stixId: string | null }) =>
  r.stixId?.startsWith("indicator--") ? r.stixId : `indicator--${uuidv5(`report:${r.id}`, HUB_STIX_NAMESPACE)}`;

/** The kinds named in a list (`INDICATORS`, `ASSESSMENTS`, `INCIDENTS`, any case), or BAD_USER_INPUT naming the field. */
export function exportKinds(names: readonly string[], field: string): StixExportKind[] {
  const kinds = names.map((n) => STIX_EXPORT_KINDS.find((k) => k === n.trim().toUpperCase()));
  const bad = names.find((_, i) => !kinds[i]);
  if (bad !== undefined || !names.length)
    throw badInput(field, `unknown kind ${JSON.stringify(bad ?? "")}; valid: ${STIX_EXPORT_KINDS.join(", ")}`);
  return [...new Set(kinds.filter((k): k is StixExportKind => !!k))];
}

/**
 * Streams a STIX 2.1 bundle of what the viewer may see: for each visible live report an
 * `indicator` (pattern, confidence, validity, labels, kill chain, TLP 2.0 marking, creator), the
 * cyber-observable it is about, the viewer-visible sightings of it; the visible assessments as
 * `attributed-to` relationships with what they refer to and their visible opinions
 * (assessments/stix-export.ts); the visible incidents (incidents/stix-export.ts); the owners'
 * identities and the TLP 2.0 marking definitions used. Reads in keyset batches, so memory stays
 * flat whatever the size. With `onwardSharing`, AMBER_STRICT and RED records stay out.
 */
export function exportStix(db: Db, viewer: ViewerIdentity, opts: ExportOptions): AsyncIterable<string> {
  return stixBundle(exportAll(new StixExportScope(db, viewer, opts.onwardSharing), opts));
}

async function* exportAll(scope: StixExportScope, opts: ExportOptions): AsyncIterable<object> {
  const include = new Set(opts.include ?? STIX_EXPORT_KINDS);
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  if (include.has(StixExportKind.INDICATORS)) yield* exportObjects(scope, opts);
  if (include.has(StixExportKind.ASSESSMENTS)) yield* assessmentStixObjects(scope, limit);
  if (include.has(StixExportKind.INCIDENTS)) yield* incidentStixObjects(scope, limit);
}

async function* exportObjects(scope: StixExportScope, opts: ExportOptions): AsyncIterable<object> {
  const { db, viewer, levels } = scope;
  const seenScos = new Set<string>();
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

    yield* scope.identities(batch.map((b) => b.report.ownerOrgId));
    // Sightings go with the first exported indicator of their observable (sighting_of_ref).
    const firstIndicatorOf = new Map<number, string>();
    for (const { report: r, observable: o } of batch) {
      const tlp = r.tlp as Tlp;
      yield* scope.marking(tlp);
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
    yield* scope.identities(visibleSightings.map((x) => x.ownerOrgId));
    for (const s of visibleSightings) {
      const tlp = s.tlp as Tlp;
      yield* scope.marking(tlp);
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
