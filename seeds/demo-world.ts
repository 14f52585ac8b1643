/**
 * The demo world: fictional member states with ISO 3166 user-assigned codes (XA-XE, never real
 * countries, since the demo attributes incidents), two regional bodies with overlapping
 * membership, a partner and the operator, with accounts of every role. Ids and tokens are derived
 * from names so that loading is idempotent and the printed tokens are the same on every start.
 * Demo only: production never loads this.
 */
import { createHash } from "node:crypto";

export function demoId(name: string): string {
  const h = createHash("sha256").update(`incident-sharing-hub demo id ${name}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function demoToken(key: string): string {
  return `hub_demo_${createHash("sha256").update(`incident-sharing-hub demo token ${key}`).digest("base64url").slice(0, 40)}`;
}

type Kind = "MEMBER_STATE" | "REGIONAL_BODY" | "PARTNER" | "HUB_OPERATOR";
type Role = "READER" | "ANALYST" | "ADMIN";

export interface DemoOrganization {
  key: string;
  name: string;
  kind: Kind;
  countryCode?: string;
  accounts: Role[];
}

export const DEMO_ORGANIZATIONS: DemoOrganization[] = [
  { key: "operator", name: "Hub Operations Centre", kind: "HUB_OPERATOR", accounts: ["ADMIN", "READER"] },
  {
    key: "xa",
    name: "Aldoria CERT",
    kind: "MEMBER_STATE",
    countryCode: "XA",
    accounts: ["ADMIN", "ANALYST", "READER"],
  },
  {
    key: "xb",
    name: "Borovia National CSIRT",
    kind: "MEMBER_STATE",
    countryCode: "XB",
    accounts: ["ADMIN", "ANALYST", "READER"],
  },
  { key: "xc", name: "Calderra Cyber Centre", kind: "MEMBER_STATE", countryCode: "XC", accounts: ["ADMIN", "ANALYST"] },
  { key: "xd", name: "Dunmark CERT", kind: "MEMBER_STATE", countryCode: "XD", accounts: ["ADMIN", "ANALYST"] },
  {
    key: "xe",
    name: "Estavia Government CSIRT",
    kind: "MEMBER_STATE",
    countryCode: "XE",
    accounts: ["ADMIN", "ANALYST"],
  },
  { key: "ncc", name: "Northern Cooperation Council", kind: "REGIONAL_BODY", accounts: ["ADMIN", "ANALYST"] },
  { key: "csf", name: "Coastal States Forum", kind: "REGIONAL_BODY", accounts: ["ADMIN", "ANALYST"] },
  { key: "partner", name: "Sentinel SIEM Connector", kind: "PARTNER", accounts: ["ADMIN", "ANALYST", "READER"] },
];

/** Overlapping on purpose: Calderra (XC) belongs to both. */
export const DEMO_MEMBERSHIPS: [region: string, member: string][] = [
  ["ncc", "xa"],
  ["ncc", "xb"],
  ["ncc", "xc"],
  ["csf", "xc"],
  ["csf", "xd"],
  ["csf", "xe"],
];

export interface DemoGroup {
  key: string;
  owner: string;
  name: string;
  description: string;
  members: string[];
  membersVisible: boolean;
}

export const DEMO_GROUPS: DemoGroup[] = [
  {
    key: "joint-response",
    owner: "xa",
    name: "Joint Response Cell",
    description: "Aldoria's trusted circle for live incident coordination.",
    members: ["xb", "xd"],
    membersVisible: false,
  },
  {
    key: "partner-feed",
    owner: "operator",
    name: "Partner Feed Recipients",
    description: "Partners cleared to receive GREEN feeds.",
    members: ["partner"],
    membersVisible: true,
  },
];

export interface DemoContact {
  org: string;
  kind: "POLICY" | "TECHNICAL";
  name: string;
  title: string;
  channels: { kind: string; value: string }[];
  languages: string[];
  timeZone: string;
  available24x7: boolean;
  tlp: "CLEAR" | "GREEN" | "AMBER" | "AMBER_STRICT" | "RED";
  audienceOrgs?: string[];
  audienceGroups?: string[];
}

export const DEMO_CONTACTS: DemoContact[] = [
  {
    org: "xa",
    kind: "TECHNICAL",
    name: "Aldoria CERT duty desk",
    title: "Duty officer",
    channels: [
      { kind: "EMAIL", value: "duty@cert.xa.example" },
      { kind: "PHONE", value: "+000 100 200 300" },
    ],
    languages: ["en", "fr"],
    timeZone: "Europe/Paris",
    available24x7: true,
    tlp: "GREEN",
  },
  {
    org: "xa",
    kind: "POLICY",
    name: "Mira Adler",
    title: "Head of cyber diplomacy",
    channels: [{ kind: "SECURE_VOICE", value: "XA-MFA-7" }],
    languages: ["en"],
    timeZone: "Europe/Paris",
    available24x7: false,
    tlp: "AMBER",
    audienceGroups: ["joint-response"],
  },
  {
    org: "xb",
    kind: "TECHNICAL",
    name: "Borovia CSIRT operations",
    title: "Operations",
    channels: [{ kind: "EMAIL", value: "ops@csirt.xb.example" }],
    languages: ["en", "de"],
    timeZone: "Europe/Berlin",
    available24x7: true,
    tlp: "CLEAR",
  },
  {
    org: "xc",
    kind: "POLICY",
    name: "Calderra liaison to the regional bodies",
    title: "Liaison officer",
    channels: [{ kind: "EMAIL", value: "liaison@ccc.xc.example" }],
    languages: ["en", "es"],
    timeZone: "Europe/Madrid",
    available24x7: false,
    tlp: "RED",
    audienceOrgs: ["ncc", "csf"],
  },
];

export interface DemoAccount {
  org: string;
  orgName: string;
  role: Role;
  name: string;
  id: string;
  token: string;
}

export function demoAccounts(): DemoAccount[] {
  return DEMO_ORGANIZATIONS.flatMap((o) =>
    o.accounts.map((role) => {
      const key = `${o.key}-${role.toLowerCase()}`;
      return {
        org: o.key,
        orgName: o.name,
        role,
        name: `${o.name} ${role.toLowerCase()}`,
        id: demoId(`account ${key}`),
        token: demoToken(key),
      };
    }),
  );
}

export interface DemoFeed {
  /** Whose analyst registers and fills the feed. */
  org: string;
  name: string;
  format: "STIX" | "MISP" | "CSV";
  tlp: "CLEAR" | "GREEN" | "AMBER" | "AMBER_STRICT" | "RED";
  audienceOrgs?: string[];
  audienceGroups?: string[];
  /** Files under ../shared/fixtures (real public data, read in place, never copied here). */
  files: string[];
}

/**
 * Feeds at every TLP level, filled from the real fixtures, so each account sees a different hub.
 * A marking inside a file (a MISP tlp: tag, a STIX marking ref) wins over the feed's default.
 */
export const DEMO_FEEDS: DemoFeed[] = [
  {
    org: "xa",
    name: "Aldoria threat reports",
    format: "STIX",
    tlp: "GREEN",
    files: ["stix2.1-json-schemas/examples/threat-reports/poisonivy.json"],
  },
  {
    org: "xb",
    name: "Borovia MISP exchange",
    format: "MISP",
    tlp: "AMBER",
    audienceGroups: ["joint-response"],
    files: ["misp-events/eset-malware-ioc/sednit-2018-11-20_Zebrocy.json"],
  },
  {
    org: "xc",
    name: "Calderra case files",
    format: "STIX",
    tlp: "RED",
    audienceOrgs: ["ncc"],
    files: ["stix2.1-json-schemas/examples/threat-reports/apt1.json"],
  },
  {
    org: "xe",
    name: "Estavia open-source watch",
    format: "MISP",
    tlp: "GREEN",
    files: ["misp-events/pymisp-tests/existing_event.json"],
  },
  {
    org: "xd",
    name: "Dunmark sightings",
    format: "STIX",
    tlp: "AMBER_STRICT",
    audienceOrgs: ["xe"],
    files: [
      "stix2.1-cti-documentation-examples/sighting-of-an-indicator.json",
      "stix2.1-cti-documentation-examples/indicator-for-malicious-url.json",
    ],
  },
  {
    org: "partner",
    name: "Sentinel public feed",
    format: "MISP",
    tlp: "CLEAR",
    files: ["misp-events/pymisp-tests/57c4445b-c548-4654-af0b-4be3950d210f.json"],
  },
];

type Consent = "NONE" | "UP_TO_GREEN" | "ALL_BUT_RED";

/** Trends consent, varied on purpose (everyone else keeps the default, ALL_BUT_RED). */
export const DEMO_TRENDS_CONSENT: Record<string, Consent> = { xb: "UP_TO_GREEN", xd: "NONE" };

export interface DemoIncident {
  key: string;
  org: string;
  title: string;
  rsitClass: string;
  rsitType: string;
  severity: "LOW" | "MEDIUM" | "HIGH" | "SEVERE";
  sectors: string[];
  countries: string[];
  tlp: "CLEAR" | "GREEN" | "AMBER" | "AMBER_STRICT" | "RED";
  /** Whole weeks before the seeding week (1: last week), and the day in that week (0: Monday). */
  weeksAgo: number;
  day: number;
}

const INCIDENT_KINDS = [
  ["fraud", "phishing", "Credential phishing against ministry staff"],
  ["malicious-code", "infected-system", "Ransomware on municipal servers"],
  ["availability", "ddos", "DDoS on the national e-government portal"],
  ["intrusions", "system-compromise", "Compromised mail gateway"],
  ["information-gathering", "scanner", "Scanning of energy SCADA ranges"],
] as const;
const SEVERITIES = ["LOW", "MEDIUM", "MEDIUM", "HIGH", "SEVERE"] as const;
const TLPS = ["GREEN", "GREEN", "GREEN", "CLEAR", "AMBER", "AMBER_STRICT", "RED"] as const;
const SECTORS = ["energy", "government", "health", "telecom", "finance"] as const;

/**
 * Incidents of the five member states over the twelve weeks before the demo is loaded, one to
 * three per state and week, at every TLP: enough for the /trends page to show the Northern
 * Cooperation Council's weeks (three contributing members, k = 3) with some cells suppressed.
 * Deterministic: the same list on every load.
 */
export function demoIncidents(): DemoIncident[] {
  const out: DemoIncident[] = [];
  for (const org of ["xa", "xb", "xc", "xd", "xe"])
    for (let weeksAgo = 1; weeksAgo <= 12; weeksAgo++) {
      const h = createHash("sha256").update(`demo incidents ${org} ${weeksAgo}`).digest();
      const n = 1 + ((h[0] ?? 0) % 3);
      for (let i = 0; i < n; i++) {
        const b = (j: number) => h[1 + i * 6 + j] ?? 0;
        // Each state's first incident of a week is of that week's common kind (a wave across the
        // region), the others of any kind.
        const kind = i === 0 ? weeksAgo % 3 : b(0);
        const [rsitClass, rsitType, title] = INCIDENT_KINDS[kind % INCIDENT_KINDS.length] ?? INCIDENT_KINDS[0];
        out.push({
          key: `${org}-${weeksAgo}-${i}`,
          org,
          title,
          rsitClass,
          rsitType,
          severity: SEVERITIES[b(1) % SEVERITIES.length] ?? "MEDIUM",
          sectors: [SECTORS[b(2) % SECTORS.length] ?? "government"],
          countries: [org.toUpperCase()],
          tlp: TLPS[b(3) % TLPS.length] ?? "GREEN",
          weeksAgo,
          day: b(4) % 7,
        });
      }
    }
  return out;
}
