// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/", ".data/", "test-output/", "test/generated/", "drizzle/meta/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused bindings are noise; a leading underscore marks the deliberate ones.
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
      ],
      // Expected failures must be coded GraphQL errors (src/shared/errors.ts), not bare Errors thrown from resolvers;
      // this is enforced by review, while this rule keeps `!` off lookups that can miss.
      "@typescript-eslint/no-non-null-assertion": "error",
      "no-console": "error",
    },
  },
  {
    // The /trends page's script runs in the browser as a classic script, with Chart.js's UMD global.
    files: ["src/modules/trends/page/*.js"],
    languageOptions: {
      sourceType: "script",
      globals: { window: "readonly", document: "readonly", fetch: "readonly", Option: "readonly", Chart: "readonly" },
    },
  },
);
