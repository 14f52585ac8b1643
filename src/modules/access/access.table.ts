import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  jsonb,
  check,
} from "drizzle-orm/pg-core";
import { ORGANIZATION_KINDS, TLP_LEVELS } from "./tlp";

export const ROLES = ["READER", "ANALYST", "ADMIN"] as const;
export type Role = (typeof ROLES)[number];
export const CONTACT_KINDS = ["POLICY", "TECHNICAL"] as const;

export const tlpEnum = pgEnum("tlp", TLP_LEVELS);
export const organizationKindEnum = pgEnum("organization_kind", ORGANIZATION_KINDS);
export const roleEnum = pgEnum("account_role", ROLES);
export const contactKindEnum = pgEnum("contact_kind", CONTACT_KINDS);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/**
 * The marking every contributed record carries (DESIGN section 3). Spread it into a table and
 * pass the columns to `visibleTo`.
 */
export const markingColumns = () => ({
  ownerOrgId: uuid("owner_org_id")
    .notNull()
    .references(() => organizations.id),
  tlp: tlpEnum("tlp").notNull(),
  audienceOrgs: uuid("audience_orgs")
    .array()
    .notNull()
    .default(sql`'{}'::uuid[]`),
  audienceGroups: uuid("audience_groups")
    .array()
    .notNull()
    .default(sql`'{}'::uuid[]`),
});

export const organizations = pgTable(
  "organizations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    kind: organizationKindEnum("kind").notNull(),
    name: text("name").notNull(),
    countryCode: text("country_code"),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("organizations_name_key").on(sql`lower(${t.name})`),
    uniqueIndex("organizations_country_key").on(t.countryCode),
    check(
      "organizations_country_for_member_states",
      sql`(${t.kind} = 'MEMBER_STATE') = (${t.countryCode} is not null)`,
    ),
  ],
);

export const regionalMemberships = pgTable(
  "regional_memberships",
  {
    regionId: uuid("region_id")
      .notNull()
      .references(() => organizations.id),
    memberId: uuid("member_id")
      .notNull()
      .references(() => organizations.id),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.regionId, t.memberId] }), index("regional_memberships_member_idx").on(t.memberId)],
);

export const accounts = pgTable(
  "accounts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    role: roleEnum("role").notNull(),
    isService: boolean("is_service").notNull().default(false),
    createdAt: createdAt(),
    disabledAt: timestamp("disabled_at", { withTimezone: true }),
  },
  (t) => [index("accounts_organization_idx").on(t.organizationId, t.name)],
);

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    accountId: uuid("account_id")
      .notNull()
      .references(() => accounts.id),
    name: text("name").notNull(),
    /** The first characters of the token, to recognise it in lists; not enough to use it. */
    prefix: text("prefix").notNull(),
    /** SHA-256 of the whole token, hex. The token itself is never stored. */
    tokenHash: text("token_hash").notNull(),
    createdAt: createdAt(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("api_tokens_hash_key").on(t.tokenHash), index("api_tokens_account_idx").on(t.accountId)],
);

export const sharingGroups = pgTable(
  "sharing_groups",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ownerOrgId: uuid("owner_org_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    membersVisible: boolean("members_visible").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("sharing_groups_owner_name_key").on(t.ownerOrgId, sql`lower(${t.name})`)],
);

export const sharingGroupMembers = pgTable(
  "sharing_group_members",
  {
    groupId: uuid("group_id")
      .notNull()
      .references(() => sharingGroups.id, { onDelete: "cascade" }),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
  },
  (t) => [
    primaryKey({ columns: [t.groupId, t.organizationId] }),
    index("sharing_group_members_org_idx").on(t.organizationId),
  ],
);

/** Points of contact (OSCE CBM 8, UN POC directory): marked records like any other. */
export const contacts = pgTable(
  "contacts",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    ...markingColumns(),
    kind: contactKindEnum("kind").notNull(),
    name: text("name").notNull(),
    title: text("title").notNull().default(""),
    /** [{ kind: "EMAIL" | "PHONE" | ..., value }] */
    channels: jsonb("channels").$type<{ kind: string; value: string }[]>().notNull().default([]),
    languages: text("languages")
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    timeZone: text("time_zone").notNull(),
    available24x7: boolean("available_24x7").notNull().default(false),
    lastVerifiedAt: timestamp("last_verified_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [index("contacts_owner_idx").on(t.ownerOrgId)],
);
