import type { RoleValue } from "./access.enums";
import { atLeast, Role } from "./access.enums";
import { forbidden } from "../../shared/errors";
import { OrganizationKind, type AccessViewer } from "./tlp";
import type { Account, Organization } from "./access.type";

/** The authenticated caller, resolved from a token (cached for at most TOKEN_CACHE_MS). */
export interface ViewerIdentity extends AccessViewer {
  readonly accountId: string;
  readonly role: RoleValue;
  readonly tokenId: string;
  readonly tokenExpiresAt: Date | null;
  /** The account and organisation rows as of the token check (at most TOKEN_CACHE_MS old). */
  readonly account: Account;
  readonly organization: Organization;
}

export const isOperatorAdmin = (v: ViewerIdentity) =>
  v.organizationKind === OrganizationKind.HUB_OPERATOR && v.role === Role.ADMIN;

/** Admins manage their own organisation; the operator's admins manage every organisation. */
export function assertCanManage(v: ViewerIdentity, organizationId: string): void {
  if (!(isOperatorAdmin(v) || (v.role === Role.ADMIN && v.organizationId === organizationId)))
    throw forbidden("Only an admin of this organisation (or of the hub operator) may do this");
}

export function assertOperatorAdmin(v: ViewerIdentity): void {
  if (!isOperatorAdmin(v)) throw forbidden("Only an admin of the hub operator may do this");
}

export function assertRole(v: ViewerIdentity, min: RoleValue): void {
  if (!atLeast(v.role, min)) throw forbidden(`This needs the ${min} role or higher`);
}
