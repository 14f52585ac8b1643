import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";
import { badInput } from "../../shared/errors";
import { IncidentSeverity, INCIDENT_SEVERITIES } from "./incidents.enums";

/**
 * The taxonomies incidents are classified with, read once when this module loads (so a missing or
 * changed file stops the start instead of failing the first write): the TF-CSIRT/ENISA Reference
 * Security Incident Taxonomy (class = predicate, type = entry) and the NCISS `priority-level`
 * MISP taxonomy for severity. Read in place from `TAXONOMY_DIR` (src/config.ts; by default
 * `../shared/fixtures/taxonomies/` next to the repo),
 * as the demo world reads its feeds; never copied, so the hub validates against the published file.
 */
export const TAXONOMY_DIR = process.env.TAXONOMY_DIR
  ? resolve(process.env.TAXONOMY_DIR)
  : resolve(import.meta.dirname, "../../../../shared/fixtures/taxonomies");

const Entry = z.object({ value: z.string(), expanded: z.string().optional(), description: z.string().optional() });
const RsitFile = z.object({
  namespace: z.string(),
  version: z.number(),
  predicates: z.array(Entry),
  values: z.array(z.object({ predicate: z.string(), entry: z.array(Entry) })),
});
const PriorityFile = z.object({
  namespace: z.literal("priority-level"),
  predicates: z.array(Entry.extend({ colour: z.string(), numerical_value: z.number() })),
});

export interface TaxonomyTerm {
  readonly value: string;
  readonly expanded: string;
  readonly description: string;
}
export interface RsitClassTerm extends TaxonomyTerm {
  readonly types: readonly TaxonomyTerm[];
}
export interface PriorityLevelTerm extends TaxonomyTerm {
  readonly severity: IncidentSeverity;
  readonly colour: string;
  readonly numericalValue: number;
}

const term = (e: z.infer<typeof Entry>): TaxonomyTerm => ({
  value: e.value,
  expanded: e.expanded ?? e.value,
  description: e.description ?? "",
});

function load() {
  const rsit = RsitFile.parse(JSON.parse(readFileSync(resolve(TAXONOMY_DIR, "enisa-rsit/machinev1.json"), "utf8")));
  const classes: RsitClassTerm[] = rsit.predicates.map((p) => ({
    ...term(p),
    types: (rsit.values.find((v) => v.predicate === p.value)?.entry ?? []).map(term),
  }));
  const priority = PriorityFile.parse(
    JSON.parse(readFileSync(resolve(TAXONOMY_DIR, "misp-taxonomies/priority-level.machinetag.json"), "utf8")),
  );
  // The GraphQL enum spells the levels once; the file gives their names, descriptions and colours.
  // Both must list the same levels, or the hub refuses to start.
  const levels = INCIDENT_SEVERITIES.map((severity): PriorityLevelTerm => {
    const value = severity.toLowerCase().replaceAll("_", "-");
    const p = priority.predicates.find((x) => x.value === value);
    if (!p) throw new Error(`priority-level taxonomy has no level ${value}`);
    return { ...term(p), severity, colour: p.colour, numericalValue: p.numerical_value };
  }).sort((a, b) => a.numericalValue - b.numericalValue);
  if (priority.predicates.length !== levels.length)
    throw new Error("priority-level taxonomy lists levels the hub does not know");
  return { rsitVersion: rsit.version, classes, levels };
}

export const TAXONOMY = load();

const CLASSES = new Map(TAXONOMY.classes.map((c) => [c.value, c]));
const LEVELS = new Map(TAXONOMY.levels.map((l) => [l.severity, l]));

/** The priority level (with colour) of a severity. */
export function priorityLevel(s: IncidentSeverity): PriorityLevelTerm {
  const l = LEVELS.get(s);
  if (!l) throw new Error(`no priority level for ${s}`);
  return l;
}

/** Checks an RSIT class and type; BAD_USER_INPUT listing the valid values otherwise. */
export function checkRsit(rsitClass: string, rsitType: string, field = "input"): void {
  const c = CLASSES.get(rsitClass);
  if (!c)
    throw badInput(
      `${field}.rsitClass`,
      `unknown RSIT class ${JSON.stringify(rsitClass)}; valid classes: ${[...CLASSES.keys()].join(", ")}`,
    );
  if (!c.types.some((t) => t.value === rsitType))
    throw badInput(
      `${field}.rsitType`,
      `unknown type ${JSON.stringify(rsitType)} for RSIT class ${rsitClass}; valid types: ${c.types.map((t) => t.value).join(", ")}`,
    );
}

export function rsitClassTerm(value: string): RsitClassTerm | null {
  return CLASSES.get(value) ?? null;
}

export { IncidentSeverity };
