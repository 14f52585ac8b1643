export { ACCESS_RULE, canSee, visibleTo, Tlp, OrganizationKind, ONWARD_SHARABLE } from "./tlp";
export type { AccessViewer, Marking as MarkingValue, MarkingColumns } from "./tlp";
export {
  markingColumns,
  organizations,
  accounts,
  apiTokens,
  sharingGroups,
  sharingGroupMembers,
  regionalMemberships,
  contacts,
} from "./access.table";
export { resolveMarking } from "./marking.service";
export { MarkingInput } from "./access.input";
export { AuthService } from "./auth.service";
export { hashToken, newToken, displayPrefix, isWellFormedToken } from "./tokens";
export { assertCanManage, assertOperatorAdmin, assertRole, isOperatorAdmin } from "./viewer";
export type { ViewerIdentity } from "./viewer";
export { Role } from "./access.enums";
export { loadNode, registerNodeType } from "./node.resolver";
export { Organization, Account, SharingGroup, Contact, Node } from "./access.type";
import { OrganizationResolver } from "./organization.resolver";
import { AccountResolver } from "./account.resolver";
import { SharingGroupResolver } from "./sharing-group.resolver";
import { ContactResolver, MarkingResolver } from "./contact.resolver";
import { ViewerResolver } from "./viewer.resolver";
import { NodeResolver } from "./node.resolver";

export const accessResolvers = [
  ViewerResolver,
  OrganizationResolver,
  AccountResolver,
  SharingGroupResolver,
  ContactResolver,
  MarkingResolver,
  NodeResolver,
] as const;
