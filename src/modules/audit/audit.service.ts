import { createHash } from "node:crypto";
import { asc, eq, gt, sql } from "drizzle-orm";
import type { Executor, Db } from "../../db/client";
import { auditHead, auditLog } from "./audit.table";

export const GENESIS_HASH = "0".repeat(64);
/** Serialises appends across every connection and node: the chain has one writer at a time. */
const AUDIT_LOCK = 7406002;

export type AuditOutcome = "SUCCESS" | string;

export interface AuditEntryInput {
  accountId: string | null;
  organizationId: string | null;
  operation: string;
  targetIds: string[];
  /** SUCCESS, or the error code the operation ended with. */
  outcome: AuditOutcome;
  detail?: Record<string, unknown> | null;
}

/** JSON with object keys sorted at every level, so a hash does not depend on key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

interface HashedFields extends AuditEntryInput {
  seq: number;
  at: string;
}

export function entryHash(prevHash: string, e: HashedFields): string {
  const body = canonicalJson({
    seq: e.seq,
    at: e.at,
    accountId: e.accountId,
    organizationId: e.organizationId,
    operation: e.operation,
    targetIds: e.targetIds,
    outcome: e.outcome,
    detail: e.detail ?? null,
  });
  return createHash("sha256").update(prevHash).update("\n").update(body).digest("hex");
}

/**
 * Appends one entry inside the caller's transaction. Call it last in the transaction: the chain
 * lock is held until commit.
 */
export async function appendAudit(tx: Executor, e: AuditEntryInput): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`);
  const head = (await tx.select().from(auditHead).where(eq(auditHead.id, 1)))[0];
  const seq = (head?.seq ?? 0) + 1;
  const prevHash = head?.hash ?? GENESIS_HASH;
  const at = new Date();
  const hash = entryHash(prevHash, { ...e, seq, at: at.toISOString() });
  await tx.insert(auditLog).values({
    seq,
    at,
    accountId: e.accountId,
    organizationId: e.organizationId,
    operation: e.operation,
    targetIds: e.targetIds,
    outcome: e.outcome,
    detail: e.detail ?? null,
    prevHash,
    hash,
  });
  await tx
    .insert(auditHead)
    .values({ id: 1, seq, hash })
    .onConflictDoUpdate({ target: auditHead.id, set: { seq, hash } });
}

export interface AuditProblem {
  seq: number;
  problem: string;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  problems: AuditProblem[];
}

/**
 * Re-derives the whole chain: each entry's hash from its content and its predecessor's hash,
 * sequence numbers without gaps, and the head matching the last entry. Reads in pages so the
 * log's size does not bound memory.
 */
export async function verifyAudit(db: Db, onProgress?: (checked: number) => void): Promise<AuditVerification> {
  const problems: AuditProblem[] = [];
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1;
  let lastSeq = 0;
  let entries = 0;
  for (;;) {
    const page = await db
      .select()
      .from(auditLog)
      .where(gt(auditLog.seq, lastSeq))
      .orderBy(asc(auditLog.seq))
      .limit(5000);
    if (page.length === 0) break;
    for (const row of page) {
      entries++;
      if (row.seq !== expectedSeq)
        problems.push({
          seq: row.seq,
          problem: `expected sequence ${expectedSeq}: an entry is missing or was inserted`,
        });
      if (row.prevHash !== prevHash)
        problems.push({ seq: row.seq, problem: "does not link to the previous entry's hash" });
      const recomputed = entryHash(row.prevHash, {
        seq: row.seq,
        at: row.at.toISOString(),
        accountId: row.accountId,
        organizationId: row.organizationId,
        operation: row.operation,
        targetIds: row.targetIds,
        outcome: row.outcome,
        detail: (row.detail as Record<string, unknown> | null) ?? null,
      });
      if (recomputed !== row.hash)
        problems.push({ seq: row.seq, problem: "content does not match its hash: the entry was changed" });
      prevHash = row.hash;
      expectedSeq = row.seq + 1;
      lastSeq = row.seq;
    }
    onProgress?.(entries);
  }
  const head = (await db.select().from(auditHead).where(eq(auditHead.id, 1)))[0];
  if (head && head.seq > lastSeq)
    problems.push({
      seq: lastSeq + 1,
      problem: `the chain ends at ${lastSeq} but its head says ${head.seq}: entries were removed from the end`,
    });
  else if (head && head.seq < lastSeq)
    problems.push({ seq: head.seq + 1, problem: `entries after the head (${head.seq}) were appended outside the hub` });
  else if (head && head.hash !== prevHash)
    problems.push({ seq: lastSeq, problem: "the last entry does not match the head's hash: it was replaced" });
  if (!head && entries > 0) problems.push({ seq: 0, problem: "the chain's head is missing" });
  return { ok: problems.length === 0, entries, problems };
}
