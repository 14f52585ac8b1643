import { GraphQLError } from "graphql";
import type { Db, Tx } from "../../db/client";
import { ErrorCode } from "../../shared/errors";
import type { Logger } from "../../shared/logger";
import type { ViewerIdentity } from "../access/viewer";
import { appendAudit } from "./audit.service";

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
      const code =
        error instanceof GraphQLError && typeof error.extensions.code === "string"
          ? error.extensions.code
          : ErrorCode.INTERNAL_SERVER_ERROR;
      try {
        await db.transaction((tx) =>
          appendAudit(tx, { ...who, targetIds: spec.targetIds ?? [], outcome: code, detail: spec.detail ?? null }),
        );
      } catch (auditError) {
        log.error({ err: auditError, operation: spec.operation }, "could not audit a failed mutation");
      }
      throw error;
    }
  };
}

function idOf(result: unknown): string[] {
  const id = result && typeof result === "object" && "id" in result ? (result as { id: unknown }).id : undefined;
  return typeof id === "string" ? [id] : [];
}
