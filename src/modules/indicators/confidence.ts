/**
 * The STIX 2.1 confidence scales (STIX Version 2.1, Appendix A "Confidence Scales"), converted
 * exactly as the appendix's tables say. Each table gives, for every value of the scale, the STIX
 * confidence value to use when converting the scale value to STIX, and the range of STIX values
 * (0-100) that converts to the scale value. "Not Specified" means the confidence property is
 * absent; on the Admiralty scale "6 - Truth cannot be judged" is that value.
 *
 * The appendix is one section with five tables: None/Low/Med/High, 0-10, Admiralty Credibility,
 * WEP (Words of Estimative Probability) and the DNI scale (ICD 203). The labels below are spelt
 * as the tables spell them, including the lower-case "likely" in "Highly likely/Almost Certain".
 */

export interface ScaleEntry {
  /** The scale value, as the appendix spells it. */
  readonly label: string;
  /** The STIX confidence value to use when converting this scale value to STIX. */
  readonly value: number;
  /** The range of STIX confidence values (inclusive) that converts to this scale value. */
  readonly min: number;
  readonly max: number;
}

/** What "Not Specified" (no confidence property) is called on each scale. */
export const NOT_SPECIFIED = "Not Specified";
export const ADMIRALTY_NOT_JUDGED = "6 - Truth cannot be judged";

export const NONE_LOW_MED_HIGH: readonly ScaleEntry[] = [
  { label: "None", value: 0, min: 0, max: 0 },
  { label: "Low", value: 15, min: 1, max: 29 },
  { label: "Med", value: 50, min: 30, max: 69 },
  { label: "High", value: 85, min: 70, max: 100 },
];

export const ZERO_TEN: readonly ScaleEntry[] = [
  { label: "0", value: 0, min: 0, max: 4 },
  { label: "1", value: 10, min: 5, max: 14 },
  { label: "2", value: 20, min: 15, max: 24 },
  { label: "3", value: 30, min: 25, max: 34 },
  { label: "4", value: 40, min: 35, max: 44 },
  { label: "5", value: 50, min: 45, max: 54 },
  { label: "6", value: 60, min: 55, max: 64 },
  { label: "7", value: 70, min: 65, max: 74 },
  { label: "8", value: 80, min: 75, max: 84 },
  { label: "9", value: 90, min: 85, max: 94 },
  { label: "10", value: 100, min: 95, max: 100 },
];

export const ADMIRALTY_CREDIBILITY: readonly ScaleEntry[] = [
  { label: "5 - Improbable", value: 10, min: 0, max: 19 },
  { label: "4 - Doubtful", value: 30, min: 20, max: 39 },
  { label: "3 - Possibly True", value: 50, min: 40, max: 59 },
  { label: "2 - Probably True", value: 70, min: 60, max: 79 },
  { label: "1 - Confirmed by other sources", value: 90, min: 80, max: 100 },
];

export const WEP: readonly ScaleEntry[] = [
  { label: "Impossible", value: 0, min: 0, max: 0 },
  { label: "Highly Unlikely/Almost Certainly Not", value: 10, min: 1, max: 19 },
  { label: "Unlikely/Probably Not", value: 30, min: 20, max: 39 },
  { label: "Even Chance", value: 50, min: 40, max: 59 },
  { label: "Likely/Probable", value: 70, min: 60, max: 79 },
  { label: "Highly likely/Almost Certain", value: 90, min: 80, max: 99 },
  { label: "Certain", value: 100, min: 100, max: 100 },
];

export const DNI: readonly ScaleEntry[] = [
  { label: "Almost No Chance / Remote", value: 5, min: 0, max: 9 },
  { label: "Very Unlikely / Highly Improbable", value: 15, min: 10, max: 19 },
  { label: "Unlikely / Improbable", value: 30, min: 20, max: 39 },
  { label: "Roughly Even Chance / Roughly Even Odds", value: 50, min: 40, max: 59 },
  { label: "Likely / Probable", value: 70, min: 60, max: 79 },
  { label: "Very Likely / Highly Probable", value: 85, min: 80, max: 89 },
  { label: "Almost Certain / Nearly Certain", value: 95, min: 90, max: 100 },
];

export type ConfidenceScale = "noneLowMedHigh" | "zeroTen" | "admiralty" | "wep" | "dni";

export const CONFIDENCE_SCALES: Readonly<Record<ConfidenceScale, readonly ScaleEntry[]>> = {
  noneLowMedHigh: NONE_LOW_MED_HIGH,
  zeroTen: ZERO_TEN,
  admiralty: ADMIRALTY_CREDIBILITY,
  wep: WEP,
  dni: DNI,
};

/** The label each scale uses for an absent confidence. */
const ABSENT: Readonly<Record<ConfidenceScale, string>> = {
  noneLowMedHigh: NOT_SPECIFIED,
  zeroTen: NOT_SPECIFIED,
  admiralty: ADMIRALTY_NOT_JUDGED,
  wep: NOT_SPECIFIED,
  dni: NOT_SPECIFIED,
};

export type ConfidenceScales = Record<ConfidenceScale, string>;

function checkConfidence(confidence: number): void {
  if (!Number.isInteger(confidence) || confidence < 0 || confidence > 100)
    throw new RangeError(`STIX confidence is an integer from 0 to 100, not ${confidence}`);
}

/** A STIX confidence (0-100) on one scale: the value whose range holds it. Absent → "Not Specified". */
export function toScale(scale: ConfidenceScale, confidence: number | null | undefined): string {
  if (confidence === null || confidence === undefined) return ABSENT[scale];
  checkConfidence(confidence);
  const entry = CONFIDENCE_SCALES[scale].find((e) => confidence >= e.min && confidence <= e.max);
  if (!entry) throw new Error(`confidence scale ${scale} has no range for ${confidence}`);
  return entry.label;
}

/** A STIX confidence (0-100) on every appendix scale. Absent (null) → "Not Specified" / Admiralty 6. */
export function toScales(confidence: number | null | undefined): ConfidenceScales {
  return {
    noneLowMedHigh: toScale("noneLowMedHigh", confidence),
    zeroTen: toScale("zeroTen", confidence),
    admiralty: toScale("admiralty", confidence),
    wep: toScale("wep", confidence),
    dni: toScale("dni", confidence),
  };
}

/** Case, spacing around "/" and "-" and runs of blanks do not matter when reading a label. */
function labelKey(label: string): string {
  return label
    .trim()
    .toLowerCase()
    .replace(/\s*([/-])\s*/g, "$1")
    .replace(/\s+/g, " ");
}

/**
 * A scale value converted to STIX confidence, using the value the appendix gives for it; null for
 * "Not Specified" and Admiralty "6 - Truth cannot be judged" (the confidence property is then
 * left out). Labels match regardless of case and spacing; on the Admiralty scale the digit alone
 * ("1".."6") is accepted too. Unknown labels throw a RangeError.
 */
export function fromScale(scale: ConfidenceScale, label: string): number | null {
  const key = labelKey(label);
  if (key === labelKey(ABSENT[scale])) return null;
  if (scale === "admiralty" && key === "6") return null;
  const entry = CONFIDENCE_SCALES[scale].find(
    (e) => labelKey(e.label) === key || (scale === "admiralty" && e.label.startsWith(`${key} -`)),
  );
  if (!entry) throw new RangeError(`"${label}" is not a value of the ${scale} confidence scale`);
  return entry.value;
}
