import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

/**
 * A first-in first-out holding area for JSON values that must wait for something later in the
 * input (a MISP event's `Tag` list comes after its attributes). Up to `memoryLimit` values stay in
 * memory; beyond that they go, one JSON line each, to a temporary file that `drain` reads back in
 * order and deletes, so memory stays bounded however many values wait.
 */
export class Spool {
  private memory: unknown[] = [];
  private pending: string[] = [];
  private dir: string | undefined;
  private file: FileHandle | undefined;

  constructor(private readonly memoryLimit = 2_000) {}

  async push(value: unknown): Promise<void> {
    if (!this.file && this.memory.length < this.memoryLimit) {
      this.memory.push(value);
      return;
    }
    if (!this.file) {
      this.dir = await mkdtemp(join(tmpdir(), "ingest-spool-"));
      this.file = await open(join(this.dir, "values.jsonl"), "w");
      for (const v of this.memory) this.pending.push(JSON.stringify(v));
      this.memory = [];
    }
    this.pending.push(JSON.stringify(value));
    if (this.pending.length >= 1_000) await this.flushPending();
  }

  /** Yields every value pushed, in order, then empties the spool (and deletes its file). */
  async *drain(): AsyncGenerator<unknown> {
    try {
      const inMemory = this.memory;
      this.memory = [];
      yield* inMemory;
      if (this.file && this.dir) {
        await this.flushPending();
        await this.file.close();
        this.file = undefined;
        const lines = createInterface({ input: createReadStream(join(this.dir, "values.jsonl"), "utf8") });
        for await (const line of lines) if (line) yield JSON.parse(line) as unknown;
      }
    } finally {
      await this.dispose();
    }
  }

  /** Drops whatever is left and deletes the file; safe to call more than once. */
  async dispose(): Promise<void> {
    this.memory = [];
    this.pending = [];
    const { file, dir } = this;
    this.file = undefined;
    this.dir = undefined;
    await file?.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  }

  private async flushPending(): Promise<void> {
    if (!this.file || this.pending.length === 0) return;
    const text = this.pending.join("\n") + "\n";
    this.pending = [];
    await this.file.write(text);
  }
}
