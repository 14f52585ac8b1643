import { and, eq, inArray, sql } from "drizzle-orm";
import type { Tx } from "../../db/client";
import { rowsOf } from "../../shared/rows";
import { TLP_LEVELS, visibleTo, type Tlp } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { diff } from "../history";
import { threatActors } from "../incidents/incidents.table";
import { appendChanges, ChangeKind, prevMarkingOf, Stream, type Change } from "../realtime";
import type { StixAttributionItem } from "../indicators/ingest.types";
import {
  AnalyticConfidence,
  ANALYTIC_CONFIDENCES,
  AssessmentStatus,
  LIKELIHOODS,
  RevisionAction,
  SubjectKind,
  type Likelihood,
} from "./assessments.enums";
import { assessmentRevisions, assessments } from "./assessments.table";
import {
  DEFAULT_IMPORT_CONFIDENCE,
  EVIDENCE_SOURCE,
  likelihoodOfConfidence,
  stateOfRow,
  type AssessmentRow,
  type AssessmentState,
} from "./state";

/**
 * STIX import of attributions (DESIGN section 7, issue 6 section 4): `attributed-to`
 * relationships (campaign -> intrusion set or threat actor, intrusion set -> threat actor) become
 * assessments owned by the feed's organisation, and `revoked-by` between intrusion sets / threat
 * actors retires the hub's actor. The STIX parser hands the objects over as `stix-attribution`
 * items; the ingest gives them to one StixAttributionImport and calls `write` once per batch in
 * its transaction, and once more at the end with `final`.
 *
 * Mapping:
 * - the relationship's id is the assessment's STIX id (per owner organisation), so a re-import
 *   of the same version changes nothing, a newer `modified` revises it (one REVISE revision
 *   with the fields that changed), an older one is ignored; `revoked: true` is a WITHDRAW
 *   revision whose reason names the STIX revocation (a relationship first seen revoked is
 *   created and withdrawn: two revisions);
 * - likelihood and analytic confidence: the hub's own `x_hub_likelihood` /
 *   `x_hub_analytic_confidence` when present (what the hub's export writes, so a round trip keeps
 *   both); else the band `confidence` falls in (`likelihoodOfConfidence`) with LOW analytic
 *   confidence; without `confidence` (ATT&CK has none) ROUGHLY_EVEN_CHANCE, LOW;
 * - status PROVISIONAL, next review IMPORT_REVIEW_DAYS after the import;
 * - rationale: the relationship's description, else a sentence naming both ends and the ids;
 *   evidence references: the relationship's external references (url, else source and text);
 * - marking: the TLP of the relationship's `object_marking_refs` (TLP 1.0 or 2.0, as for
 *   indicators) or the feed's default, with the feed's default audience;
 * - the actors: an actor the feed's organisation may see with the object's STIX id, else (for
 *   an object not itself revoked) one of the same kind with its name or an alias
 *   (case-insensitive), else a new actor owned by the feed's organisation, with the object's
 *   aliases, marked with the object's own TLP, else the strictest of the relationships naming it,
 *   else the feed's default. A revoked object is matched by STIX id only (ATT&CK's APT34 is
 *   an alias of OilRig, which replaces it).
 *
 * Everything is written set-based: a handful of statements per batch whatever its size.
 */

/** How long after import an imported (provisional) assessment is due for review. */
export const IMPORT_REVIEW_DAYS = 90;
/** Objects of one ingest remembered for resolving references; past this a relationship's end is looked up in the hub. */
const MAX_REMEMBERED = 100_000;
/** Relationships waiting for their ends, at most. */
const MAX_PENDING = 100_000;
const MAX_REFERENCES = 100;
const ROWS_PER_STATEMENT = 1000;

export interface AttributionImportCounts {
  assessments: { created: number; updated: number; unchanged: number; withdrawn: number };
  actors: { created: number; revoked: number };
}

export interface AttributionFeed {
  ownerOrgId: string;
  defaultTlp: string;
  defaultAudienceOrgs: string[];
  defaultAudienceGroups: string[];
}

export interface AttributionProblem {
  ref: string;
  reason: string;
}

const STIX_ID = /^([a-z][a-z0-9-]*)--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ACTOR_TYPES = new Set(["intrusion-set", "threat-actor"]);

