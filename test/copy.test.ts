import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyArray, copyFrom, copyJson, copyValue } from "../src/db/copy";
import { rowsOf } from "../src/modules/indicators/ingest.service";
import { openDatabase } from "../src/db/client";
import { createTestDatabase, TARGET, type TestDatabase } from "./harness";

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t?.dispose());

const stage = sql`create temp table copied (n int, s text, a text[], j jsonb) on commit drop`;

describe("COPY into a staging table", () => {
  it("round-trips text, arrays and JSON with every character COPY treats specially", async () => {
    const s = "tab\there\nnew line \\ back\\slash \\N \r end";
    const a = ['say "hi"', "a,b", "back\\slash", "{braces}", "tab\there", "NULL", ""];
    const j = { k: 'q"uote\\', t: "\t" };
    const line = ["1", copyValue(s), copyArray(a), copyJson(j)].join("\t") + "\n";
    const nulls = ["2", copyValue(null), copyArray([]), copyJson(null)].join("\t") + "\n";
    const rows = await t.database.db.transaction(async (tx) => {
      await tx.execute(stage);
      await copyFrom(tx, "copied", line + nulls);
      return rowsOf<{ n: number; s: string | null; a: string[]; j: unknown }>(
        await tx.execute(sql`select n, s, a, j from copied order by n`),
      );
    });
    expect(rows).toEqual([
      { n: 1, s, a, j },
      { n: 2, s: null, a: [], j: null },
    ]);
  });

  it("fails with the database's own error when the rows are refused, and rolls the transaction back", async () => {
    const attempt = t.database.db.transaction(async (tx) => {
      await tx.execute(stage);
      await copyFrom(tx, "copied", "1\tok\t{}\t\\N\nnot a number\tx\t{}\t\\N\n");
    });
    await expect(attempt).rejects.toThrow(/invalid input syntax for type integer/);
    // The connection is usable again: the failed transaction was rolled back, not left open.
    const after = rowsOf<{ one: number }>(await t.database.db.execute(sql`select 1 as one`));
    expect(after).toEqual([{ one: 1 }]);
  });
});

describe.runIf(TARGET === "postgres")("connections to PostgreSQL (TCP_NODELAY sockets of the hub's own)", () => {
  it("connects to the URL's hosts in turn, past one that refuses", async () => {
    const url = new URL(process.env.TEST_DATABASE_URL ?? "");
    // postgres.js reads several hosts from one URL: host:port,host:port.
    const multi = `${url.protocol}//${url.username}@127.0.0.1:1,${url.host}${url.pathname}`;
    const database = await openDatabase({ url: multi, poolMax: 1 });
    try {
      const [row] = rowsOf<{ one: number }>(await database.db.execute(sql`select 1 as one`));
      expect(row?.one).toBe(1);
    } finally {
      await database.close();
    }
  });

  it("fails with the connection error when no host answers", async () => {
    const database = await openDatabase({ url: "postgres://postgres@127.0.0.1:1/none", poolMax: 1 });
    try {
      const failed = await database.db.execute(sql`select 1`).then(
        () => undefined,
        (e: unknown) => e,
      );
      // drizzle wraps the driver's error as its cause.
      expect(failed).toMatchObject({ cause: { code: "ECONNREFUSED" } });
    } finally {
      await database.close();
    }
  });
});
