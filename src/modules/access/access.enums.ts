import { registerEnumType } from "type-graphql";
import { OrganizationKind, Tlp } from "./tlp";

export const Role = { READER: "READER", ANALYST: "ANALYST", ADMIN: "ADMIN" } as const;
export type RoleValue = (typeof Role)[keyof typeof Role];
const RANK: Record<RoleValue, number> = { READER: 0, ANALYST: 1, ADMIN: 2 };
export const atLeast = (role: RoleValue, min: RoleValue) => RANK[role] >= RANK[min];

export const ContactKind = { POLICY: "POLICY", TECHNICAL: "TECHNICAL" } as const;
export type ContactKindValue = (typeof ContactKind)[keyof typeof ContactKind];

registerEnumType(Tlp, {
  name: "Tlp",
  description: "Traffic Light Protocol 2.0 level of a record.",
  valuesConfig: {
    CLEAR: { description: "Every authenticated account." },
    GREEN: { description: "Member states, regional bodies and the operator; partners only when in the audience." },
    AMBER: { description: "The owner and the audience." },
    AMBER_STRICT: { description: "The owner and the audience; never in exports made for onward sharing." },
    RED: { description: "The owner and the named audience organisations only; never counted in aggregates." },
  },
});
registerEnumType(OrganizationKind, { name: "OrganizationKind" });
registerEnumType(Role, {
  name: "Role",
  valuesConfig: {
    READER: { description: "Reads." },
    ANALYST: { description: "Reads and contributes." },
    ADMIN: { description: "Also manages the organisation's accounts, keys, feeds and contacts." },
  },
});
registerEnumType(ContactKind, { name: "ContactKind" });
