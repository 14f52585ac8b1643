/**
 * The demo world's incidents, threat actors and attribution assessments: all fictional (actors,
 * operations and the state "XZ", an ISO 3166 user-assigned code), at every TLP level, with
 * revisions and opinions, so that each demo account sees a visibly different picture. Keys refer
 * to seeds/demo-world.ts (organisations, sharing groups). Demo only: production never loads this.
 */
type Tlp = "CLEAR" | "GREEN" | "AMBER" | "AMBER_STRICT" | "RED";

export interface DemoMarking {
  tlp: Tlp;
  orgs?: string[];
  groups?: string[];
}

export interface DemoActor {
  key: string;
  org: string;
  kind: "THREAT_ACTOR" | "INTRUSION_SET";
  name: string;
  aliases: string[];
  description: string;
  marking: DemoMarking;
}

export const DEMO_ACTORS: DemoActor[] = [
  {
    key: "glass-wolf",
    org: "xa",
    kind: "INTRUSION_SET",
    name: "Glass Wolf",
    aliases: ["GW-17", "Brittle Fang"],
    description: "Destructive operations against energy utilities in the region (fictional).",
    marking: { tlp: "GREEN" },
  },
  {
    key: "harbour-heron",
    org: "xb",
    kind: "THREAT_ACTOR",
    name: "Harbour Heron",
    aliases: ["HH"],
    description: "Credential phishing against foreign ministries (fictional).",
    marking: { tlp: "AMBER", groups: ["joint-response"] },
  },
  {
    key: "quiet-lantern",
    org: "xc",
    kind: "INTRUSION_SET",
    name: "Quiet Lantern",
    aliases: [],
    description: "A cluster Calderra tracks in its port infrastructure (fictional).",
    marking: { tlp: "RED", orgs: ["ncc"] },
  },
];

export interface DemoIncident {
  key: string;
  org: string;
  title: string;
  description: string;
  rsitClass: string;
  rsitType: string;
  severity: "BASELINE_NEGLIGIBLE" | "BASELINE_MINOR" | "LOW" | "MEDIUM" | "HIGH" | "SEVERE" | "EMERGENCY";
  status: "OPEN" | "CONTAINED" | "RESOLVED" | "CLOSED";
  sectors: string[];
  countries: string[];
  occurredAt: string;
  marking: DemoMarking;
  timeline: { at: string; summary: string; marking: DemoMarking }[];
  /** How many of its owner's own indicators to link (from its demo feed). */
  linkIndicators: number;
}

export const DEMO_INCIDENTS: DemoIncident[] = [
  {
    key: "grid-wiper",
    org: "xa",
    title: "Wiper at the Aldoria grid operator",
    description: "Workstations of two regional control centres wiped; supply kept by manual operation.",
    rsitClass: "malicious-code",
    rsitType: "infected-system",
    severity: "SEVERE",
    status: "CONTAINED",
    sectors: ["energy"],
    countries: ["XA"],
    occurredAt: "2026-10-02T03:40:00.000Z",
    marking: { tlp: "GREEN" },
    timeline: [
      {
        at: "2026-10-02T03:40:00.000Z",
        summary: "First control-centre workstations stop booting.",
        marking: { tlp: "GREEN" },
      },
      { at: "2026-10-02T05:10:00.000Z", summary: "Grid switched to manual operation.", marking: { tlp: "GREEN" } },
      {
        at: "2026-10-01T22:15:00.000Z",
        summary: "Scheduled task created through a compromised VPN account (source kept RED).",
        marking: { tlp: "RED" },
      },
    ],
    linkIndicators: 3,
  },
  {
    key: "ministry-phish",
    org: "xb",
    title: "Spear-phishing against Borovia's foreign ministry",
    description: "Lures posing as a regional summit's accreditation office.",
    rsitClass: "fraud",
    rsitType: "phishing",
    severity: "MEDIUM",
    status: "OPEN",
    sectors: ["government"],
    countries: ["XB", "XC"],
    occurredAt: "2026-10-20T08:00:00.000Z",
    marking: { tlp: "AMBER", groups: ["joint-response"] },
    timeline: [
      {
        at: "2026-10-20T08:00:00.000Z",
        summary: "First lure reported by staff.",
        marking: { tlp: "AMBER", groups: ["joint-response"] },
      },
    ],
    linkIndicators: 2,
  },
  {
    key: "tax-ddos",
    org: "xd",
    title: "DDoS on the Dunmark tax portal",
    description: "Four hours of degraded service on the filing deadline.",
    rsitClass: "availability",
    rsitType: "ddos",
    severity: "LOW",
    status: "RESOLVED",
    sectors: ["government", "finance"],
    countries: ["XD"],
    occurredAt: "2026-09-30T10:00:00.000Z",
    marking: { tlp: "CLEAR" },
    timeline: [
      { at: "2026-09-30T14:00:00.000Z", summary: "Scrubbing service absorbs the flood.", marking: { tlp: "CLEAR" } },
    ],
    linkIndicators: 0,
  },
  {
    key: "port-intrusion",
    org: "xc",
    title: "Intrusion at the Calderra port authority",
    description: "Persistent access to the container terminal's scheduling system.",
    rsitClass: "intrusions",
    rsitType: "system-compromise",
    severity: "HIGH",
    status: "OPEN",
    sectors: ["transport"],
    countries: ["XC"],
    occurredAt: "2026-08-11T00:00:00.000Z",
    marking: { tlp: "RED", orgs: ["ncc"] },
    timeline: [],
    linkIndicators: 2,
  },
];

