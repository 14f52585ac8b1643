import { GraphQLError } from "graphql";
import type { Db, Tx } from "../../db/client";
import { ErrorCode } from "../../shared/errors";
import type { Logger } from "../../shared/logger";
import type { ViewerIdentity } from "../access/viewer";
import { appendAudit, type AuditEntryInput } from "./audit.service";

export interface MutationSpec<T> {
  operation: string;
  /** Ids known before the change (e.g. the record being changed), recorded on failure too. */
  targetIds?: string[];
  /** Ids to record on success; defaults to the result's `id`. */
  resultIds?: (result: T) => string[];
  detail?: Record<string, unknown>;
}

export type MutationRunner = <T>(
  viewer: ViewerIdentity,
  spec: MutationSpec<T>,
  change: (tx: Tx) => Promise<T>,
) => Promise<T>;

/**
 * Runs a change and its audit entry in one transaction. A change that fails is rolled back and
 * then audited on its own with the error's code as outcome, so refused attempts are on record too.
 */
export function createMutationRunner(db: Db, log: Logger): MutationRunner {
  return async (viewer, spec, change) => {
    const who = { accountId: viewer.accountId, organizationId: viewer.organizationId, operation: spec.operation };
    try {
      return await db.transaction(async (tx) => {
        const result = await change(tx);
        const ids = spec.resultIds?.(result) ?? idOf(result);
        await appendAudit(tx, {
          ...who,
          targetIds: [...new Set([...(spec.targetIds ?? []), ...ids])],
          outcome: "SUCCESS",
          detail: spec.detail ?? null,
        });
        return result;
      });
    } catch (error) {
      try {
        await auditFailure(db, { ...who, targetIds: spec.targetIds ?? [], detail: spec.detail ?? null }, error);
      } catch (auditError) {
        log.error({ err: auditError, operation: spec.operation }, "could not audit a failed mutation");
      }
      throw error;
    }
  };
}

/**
 * Audits a failed or refused attempt on its own, in a transaction of its own (the attempt's was
 * rolled back): the outcome is the error's code, INTERNAL_SERVER_ERROR for anything uncoded.
 * Throws when the entry cannot be written; the caller decides whether that hides its own error.
 */
export async function auditFailure(db: Db, entry: Omit<AuditEntryInput, "outcome">, error: unknown): Promise<void> {
  const outcome =
    error instanceof GraphQLError && typeof error.extensions.code === "string"
      ? error.extensions.code
      : ErrorCode.INTERNAL_SERVER_ERROR;
  await db.transaction((tx) => appendAudit(tx, { ...entry, outcome }));
}

function idOf(result: unknown): string[] {
  const id = result && typeof result === "object" && "id" in result ? (result as { id: unknown }).id : undefined;
  return typeof id === "string" ? [id] : [];
}
