import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { buildHubSchema, printPublicSchema, printSubgraphSdl } from "../src/schema";

describe("committed schema files", () => {
  it("schema/schema.graphql and schema/subgraph.graphql match the code (run `npm run schema:emit`)", async () => {
    const { schema, publicSchema } = await buildHubSchema();
    expect(readFileSync("schema/schema.graphql", "utf8")).toBe(printPublicSchema(publicSchema));
    expect(readFileSync("schema/subgraph.graphql", "utf8")).toBe(printSubgraphSdl(schema));
  });
});
