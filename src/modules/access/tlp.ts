import { sql, type SQL, type AnyColumn } from "drizzle-orm";

/** TLP 2.0 levels, spelled once. */
export const Tlp = {
  CLEAR: "CLEAR",
  GREEN: "GREEN",
  AMBER: "AMBER",
  AMBER_STRICT: "AMBER_STRICT",
  RED: "RED",
} as const;
export type Tlp = (typeof Tlp)[keyof typeof Tlp];
export const TLP_LEVELS = Object.values(Tlp) as [Tlp, ...Tlp[]];

export const OrganizationKind = {
  MEMBER_STATE: "MEMBER_STATE",
  REGIONAL_BODY: "REGIONAL_BODY",
  PARTNER: "PARTNER",
  HUB_OPERATOR: "HUB_OPERATOR",
} as const;
export type OrganizationKind = (typeof OrganizationKind)[keyof typeof OrganizationKind];
export const ORGANIZATION_KINDS = Object.values(OrganizationKind) as [OrganizationKind, ...OrganizationKind[]];

/** What the access rule needs to know about whoever is looking. */
export interface AccessViewer {
  readonly organizationId: string;
  readonly organizationKind: OrganizationKind;
  /** Sharing groups the viewer's organisation is a member of (or owns). */
  readonly groupIds: readonly string[];
}

/** What the access rule needs to know about a record. */
export interface Marking {
  readonly ownerOrgId: string;
  readonly tlp: Tlp;
  readonly audienceOrgIds: readonly string[];
  readonly audienceGroupIds: readonly string[];
}

/**
 * DESIGN section 3 as data: for each level, which viewers besides the owner may see a record.
 * Both the pure function and the SQL predicate below are compiled from this one table, and a
 * property-based test checks that they agree.
 */
interface Grant {
  /** Every authenticated account. */
  readonly everyone: boolean;
  /** Viewers whose organisation is of one of these kinds. */
  readonly kinds: readonly OrganizationKind[];
  /** Organisations named in the audience. */
  readonly audienceOrgs: boolean;
  /** Members of sharing groups named in the audience. */
  readonly audienceGroups: boolean;
}

export const ACCESS_RULE: Readonly<Record<Tlp, Grant>> = {
  CLEAR: { everyone: true, kinds: [], audienceOrgs: true, audienceGroups: true },
  GREEN: {
    everyone: false,
    kinds: [OrganizationKind.MEMBER_STATE, OrganizationKind.REGIONAL_BODY, OrganizationKind.HUB_OPERATOR],
    audienceOrgs: true,
    audienceGroups: true,
  },
  AMBER: { everyone: false, kinds: [], audienceOrgs: true, audienceGroups: true },
  AMBER_STRICT: { everyone: false, kinds: [], audienceOrgs: true, audienceGroups: true },
  RED: { everyone: false, kinds: [], audienceOrgs: true, audienceGroups: false },
};

/** Levels that may be included in exports made for onward sharing. */
export const ONWARD_SHARABLE: readonly Tlp[] = [Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER];

/** The access rule as a pure function: may this viewer see a record with this marking? */
export function canSee(viewer: AccessViewer, m: Marking): boolean {
  if (m.ownerOrgId === viewer.organizationId) return true;
  const g = ACCESS_RULE[m.tlp];
  return (
    g.everyone ||
    g.kinds.includes(viewer.organizationKind) ||
    (g.audienceOrgs && m.audienceOrgIds.includes(viewer.organizationId)) ||
    (g.audienceGroups && m.audienceGroupIds.some((id) => viewer.groupIds.includes(id)))
  );
}

/** The columns of a marked table, as the SQL predicate needs them. */
export interface MarkingColumns {
  readonly ownerOrgId: AnyColumn;
  readonly tlp: AnyColumn;
  readonly audienceOrgs: AnyColumn;
  readonly audienceGroups: AnyColumn;
}

/**
 * Ids as one bound `uuid[]` parameter (`{a,b}`; uuids never need quoting), so that the statement's
 * text is the same whatever the number of ids: a prepared statement is parsed once per viewer kind,
 * not once per number of groups.
 */
const uuidArray = (ids: readonly string[]): SQL => sql`${`{${ids.join(",")}}`}::uuid[]`;

const tlpLiteral = (level: Tlp): string => {
  if (!TLP_LEVELS.includes(level)) throw new Error(`not a TLP level: ${level}`);
  return `'${level}'`;
};

/**
 * The access rule as an SQL predicate over a marked table's columns, compiled from ACCESS_RULE.
 * Use it in every query that reads marked records; it is the only place that says who sees what.
 */
export function visibleTo(viewer: AccessViewer, c: MarkingColumns): SQL {
  const levelsWhere = (pick: (g: Grant) => boolean): Tlp[] => TLP_LEVELS.filter((t) => pick(ACCESS_RULE[t]));
  // The levels are the rule's own constants, never input: written into the text (a statement
  // then binds only the viewer's organisation and groups, not a parameter per level and branch),
  // and the planner sees them. The text still varies only with the organisation kind.
  const inLevels = (levels: Tlp[]): SQL => sql`${c.tlp} in (${sql.raw(levels.map(tlpLiteral).join(", "))})`;
  const branches: SQL[] = [sql`${c.ownerOrgId} = ${viewer.organizationId}`];
  const everyone = levelsWhere((g) => g.everyone);
  if (everyone.length) branches.push(inLevels(everyone));
  const byKind = levelsWhere((g) => g.kinds.includes(viewer.organizationKind));
  if (byKind.length) branches.push(inLevels(byKind));
  const byOrg = levelsWhere((g) => g.audienceOrgs);
  if (byOrg.length)
    branches.push(sql`(${inLevels(byOrg)} and ${viewer.organizationId}::uuid = any(${c.audienceOrgs}))`);
  const byGroup = levelsWhere((g) => g.audienceGroups);
  // Also for a viewer in no group (`&&` with an empty array is false): the text stays the same.
  if (byGroup.length)
    branches.push(sql`(${inLevels(byGroup)} and ${c.audienceGroups} && ${uuidArray(viewer.groupIds)})`);
  return sql`(${sql.join(branches, sql` or `)})`;
}
