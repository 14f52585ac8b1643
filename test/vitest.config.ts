import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

/** Compares the schema the code builds with the committed files: see the "schema" project below. */
const SCHEMA_TEST = "test/schema.test.ts";

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for every dependency; vite would give our own code the
    // .mjs build, and graphql refuses to mix the two ("from another module or realm").
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    root: new URL("..", import.meta.url).pathname,
    setupFiles: ["test/setup.ts"],
    // Each file boots its own hub on its own database, so files may run in parallel, one worker
    // fewer than the machine has cores (vitest's default). On PostgreSQL at least two: the workers
    // mostly wait for the server (two cores, one worker: 116-184 s; two: 83-84 s). On PGlite the
    // database runs inside the worker, and on two cores a second worker let the 1,000-event replay
    // test of live-updates time out (30 s) while test/lifecycle.test.ts's processes took the cores.
    pool: "forks",
    maxWorkers: Math.max(process.env.TEST_DATABASE_URL ? 2 : 1, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: "hub",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, SCHEMA_TEST],
          // Migrates one database (PGlite snapshot or PostgreSQL template) that each test database copies.
          globalSetup: ["test/global-setup.ts"],
          // A worker runs its files one after another in one process that loads the app's modules
          // once, rather than a fresh process per file that loads them again (about 2 s a file).
          // Files share no state: each has its own database and hub, and src/ caches only per
          // database or request.
          isolate: false,
        },
      },
      {
        extends: true,
        test: {
          name: "schema",
          include: [SCHEMA_TEST],
          // A process of its own: type-graphql orders a type's fields as its resolver modules were
          // first loaded, and in a shared process earlier files load them in another order than
          // `npm run schema:emit` does.
          isolate: true,
        },
      },
    ],
  },
});
