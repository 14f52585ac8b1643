export { appendAudit, verifyAudit, canonicalJson, entryHash, GENESIS_HASH } from "./audit.service";
export type { AuditVerification, AuditProblem } from "./audit.service";
export { auditFailure, createMutationRunner } from "./mutation";
export type { MutationRunner, MutationSpec } from "./mutation";
export { auditLog, auditHead } from "./audit.table";
import { AuditResolver } from "./audit.resolver";
export const auditResolvers = [AuditResolver] as const;