type Likelihood =
  | "ALMOST_NO_CHANCE"
  | "VERY_UNLIKELY"
  | "UNLIKELY"
  | "ROUGHLY_EVEN_CHANCE"
  | "LIKELY"
  | "VERY_LIKELY"
  | "ALMOST_CERTAIN";

export interface DemoAssessment {
  key: string;
  org: string;
  subject: { incident: string } | { campaign: string };
  actor: string;
  claimedState?: string;
  stateResponsibility?: string;
  likelihood: Likelihood;
  analyticConfidence: "LOW" | "MODERATE" | "HIGH";
  rationale: string;
  /** Days from loading; negative: already past (overdue). */
  reviewInDays: number;
  marking: DemoMarking;
  /** Later revisions, in order. */
  revisions: (
    | { action: "revise"; reason: string; likelihood?: Likelihood; marking?: DemoMarking; rationale?: string }
    | { action: "confirm" | "withdraw"; reason: string }
  )[];
  opinions: {
    org: string;
    stance: "STRONGLY_DISAGREE" | "DISAGREE" | "NEUTRAL" | "AGREE" | "STRONGLY_AGREE";
    confidence?: number;
    comment: string;
    marking: DemoMarking;
    /** A later change of stance, with its reason. */
    revisedTo?: { stance: "STRONGLY_DISAGREE" | "DISAGREE" | "NEUTRAL" | "AGREE" | "STRONGLY_AGREE"; reason: string };
  }[];
}

export const DEMO_ASSESSMENTS: DemoAssessment[] = [
  {
    key: "grid-wiper-glass-wolf",
    org: "xa",
    subject: { incident: "grid-wiper" },
    actor: "glass-wolf",
    claimedState: "XZ",
    stateResponsibility: "state-shaped",
    likelihood: "LIKELY",
    analyticConfidence: "MODERATE",
    rationale: "Wiper code shares a rare disk-overwrite routine with earlier Glass Wolf operations.",
    reviewInDays: 60,
    marking: { tlp: "RED" },
    revisions: [
      {
        action: "revise",
        reason: "A second sample from the other control centre matches",
        likelihood: "VERY_LIKELY",
      },
      { action: "revise", reason: "Released to the community after review", marking: { tlp: "GREEN" } },
    ],
    opinions: [
      {
        org: "xb",
        stance: "AGREE",
        confidence: 70,
        comment: "Same routine seen in our 2025 case.",
        marking: { tlp: "GREEN" },
      },
      {
        org: "xc",
        stance: "DISAGREE",
        comment: "The VPN access pattern looks criminal, not state-shaped.",
        marking: { tlp: "AMBER", orgs: ["xa"] },
      },
      {
        org: "xe",
        stance: "NEUTRAL",
        comment: "Not enough on our side to judge yet.",
        marking: { tlp: "RED", orgs: ["xa"] },
        revisedTo: { stance: "AGREE", reason: "Our sensor data now shows the same infrastructure" },
      },
    ],
  },
  {
    key: "brine-shrimp-heron",
    org: "xb",
    subject: { campaign: "Operation Brine Shrimp" },
    actor: "harbour-heron",
    likelihood: "ROUGHLY_EVEN_CHANCE",
    analyticConfidence: "LOW",
    rationale: "Lure themes and sending infrastructure resemble Harbour Heron's; no code overlap yet.",
    reviewInDays: -7,
    marking: { tlp: "AMBER", groups: ["joint-response"] },
    revisions: [],
    opinions: [
      {
        org: "xa",
        stance: "AGREE",
        comment: "We saw the same lures.",
        marking: { tlp: "AMBER", groups: ["joint-response"] },
      },
    ],
  },
  {
    key: "tax-ddos-glass-wolf",
    org: "xd",
    subject: { incident: "tax-ddos" },
    actor: "glass-wolf",
    likelihood: "UNLIKELY",
    analyticConfidence: "LOW",
    rationale: "Timing coincided with Glass Wolf activity elsewhere.",
    reviewInDays: 30,
    marking: { tlp: "GREEN" },
    revisions: [{ action: "withdraw", reason: "Traffic traced to a rented booter service; no link to Glass Wolf" }],
    opinions: [
      { org: "xa", stance: "STRONGLY_AGREE", comment: "Agree with the withdrawal.", marking: { tlp: "GREEN" } },
    ],
  },
  {
    key: "port-quiet-lantern",
    org: "xc",
    subject: { incident: "port-intrusion" },
    actor: "quiet-lantern",
    likelihood: "ALMOST_CERTAIN",
    analyticConfidence: "HIGH",
    rationale: "Implant and operator tooling identical to Quiet Lantern's earlier intrusions.",
    reviewInDays: 14,
    marking: { tlp: "RED", orgs: ["ncc"] },
    revisions: [{ action: "confirm", reason: "Confirmed by the forensic report" }],
    opinions: [],
  },
];
