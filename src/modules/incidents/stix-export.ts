import { and, asc, gt, inArray, type SQL } from "drizzle-orm";
import { visibleTo, type Tlp } from "../access/tlp";
import { HUB_STIX_NAMESPACE, identityId, stixTimestamp, TLP2_MARKING_ID, uuidv5 } from "../indicators/stix";
import type { StixExportScope } from "../indicators/stix-export-scope";
import { incidents, timelineEntries } from "./incidents.table";

const BATCH = 500;

type IncidentRow = typeof incidents.$inferSelect;
type TimelineRow = typeof timelineEntries.$inferSelect;

/** The STIX id of a hub incident: deterministic, so every export names it the same way. */
export const incidentStixId = (id: string) => `incident--${uuidv5(`incident:${id}`, HUB_STIX_NAMESPACE)}`;

const value = (enumValue: string) => enumValue.toLowerCase().replaceAll("_", "-");

/**
 * A hub incident as a STIX 2.1 `incident` SDO (a stub in STIX 2.1: name and description), with the
 * hub's classification in `x_hub_*` properties: RSIT class and type, the NCISS priority level
 * (`x_hub_severity`, as the `priority-level` taxonomy spells it), status, sectors, countries and the
 * occurred / detected / reported times.
 */
export function incidentObject(r: IncidentRow): object {
  const created = stixTimestamp(r.createdAt);
  const modified = stixTimestamp(r.updatedAt);
  return {
    type: "incident",
    spec_version: "2.1",
    id: incidentStixId(r.id),
    created_by_ref: identityId(r.ownerOrgId),
    created,
    modified: modified < created ? created : modified,
    name: r.title,
    ...(r.description ? { description: r.description } : {}),
    x_hub_rsit_class: r.rsitClass,
    x_hub_rsit_type: r.rsitType,
    x_hub_severity: value(r.severity),
    x_hub_status: value(r.status),
    ...(r.sectors.length ? { x_hub_sectors: r.sectors } : {}),
    ...(r.countries.length ? { x_hub_countries: r.countries } : {}),
    ...(r.occurredAt ? { x_hub_occurred: stixTimestamp(r.occurredAt) } : {}),
    ...(r.detectedAt ? { x_hub_detected: stixTimestamp(r.detectedAt) } : {}),
    ...(r.reportedAt ? { x_hub_reported: stixTimestamp(r.reportedAt) } : {}),
    object_marking_refs: [TLP2_MARKING_ID[r.tlp as Tlp]],
  };
}

/**
 * A timeline entry as a STIX `note` about its incident: the summary as content, the time of the
 * event in `x_hub_event_time` (a note's own times are when it was written), its own marking.
 */
export function timelineNote(e: TimelineRow): object {
  const created = stixTimestamp(e.createdAt);
  return {
    type: "note",
    spec_version: "2.1",
    id: `note--${uuidv5(`timeline:${e.id}`, HUB_STIX_NAMESPACE)}`,
    created_by_ref: identityId(e.ownerOrgId),
    created,
    modified: created,
    content: e.summary,
    object_refs: [incidentStixId(e.incidentId)],
    x_hub_event_time: stixTimestamp(e.eventAt),
    object_marking_refs: [TLP2_MARKING_ID[e.tlp as Tlp]],
  };
}

/**
 * The timeline entries of these (visible) incidents that the viewer may see, and that the export
 * may carry, as notes in event order, with their identities and marking definitions: one statement.
 */
async function* timelineNotes(scope: StixExportScope, incidentIds: string[]): AsyncIterable<object> {
  const entries = await scope.db
    .select()
    .from(timelineEntries)
    .where(
      and(
        inArray(timelineEntries.incidentId, incidentIds),
        visibleTo(scope.viewer, timelineEntries),
        scope.levels ? inArray(timelineEntries.tlp, scope.levels) : undefined,
      ),
    )
    .orderBy(asc(timelineEntries.incidentId), asc(timelineEntries.eventAt), asc(timelineEntries.id));
  yield* scope.identities(entries.map((e) => e.ownerOrgId));
  for (const e of entries) {
    yield* scope.marking(e.tlp as Tlp);
    yield timelineNote(e);
  }
}

/** An incident with its owner's identity and marking definition, unless the bundle has it. */
export async function* withIncident(scope: StixExportScope, r: IncidentRow): AsyncIterable<object> {
  if (!scope.once(incidentStixId(r.id))) return;
  yield* scope.identities([r.ownerOrgId]);
  yield* scope.marking(r.tlp as Tlp);
  yield incidentObject(r);
}

/**
 * The incidents the viewer may see (the access rule: `visibleTo`), at most `limit`, as STIX, in
 * keyset batches so memory stays flat, each batch followed by the timeline entries of its incidents
 * the viewer may see, as notes. With onward sharing only CLEAR, GREEN and AMBER ones.
 */
export async function* incidentStixObjects(scope: StixExportScope, limit: number): AsyncIterable<object> {
  let after: string | null = null;
  let emitted = 0;
  while (emitted < limit) {
    const where: (SQL | undefined)[] = [
      visibleTo(scope.viewer, incidents),
      scope.levels ? inArray(incidents.tlp, scope.levels) : undefined,
      after ? gt(incidents.id, after) : undefined,
    ];
    const batch = await scope.db
      .select()
      .from(incidents)
      .where(and(...where))
      .orderBy(asc(incidents.id))
      .limit(Math.min(BATCH, limit - emitted));
    if (!batch.length) return;
    after = batch.at(-1)?.id ?? after;
    emitted += batch.length;
    for (const r of batch) yield* withIncident(scope, r);
    yield* timelineNotes(
      scope,
      batch.map((r) => r.id),
    );
  }
}
