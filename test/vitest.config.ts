import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for every dependency; vite would give our own code the
    // .mjs build, and graphql refuses to mix the two ("from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    root: new URL("..", import.meta.url).pathname,
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // Migrates one database (PGlite snapshot or PostgreSQL template) that each test database copies.
    globalSetup: ["test/global-setup.ts"],
    // Each file boots its own hub on its own database, so files run in parallel.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
