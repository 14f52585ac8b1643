import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { buildHubSchema, printPublicSchema, printSubgraphSdl } from "../schema";

/** Writes schema/schema.graphql and schema/subgraph.graphql from the code. */
const root = resolve(import.meta.dirname, "../..");
const { schema, publicSchema } = await buildHubSchema();
writeFileSync(resolve(root, "schema/schema.graphql"), printPublicSchema(publicSchema));
writeFileSync(resolve(root, "schema/subgraph.graphql"), printSubgraphSdl(schema));
process.stdout.write("wrote schema/schema.graphql and schema/subgraph.graphql\n");