interface Sdo {
  ref: string;
  type: "campaign" | "intrusion-set" | "threat-actor";
  id: string;
  name: string;
  aliases: string[];
  description: string;
  revoked: boolean;
  modified: string | null;
  tlp: Tlp | undefined;
}

interface Rel {
  ref: string;
  type: "attributed-to" | "revoked-by";
  id: string;
  source: string;
  target: string;
  modified: string | null;
  revoked: boolean;
  description: string | null;
  confidence: number | null;
  likelihood: Likelihood | null;
  analyticConfidence: AnalyticConfidence | null;
  references: string[];
  tlp: Tlp | undefined;
}

const str = (v: unknown): string | null => (typeof v === "string" && v.trim() ? v.trim() : null);
const noNul = (v: string) => v.replaceAll("\u0000", "");
const typeOf = (id: string) => STIX_ID.exec(id)?.[1];

function time(v: unknown): string | null {
  if (typeof v !== "string") return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An enum value from the hub's own spelling ("LIKELY") or the taxonomy's ("roughly-even-chance"). */
function enumValue<T extends string>(values: readonly T[], v: unknown): T | null {
  if (typeof v !== "string") return null;
  const u = v.trim().toUpperCase().replaceAll("-", "_").replaceAll(" ", "_");
  return values.find((x) => x === u) ?? null;
}

function references(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  const out = new Set<string>();
  for (const r of v) {
    if (!r || typeof r !== "object") continue;
    const e = r as Record<string, unknown>;
    // The hub's own export writes a free reference under source `evidence`: read back as it was.
    const text =
      str(e.url) ??
      (str(e.source_name) === EVIDENCE_SOURCE ? str(e.description) : null) ??
      ([str(e.source_name), str(e.external_id) ?? str(e.description)].filter(Boolean).join(": ") || null);
    if (text) out.add(noNul(text).slice(0, 2000));
    if (out.size >= MAX_REFERENCES) break;
  }
  return [...out];
}

const strictest = (levels: (Tlp | undefined)[]): Tlp | undefined =>
  levels.reduce<Tlp | undefined>(
    (a, b) => (b === undefined ? a : a === undefined || TLP_LEVELS.indexOf(b) > TLP_LEVELS.indexOf(a) ? b : a),
    undefined,
  );

const actorKind = (t: string) => (t === "intrusion-set" ? "INTRUSION_SET" : "THREAT_ACTOR");

export class StixAttributionImport {
  readonly counts: AttributionImportCounts = {
    assessments: { created: 0, updated: 0, unchanged: 0, withdrawn: 0 },
    actors: { created: 0, revoked: 0 },
  };
  private readonly sdos = new Map<string, Sdo>();
  /** STIX id -> the hub actor it resolved to in this ingest. */
  private readonly actors = new Map<string, string>();
  private pending: Rel[] = [];
  /** Objects some relationship of this ingest named; the others are reported as skipped at the end. */
  private readonly named = new Set<string>();

  constructor(
    private readonly viewer: ViewerIdentity,
    private readonly feed: AttributionFeed,
    private readonly reject: (p: AttributionProblem) => void,
    private readonly skip: (p: AttributionProblem) => void,
  ) {}

  /** Takes one item from the parser: remembers an object, queues a relationship, or says why not. */
  add(item: StixAttributionItem): void {
    const o = item.object;
    const type = str(o.type);
    const id = str(o.id);
    if (!type || !id || typeOf(id) !== type) return this.reject({ ref: item.ref, reason: `${type}: malformed id` });
    if (type === "relationship") return this.addRelationship(item, id);
    const name = str(o.name);
    if (!name) return this.reject({ ref: item.ref, reason: `${type} has no name` });
    if (this.sdos.size >= MAX_REMEMBERED && !this.sdos.has(id)) return;
    const prev = this.sdos.get(id);
    const modified = time(o.modified);
    if (prev && prev.modified && modified && prev.modified > modified) return;
    const aliases = Array.isArray(o.aliases) ? o.aliases.map(str).filter((a): a is string => !!a) : [];
    this.sdos.set(id, {
      ref: item.ref,
      type: type as Sdo["type"],
      id,
      name: noNul(name).slice(0, 300),
      aliases: aliases.map((a) => noNul(a).slice(0, 200)).slice(0, 100),
      description: noNul(str(o.description) ?? "").slice(0, 20_000),
      revoked: o.revoked === true,
      modified,
      tlp: item.tlp,
    });
  }

  private addRelationship(item: StixAttributionItem, id: string) {
    const o = item.object;
    const source = str(o.source_ref) ?? "";
    const target = str(o.target_ref) ?? "";
    const type = o.relationship_type === "revoked-by" ? "revoked-by" : "attributed-to";
    const [st, tt] = [typeOf(source), typeOf(target)];
    if (!st || !tt)
      return this.reject({ ref: item.ref, reason: `${type} relationship without source_ref or target_ref` });
    const supported =
      type === "revoked-by"
        ? ACTOR_TYPES.has(st) && ACTOR_TYPES.has(tt)
        : (st === "campaign" && ACTOR_TYPES.has(tt)) || (st === "intrusion-set" && tt === "threat-actor");
    if (!supported)
      return this.skip({
        ref: item.ref,
        reason:
          type === "revoked-by"
            ? `revoked-by from ${st} to ${tt}: only intrusion sets and threat actors are revoked here`
            : `attributed-to from ${st} to ${tt}: the hub attributes campaigns to intrusion sets or threat actors and intrusion sets to threat actors`,
      });
    if (this.pending.length >= MAX_PENDING)
      return this.reject({ ref: item.ref, reason: `more than ${MAX_PENDING} attribution relationships waiting` });
    const confidence = typeof o.confidence === "number" && Number.isInteger(o.confidence) ? o.confidence : null;
    if (confidence !== null && (confidence < 0 || confidence > 100))
      return this.reject({ ref: item.ref, reason: `confidence must be an integer 0-100, not ${confidence}` });
    this.named.add(source).add(target);
    this.pending.push({
      ref: item.ref,
      type,
      id,
      source,
      target,
      modified: time(o.modified),
      revoked: o.revoked === true,
      description: str(o.description) ? noNul(str(o.description) ?? "").slice(0, 20_000) : null,
      confidence,
      likelihood: enumValue(LIKELIHOODS, o.x_hub_likelihood),
      analyticConfidence: enumValue(ANALYTIC_CONFIDENCES, o.x_hub_analytic_confidence),
      references: references(o.external_references),
      tlp: item.tlp,
    });
  }

  /**
   * Writes the relationships whose ends are known (objects of this ingest, or actors already
   * resolved); the others wait. With `final`, the rest are resolved against the hub (actors the
   * feed's organisation may see by STIX id, campaigns of its own assessments) or rejected.
   */
  async write(tx: Tx, final: boolean): Promise<void> {
    if (final)
      for (const o of this.sdos.values())
        if (!this.named.has(o.id))
          this.skip({
            ref: o.ref,
            reason: `${o.type} "${o.name}" is named by no attributed-to or revoked-by relationship`,
          });
    const known = (ref: string) => this.sdos.has(ref) || this.actors.has(ref);
    const ready = final ? this.pending : this.pending.filter((r) => known(r.source) && known(r.target));
    this.pending = final ? [] : this.pending.filter((r) => !(known(r.source) && known(r.target)));
    if (!ready.length) return;
    // One version per relationship id: the latest.
    const byId = new Map<string, Rel>();
    for (const r of ready) {
      const prev = byId.get(r.id);
      if (!prev || !prev.modified || (r.modified && r.modified >= prev.modified)) byId.set(r.id, r);
    }
    const rels = [...byId.values()];
    await this.resolveActors(tx, rels);
    const campaigns = final ? await this.knownCampaigns(tx, rels) : new Map<string, string>();
    const usable: Rel[] = [];
    for (const r of rels) {
      const missing = [r.source, r.target].find(
        (ref) =>
          !(ACTOR_TYPES.has(typeOf(ref) ?? "") ? this.actors.has(ref) : this.sdos.has(ref) || campaigns.has(ref)),
      );
      if (missing) this.reject({ ref: r.ref, reason: `${r.type}: ${missing} is neither in the bundle nor known here` });
      else if (this.actors.get(r.source) === this.actors.get(r.target))
        this.reject({ ref: r.ref, reason: `${r.type}: ${r.source} and ${r.target} are the same actor here` });
      else usable.push(r);
    }
    await this.revoke(
      tx,
      usable.filter((r) => r.type === "revoked-by"),
    );
    const attributions = usable.filter((r) => r.type === "attributed-to");
    for (let i = 0; i < attributions.length; i += ROWS_PER_STATEMENT)
      await this.writeAssessments(tx, attributions.slice(i, i + ROWS_PER_STATEMENT), campaigns);
  }

  private get audience() {
    return { audienceOrgs: this.feed.defaultAudienceOrgs, audienceGroups: this.feed.defaultAudienceGroups };
  }

  /** Matches (or creates) the hub actor of every actor end not resolved yet, set-based. */
  private async resolveActors(tx: Tx, rels: Rel[]): Promise<void> {
    const wanted = new Map<string, Tlp[]>();
    for (const r of rels)
      for (const ref of [r.source, r.target])
        if (ACTOR_TYPES.has(typeOf(ref) ?? "") && !this.actors.has(ref))
          wanted.set(ref, [...(wanted.get(ref) ?? []), ...(r.tlp ? [r.tlp] : [])]);
    if (!wanted.size) return;
    const lookups = [...wanted.keys()].map((id, n) => {
      const sdo = this.sdos.get(id);
      const names = sdo && !sdo.revoked ? [...new Set([sdo.name, ...sdo.aliases].map((x) => x.toLowerCase()))] : [];
      return { n, stix_id: id, kind: actorKind(typeOf(id) ?? ""), names };
    });
    // The same per-name locks as createThreatActor: concurrent creations of one name wait.
    const allNames = [...new Set(lookups.flatMap((l) => l.names))].sort();
    if (allNames.length)
      await tx.execute(
        sql`select pg_advisory_xact_lock(hashtext('threat-actor:' || n)) from unnest(${`{${allNames.map((n) => JSON.stringify(n)).join(",")}}`}::text[]) n order by n`,
      );
    const t = threatActors;
    const found = rowsOf<{ n: number; id: string | null }>(
      await tx.execute(sql`
        select x.n, coalesce(
          (select ${t.id} from ${t} where ${t.stixId} = x.stix_id and ${visibleTo(this.viewer, t)}
            order by (${t.ownerOrgId} = ${this.feed.ownerOrgId}::uuid) desc, ${t.createdAt}, ${t.id} limit 1),
          (select ${t.id} from ${t} where cardinality(x.names) > 0 and ${t.namesLower} && x.names
            and ${t.kind} = x.kind::actor_kind and ${t.revokedAt} is null and ${visibleTo(this.viewer, t)}
            order by (${t.ownerOrgId} = ${this.feed.ownerOrgId}::uuid) desc, ${t.createdAt}, ${t.id} limit 1)) as id
        from jsonb_to_recordset(${JSON.stringify(lookups)}::jsonb) as x(n integer, stix_id text, kind text, names text[])`),
    );
    const create: (typeof threatActors.$inferInsert)[] = [];
    for (const { n, id } of found) {
      const l = lookups[n];
      if (!l) continue;
      if (id) {
        this.actors.set(l.stix_id, id);
        continue;
      }
      const sdo = this.sdos.get(l.stix_id);
      if (!sdo) continue; // only known by id, and not here: the relationship is rejected
      const aliases = [...new Set(sdo.aliases.filter((a) => a.toLowerCase() !== sdo.name.toLowerCase()))];
      create.push({
        ownerOrgId: this.feed.ownerOrgId,
        tlp: sdo.tlp ?? strictest(wanted.get(sdo.id) ?? []) ?? (this.feed.defaultTlp as Tlp),
        ...this.audience,
        kind: actorKind(sdo.type),
        name: sdo.name,
        aliases,
        namesLower: [...new Set([sdo.name, ...aliases].map((a) => a.toLowerCase()))],
        description: sdo.description,
        stixId: sdo.id,
        createdBy: this.viewer.accountId,
        createdAt: new Date(),
      });
    }
    for (let i = 0; i < create.length; i += ROWS_PER_STATEMENT) {
      const rows = await tx
        .insert(threatActors)
        .values(create.slice(i, i + ROWS_PER_STATEMENT))
        .returning({ id: threatActors.id, stixId: threatActors.stixId });
      for (const r of rows) if (r.stixId) this.actors.set(r.stixId, r.id);
      this.counts.actors.created += rows.length;
    }
  }

  /** Campaign names for campaign ids not in this ingest: from the organisation's own assessments of them. */
  private async knownCampaigns(tx: Tx, rels: Rel[]): Promise<Map<string, string>> {
    const ids = [...new Set(rels.map((r) => r.source).filter((s) => typeOf(s) === "campaign" && !this.sdos.has(s)))];
    if (!ids.length) return new Map();
    const rows = await tx
      .selectDistinctOn([assessments.subjectStixId], { id: assessments.subjectStixId, name: assessments.subjectName })
      .from(assessments)
      .where(and(eq(assessments.ownerOrgId, this.feed.ownerOrgId), inArray(assessments.subjectStixId, ids)));
    return new Map(rows.flatMap((r) => (r.id && r.name ? [[r.id, r.name] as const] : [])));
  }

  /** `revoked-by`: the feed organisation's own actor is retired and points at its replacement. */
  private async revoke(tx: Tx, rels: Rel[]): Promise<void> {
    const pairs = rels.flatMap((r) => {
      const [from, to] = [this.actors.get(r.source), this.actors.get(r.target)];
      return from && to ? [{ from, to, at: this.sdos.get(r.source)?.modified ?? r.modified }] : [];
    });
    if (!pairs.length) return;
    const t = threatActors;
    const done = rowsOf<{ id: string }>(
      await tx.execute(sql`
        update ${t} set revoked_at = coalesce(${t.revokedAt}, x.at, now()), replaced_by_id = x.to_id
        from jsonb_to_recordset(${JSON.stringify(pairs.map((p) => ({ from_id: p.from, to_id: p.to, at: p.at })))}::jsonb)
          as x(from_id uuid, to_id uuid, at timestamptz)
        where ${t.id} = x.from_id and ${t.ownerOrgId} = ${this.feed.ownerOrgId}::uuid
          and (${t.revokedAt} is null or ${t.replacedById} is distinct from x.to_id)
        returning ${t.id}`),
    );
    this.counts.actors.revoked += done.length;
  }

  private subjectOf(r: Rel, campaigns: Map<string, string>) {
    if (typeOf(r.source) === "campaign")
      return {
        subjectKind: SubjectKind.CAMPAIGN,
        subjectIncidentId: null,
        subjectActorId: null,
        subjectName: this.sdos.get(r.source)?.name ?? campaigns.get(r.source) ?? r.source,
        subjectStixId: r.source,
      };
    return {
      subjectKind: SubjectKind.INTRUSION_SET,
      subjectIncidentId: null,
      subjectActorId: this.actors.get(r.source) ?? null,
      subjectName: null,
      subjectStixId: null,
    };
  }

  private nameOf(ref: string, campaigns: Map<string, string>) {
    const name = this.sdos.get(ref)?.name ?? campaigns.get(ref);
    return name ? `${typeOf(ref)} "${name}" (${ref})` : ref;
  }

  /** The state a relationship says, for an assessment created now or revised from `cur`. */
  private stateOf(r: Rel, campaigns: Map<string, string>, cur: AssessmentState | null): AssessmentState {
    const likelihood =
      r.likelihood ?? (r.confidence !== null ? likelihoodOfConfidence(r.confidence) : "ROUGHLY_EVEN_CHANCE");
    const review = new Date(Date.now() + IMPORT_REVIEW_DAYS * 86_400_000).toISOString();
    return {
      actorId: this.actors.get(r.target) ?? "",
      claimedState: cur?.claimedState ?? null,
      stateResponsibility: cur?.stateResponsibility ?? null,
      likelihood,
      analyticConfidence: r.analyticConfidence ?? DEFAULT_IMPORT_CONFIDENCE,
      rationale:
        r.description ??
        `Imported from STIX ${r.id}: ${this.nameOf(r.source, campaigns)} attributed to ${this.nameOf(r.target, campaigns)}; the relationship gives no description.`,
      evidenceIncidentIds: cur?.evidenceIncidentIds ?? [],
      evidenceIndicatorIds: cur?.evidenceIndicatorIds ?? [],
      evidenceReferences: r.references,
      status: cur?.status ?? AssessmentStatus.PROVISIONAL,
      nextReviewAt: cur ? cur.nextReviewAt : review,
      marking: {
        tlp: r.tlp ?? (this.feed.defaultTlp as Tlp),
        audienceOrgIds: this.feed.defaultAudienceOrgs,
        audienceGroupIds: this.feed.defaultAudienceGroups,
      },
    };
  }

  private async writeAssessments(tx: Tx, rels: Rel[], campaigns: Map<string, string>): Promise<void> {
    const existing = new Map(
      (
        await tx
          .select()
          .from(assessments)
          .where(
            and(
              eq(assessments.ownerOrgId, this.feed.ownerOrgId),
              inArray(
                assessments.stixId,
                rels.map((r) => r.id),
              ),
            ),
          )
          .for("update")
      ).map((a) => [a.stixId, a]),
    );
    const revocation = (r: Rel) =>
      `STIX revocation: ${r.id} is revoked${r.modified ? ` (version of ${r.modified})` : ""}`;
    type Revision = { action: RevisionAction; reason: string; state: AssessmentState };
    const creates: { rel: Rel; revisions: Revision[] }[] = [];
    const updates: { id: string; rel: Rel; revision: number; revisions: Revision[]; prev: AssessmentRow }[] = [];
    const changes: Change[] = [];
    for (const r of rels) {
      const row = existing.get(r.id);
      if (!row) {
        const first = this.stateOf(r, campaigns, null);
        const revisions: Revision[] = [
          { action: RevisionAction.CREATE, reason: `Imported from STIX ${r.id}`, state: first },
        ];
        if (r.revoked)
          revisions.push({
            action: RevisionAction.WITHDRAW,
            reason: revocation(r),
            state: { ...first, status: AssessmentStatus.WITHDRAWN, nextReviewAt: null },
          });
        creates.push({ rel: r, revisions });
        continue;
      }
      // One the organisation made in the hub (never imported: no STIX version) is its analysts' to
      // change; its own export coming back through a feed leaves it alone.
      if (!row.stixModified) {
        this.counts.assessments.unchanged++;
        continue;
      }
      const stored = row.stixModified.toISOString();
      const cur = stateOfRow(row);
      const withdraw = r.revoked && cur.status !== AssessmentStatus.WITHDRAWN;
      const newer = !r.modified || r.modified > stored;
      if (!newer && !(withdraw && r.modified === stored)) {
        this.counts.assessments.unchanged++;
        continue;
      }
      let next = this.stateOf(r, campaigns, cur);
      if (withdraw) next = { ...next, status: AssessmentStatus.WITHDRAWN, nextReviewAt: null };
      const changed = diff(cur, next);
      if (!changed.length) {
        this.counts.assessments.unchanged++;
        continue;
      }
      updates.push({
        id: row.id,
        rel: r,
        prev: row,
        revision: row.revision,
        revisions: [
          withdraw
            ? { action: RevisionAction.WITHDRAW, reason: revocation(r), state: next }
            : {
                action: RevisionAction.REVISE,
                reason: `STIX ${r.id} modified ${r.modified ?? "(no date)"} (was ${stored}): ${changed.map((c) => c.field).join(", ")} changed`,
                state: next,
              },
        ],
      });
    }

    const revisionRows: (typeof assessmentRevisions.$inferInsert)[] = [];
    const markingOf = (s: AssessmentState) => ({
      tlp: s.marking.tlp,
      audienceOrgs: s.marking.audienceOrgIds,
      audienceGroups: s.marking.audienceGroupIds,
    });
    const author = { authorAccountId: this.viewer.accountId, authorOrgId: this.viewer.organizationId };
    if (creates.length) {
      const inserted = await tx
        .insert(assessments)
        .values(
          creates.map(({ rel, revisions }) => {
            const s = (revisions.at(-1) ?? revisions[0])?.state as AssessmentState;
            return {
              ownerOrgId: this.feed.ownerOrgId,
              ...markingOf(s),
              ...this.subjectOf(rel, campaigns),
              actorId: s.actorId,
              claimedState: null,
              stateResponsibility: null,
              likelihood: s.likelihood,
              analyticConfidence: s.analyticConfidence,
              rationale: s.rationale,
              evidenceReferences: s.evidenceReferences,
              status: s.status,
              nextReviewAt: s.nextReviewAt ? new Date(s.nextReviewAt) : null,
              revision: revisions.length,
              stixId: rel.id,
              stixModified: rel.modified ? new Date(rel.modified) : null,
              createdBy: this.viewer.accountId,
              createdAt: sql`clock_timestamp()`,
              updatedAt: sql`clock_timestamp()`,
            };
          }),
        )
        .returning({ id: assessments.id, stixId: assessments.stixId, createdAt: assessments.createdAt });
      const byStix = new Map(inserted.map((i) => [i.stixId, i]));
      for (const c of creates) {
        const row = byStix.get(c.rel.id);
        if (!row) continue;
        c.revisions.forEach((rev, i) =>
          revisionRows.push({
            assessmentId: row.id,
            number: i + 1,
            ownerOrgId: this.feed.ownerOrgId,
            ...markingOf(rev.state),
            action: rev.action,
            reason: rev.reason,
            state: rev.state,
            ...author,
            recordedAt: row.createdAt,
          }),
        );
        this.counts.assessments.created++;
        if (c.rel.revoked) this.counts.assessments.withdrawn++;
        changes.push({ record: "assessment", id: row.id, subject: row.id, kind: ChangeKind.CREATED });
      }
    }
    if (updates.length) {
      const payload = updates.map((u) => {
        const s = u.revisions[0]?.state as AssessmentState;
        return {
          id: u.id,
          tlp: s.marking.tlp,
          audience_orgs: s.marking.audienceOrgIds,
          audience_groups: s.marking.audienceGroupIds,
          actor_id: s.actorId,
          likelihood: s.likelihood,
          analytic_confidence: s.analyticConfidence,
          rationale: s.rationale,
          evidence_references: s.evidenceReferences,
          status: s.status,
          next_review_at: s.nextReviewAt,
          stix_modified: u.rel.modified,
        };
      });
      const a = assessments;
      const updated = rowsOf<{ id: string; revision: number; updated_at: string | Date }>(
        await tx.execute(sql`
          update ${a} set tlp = x.tlp::tlp, audience_orgs = x.audience_orgs, audience_groups = x.audience_groups,
            actor_id = x.actor_id, likelihood = x.likelihood::likelihood,
            analytic_confidence = x.analytic_confidence::analytic_confidence, rationale = x.rationale,
            evidence_references = x.evidence_references, status = x.status::assessment_status,
            next_review_at = x.next_review_at, stix_modified = x.stix_modified,
            revision = ${a.revision} + 1, updated_at = clock_timestamp()
          from jsonb_to_recordset(${JSON.stringify(payload)}::jsonb) as x(id uuid, tlp text, audience_orgs uuid[],
            audience_groups uuid[], actor_id uuid, likelihood text, analytic_confidence text, rationale text,
            evidence_references text[], status text, next_review_at timestamptz, stix_modified timestamptz)
          where ${a.id} = x.id
          returning ${a.id} as id, ${a.revision} as revision, ${a.updatedAt} as updated_at`),
      );
      const byId = new Map(updated.map((u) => [u.id, u]));
      for (const u of updates) {
        const row = byId.get(u.id);
        const rev = u.revisions[0];
        if (!row || !rev) continue;
        revisionRows.push({
          assessmentId: u.id,
          number: row.revision,
          ownerOrgId: this.feed.ownerOrgId,
          ...markingOf(rev.state),
          action: rev.action,
          reason: rev.reason,
          state: rev.state,
          ...author,
          recordedAt: new Date(row.updated_at),
        });
        if (rev.action === RevisionAction.WITHDRAW) this.counts.assessments.withdrawn++;
        else this.counts.assessments.updated++;
        changes.push({
          record: "assessment",
          id: u.id,
          subject: u.id,
          kind: ChangeKind.UPDATED,
          prev: prevMarkingOf(u.prev),
        });
      }
    }
    if (revisionRows.length) await tx.insert(assessmentRevisions).values(revisionRows);
    // The outbox, as for assessments made through the API: live subscribers hear of these too.
    await appendChanges(tx, Stream.ASSESSMENT, changes);
  }
}
