import { createHash as nodeHash } from "node:crypto";
import Module, { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { cacheCryptoForApolloHashing } from "../src/transport/apollo";

// Apollo hashes each request's query through this package; with the hub's fix it no longer
// resolves "crypto" (a trip through every resolution hook) on each call.
describe("Apollo's query hash", () => {
  it("is the same SHA-256 and resolves no module per call", () => {
    cacheCryptoForApolloHashing();
    cacheCryptoForApolloHashing(); // idempotent
    const require = createRequire(createRequire(import.meta.url).resolve("@apollo/server"));
    const { createHash } = require("@apollo/utils.createhash") as typeof import("@apollo/utils.createhash");
    const loader = Module as unknown as { _resolveFilename: (...args: unknown[]) => unknown };
    const resolve = loader._resolveFilename;
    let resolutions = 0;
    loader._resolveFilename = (...args: unknown[]) => (resolutions++, resolve.apply(Module, args));
    try {
      const query = "query Point($v: String!) { indicator(value: $v) { id } }";
      expect(createHash("sha256").update(query).digest("hex")).toBe(nodeHash("sha256").update(query).digest("hex"));
    } finally {
      loader._resolveFilename = resolve;
    }
    expect(resolutions).toBe(0);
  });
});
