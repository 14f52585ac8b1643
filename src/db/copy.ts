import { finished } from "node:stream/promises";
import type { Tx } from "./client";

/**
 * PostgreSQL's COPY text format, for bulk writes: one line per row, columns separated by tabs,
 * `\N` for NULL. COPY parses this far more cheaply than a jsonb parameter or a multi-row VALUES
 * list, which is why bulk ingest loads its chunks this way (README, architecture).
 */

const COPY_ESCAPES: Readonly<Record<string, string>> = { "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" };
const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;

/** A text value in COPY text format: backslash, tab, newline and carriage return escaped. */
export function copyText(s: string): string {
  return NEEDS_COPY_ESCAPE.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] ?? c) : s;
}

/** A column value: NULL for null/undefined, else its text (strings escaped, the rest as printed). */
export function copyValue(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return "\\N";
  return typeof v === "string" ? copyText(v) : String(v);
}

/**
 * A one-dimensional text array literal (`{"a","b"}`) as a COPY column: each element
 * double-quoted with `"` and `\` backslash-escaped, then the whole escaped for COPY.
 */
export function copyArray(items: readonly string[]): string {
  if (items.length === 0) return "{}";
  return copyText(`{${items.map((i) => `"${i.replace(/["\\]/g, "\\$&")}"`).join(",")}}`);
}

/** A jsonb column: the JSON text, escaped for COPY; NULL for null/undefined. */
export function copyJson(v: unknown): string {
  return v === null || v === undefined ? "\\N" : copyText(JSON.stringify(v));
}

interface PostgresJsQuery {
  writable(): Promise<NodeJS.WritableStream>;
  reject: (e: unknown) => void;
}
interface PostgresJsClient {
  unsafe(query: string): PostgresJsQuery & PromiseLike<unknown>;
}
interface PgliteClient {
  query(query: string, params?: unknown[], options?: { blob?: Blob }): Promise<unknown>;
}

/**
 * Runs `copy <target> from stdin` with `text` as its input inside the caller's transaction.
 * drizzle has no COPY, so this reaches its driver: postgres.js streams the text as COPY data;
 * PGlite reads it as a blob through its `/dev/blob` device.
 */
export async function copyFrom(tx: Tx, target: string, text: string): Promise<void> {
  const client = (tx as unknown as { session: { client: PostgresJsClient | PgliteClient } }).session.client;
  if (!("unsafe" in client)) {
    await client.query(`copy ${target} from '/dev/blob'`, [], { blob: new Blob([text]) });
    return;
  }
  // postgres.js 3.4 never settles the writable of a COPY the server refuses (porsager/postgres
  // #1173), and hands the server's error only to the query's own `reject`, which has already
  // resolved with the stream. So the error is caught there, and once the end of the COPY data has
  // been sent (the stream's `_final`; postgres.js refuses other statements before that), a
  // statement queued behind it on the same transaction ends the wait: it fails when the COPY
  // failed (the transaction is aborted) and succeeds only after the COPY did.
  const query = client.unsafe(`copy ${target} from stdin`);
  let refused: unknown;
  const reject = query.reject;
  query.reject = (e: unknown) => {
    refused = e;
    reject(e);
  };
  const sink = (await query.writable()) as NodeJS.WritableStream & { _final(cb: (e?: Error) => void): void };
  const final = sink._final;
  const ended = new Promise<void>((resolve) => {
    sink._final = (cb) => {
      final.call(sink, cb);
      resolve();
    };
  });
  sink.end(text);
  await ended;
  try {
    await Promise.race([finished(sink), client.unsafe("select 1")]);
  } catch (e) {
    throw refused instanceof Error ? refused : e;
  }
}
