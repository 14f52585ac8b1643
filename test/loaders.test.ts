import { describe, expect, it } from "vitest";
import { createLoaders } from "../src/context";
import type { Db } from "../src/db/client";
import type { ViewerIdentity } from "../src/modules/access/viewer";
import { lazyLoaders } from "../src/shared/loaders";

describe("lazyLoaders", () => {
  it("makes each loader on its first read, once per operation, from that operation's deps", () => {
    const made: string[] = [];
    const make = lazyLoaders({
      a: (n: number) => (made.push(`a${n}`), { n }),
      b: (n: number) => (made.push(`b${n}`), { n: -n }),
    });
    const one = make(1);
    const two = make(2);
    expect(made).toEqual([]);
    expect(one.a).toEqual({ n: 1 });
    expect(one.a).toBe(one.a);
    expect(two.a).toEqual({ n: 2 });
    expect(two.a).not.toBe(one.a);
    expect(made).toEqual(["a1", "a2"]);
    expect(one.b).toEqual({ n: -1 });
    expect(made).toEqual(["a1", "a2", "b1"]);
  });

  it("keeps the loaders when the object holding them is copied, as Apollo copies the context", () => {
    const make = lazyLoaders({ a: () => ({}) });
    const ctx = { loaders: make(undefined) };
    const copy = { ...ctx };
    expect(copy.loaders.a).toBe(ctx.loaders.a);
  });
});

describe("createLoaders", () => {
  it("has the viewer's account and organisation primed, and makes no loader before it is read", async () => {
    // A database that fails every use: priming must answer without it, and nothing else may run.
    const db = new Proxy({} as Db, {
      get() {
        throw new Error("the database was used");
      },
    });
    const viewer = {
      accountId: "a",
      organizationId: "o",
      groupIds: [],
      account: { dbId: "a" },
      organization: { dbId: "o" },
    } as unknown as ViewerIdentity;
    const loaders = createLoaders(db, viewer);
    expect(await loaders.account.load("a")).toBe(viewer.account);
    expect(await loaders.organization.load("o")).toBe(viewer.organization);
    expect(loaders.indicator).toBe(loaders.indicator);
  });
});
