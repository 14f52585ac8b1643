import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import type { assessments, opinions } from "./assessments.table";
import { TAXONOMY_DIR } from "../incidents/taxonomy";
import {
  AnalyticConfidence,
  LIKELIHOODS,
  type AssessmentStatus,
  type Likelihood,
  type OpinionStance,
} from "./assessments.enums";

export type { StoredMarking } from "../history";
import type { StoredMarking } from "../history";

/** Everything a revision of an assessment can change: the whole state after that revision. */
export interface AssessmentState {
  actorId: string;
  claimedState: string | null;
  stateResponsibility: string | null;
  likelihood: Likelihood;
  analyticConfidence: AnalyticConfidence;
  rationale: string;
  evidenceIncidentIds: string[];
  evidenceIndicatorIds: number[];
  evidenceReferences: string[];
  status: AssessmentStatus;
  /** ISO 8601, or null. */
  nextReviewAt: string | null;
  marking: StoredMarking;
}

export interface OpinionState {
  stance: OpinionStance;
  confidence: number | null;
  comment: string;
  marking: StoredMarking;
}

/** A likelihood's band in percent, as the `estimative-language` taxonomy spells it ("55-80%"). */
export interface LikelihoodBand {
  likelihood: Likelihood;
  value: string;
  expanded: string;
  low: number;
  high: number;
}

const TaxonomyFile = z.object({
  values: z.array(
    z.object({
      predicate: z.string(),
      entry: z.array(z.object({ value: z.string(), expanded: z.string() })),
    }),
  ),
});
const StateResponsibilityFile = z.object({
  predicates: z.array(z.object({ value: z.string(), expanded: z.string().optional() })),
});

function load() {
  const dir = resolve(TAXONOMY_DIR, "misp-taxonomies");
  const estimative = TaxonomyFile.parse(
    JSON.parse(readFileSync(resolve(dir, "estimative-language.machinetag.json"), "utf8")),
  );
  const entries = estimative.values.find((v) => v.predicate === "likelihood-probability")?.entry ?? [];
  // The enum spells the terms once; the file gives their wording and bands, and both must agree.
  const bands = LIKELIHOODS.map((likelihood): LikelihoodBand => {
    const value = likelihood.toLowerCase().replaceAll("_", "-");
    const e = entries.find((x) => x.value === value);
    const m = e && /(\d+)\s*-\s*(\d+)\s*%/.exec(e.expanded);
    if (!e || !m) throw new Error(`estimative-language taxonomy has no band for ${value}`);
    return { likelihood, value, expanded: e.expanded, low: Number(m[1]), high: Number(m[2]) };
  });
  if (entries.length !== bands.length) throw new Error("estimative-language lists likelihoods the hub does not know");
  const states = StateResponsibilityFile.parse(
    JSON.parse(readFileSync(resolve(dir, "state-responsibility.machinetag.json"), "utf8")),
  );
  return {
    bands,
    // Two of the file's values end in a full stop ("state-prohibited."); the value stored and shown
    // is the file's own, and input may leave the stop off.
    stateResponsibility: states.predicates.map((p) => ({ value: p.value, expanded: p.expanded ?? p.value })),
  };
}

export const SCALES = load();
const BANDS = new Map(SCALES.bands.map((b) => [b.likelihood, b]));

export function likelihoodBand(l: Likelihood): LikelihoodBand {
  const b = BANDS.get(l);
  if (!b) throw new Error(`no band for ${l}`);
  return b;
}

/** The file's value for a state-responsibility level, accepting it with or without a final stop. */
export function stateResponsibilityValue(input: string): string | null {
  const v = input.trim().toLowerCase().replace(/\.$/, "");
  return SCALES.stateResponsibility.find((s) => s.value.replace(/\.$/, "") === v)?.value ?? null;
}

/**
 * How far a judgment held with each analytic confidence moves the STIX confidence away from 50
 * (no information either way): a likelihood held with low confidence says less than the same
 * likelihood held with high confidence.
 */
const WEIGHT: Record<AnalyticConfidence, number> = { LOW: 0.5, MODERATE: 0.75, HIGH: 1 };

/**
 * The STIX 2.1 `confidence` (0-100) of an assessment: the middle of its likelihood band, drawn
 * towards 50 by its analytic confidence, `round(50 + (mid - 50) * w)` with w = 1 (high), 0.75
 * (moderate), 0.5 (low). "Likely" (55-80 %, middle 67.5) is 68 held with high confidence, 63 with
 * moderate, 59 with low.
 */
export function stixConfidence(l: Likelihood, c: AnalyticConfidence): number {
  const b = likelihoodBand(l);
  return Math.round(50 + ((b.low + b.high) / 2 - 50) * WEIGHT[c]);
}

/**
 * A STIX confidence read back as a likelihood (import): the band it falls in, counting a value on
 * a boundary in the higher band, below the first band as the first, above the last as the last.
 */
export function likelihoodOfConfidence(confidence: number): Likelihood {
  let found: Likelihood = "ALMOST_NO_CHANCE";
  for (const b of SCALES.bands) if (confidence >= b.low) found = b.likelihood;
  return found;
}

export type AssessmentRow = typeof assessments.$inferSelect;

/** The `source_name` of the STIX external references that carry an assessment's free evidence references. */
export const EVIDENCE_SOURCE = "evidence";
export type OpinionRow = typeof opinions.$inferSelect;

/** The state an assessment row holds now (the same as its latest revision's). */
export function stateOfRow(r: AssessmentRow): AssessmentState {
  return {
    actorId: r.actorId,
    claimedState: r.claimedState,
    stateResponsibility: r.stateResponsibility,
    likelihood: r.likelihood as Likelihood,
    analyticConfidence: r.analyticConfidence,
    rationale: r.rationale,
    evidenceIncidentIds: r.evidenceIncidents,
    evidenceIndicatorIds: r.evidenceIndicators,
    evidenceReferences: r.evidenceReferences,
    status: r.status,
    nextReviewAt: r.nextReviewAt?.toISOString() ?? null,
    marking: { tlp: r.tlp, audienceOrgIds: r.audienceOrgs, audienceGroupIds: r.audienceGroups },
  };
}

export function stateOfOpinion(r: OpinionRow): OpinionState {
  return {
    stance: r.stance,
    confidence: r.confidence,
    comment: r.comment,
    marking: { tlp: r.tlp, audienceOrgIds: r.audienceOrgs, audienceGroupIds: r.audienceGroups },
  };
}

export const DEFAULT_IMPORT_CONFIDENCE = AnalyticConfidence.LOW;
