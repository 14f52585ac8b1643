import type { CodegenConfig } from "@graphql-codegen/cli";

/** Typed operations for the tests (and any TypeScript client) from the emitted schema. */
const config: CodegenConfig = {
  schema: "schema/schema.graphql",
  documents: ["test/operations/**/*.graphql"],
  ignoreNoDocuments: false,
  generates: {
    "test/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false, gqlTagName: "graphql" },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { DateTime: "string", JSON: "unknown", JSONObject: "Record<string, unknown>", SafeInt: "number" },
      },
    },
  },
};

export default config;
