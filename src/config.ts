import { z } from "zod";

const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const int = (min: number) => z.coerce.number().int().min(min);

/**
 * Every environment variable the hub reads, with its default. README's configuration table
 * mirrors this list; keep them in step.
 */
const schema = z.object({
  HUB_ENV: z.enum(["development", "production", "test"]).default("development"),
  HOST: z.string().min(1).default("127.0.0.1"),
  PORT: int(0).max(65535).default(4000),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
    .optional(),
  PGLITE_DIR: z.string().min(1).default(".data/pglite"),
  DB_POOL_MAX: int(1).max(100).default(10),
  HUB_BOOTSTRAP_TOKEN: z
    .string()
    .regex(/^hub_[A-Za-z0-9_-]{32,128}$/, "must look like hub_ followed by 32-128 URL-safe characters")
    .optional(),
  SEED_DEMO: bool.optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  MAX_DEPTH: int(1).default(12),
  MAX_COST: int(1).default(20000),
  MAX_ALIASES: int(0).default(30),
  MAX_PAGE_SIZE: int(1).default(500),
  MAX_BODY_BYTES: int(1024).default(1_048_576),
  MAX_INGEST_BYTES: int(1024).default(2 * 1024 ** 3),
  REQUEST_TIMEOUT_MS: int(100).default(300_000),
  INGEST_IDLE_TIMEOUT_MS: int(100).default(60_000),
  RATE_LIMIT_PER_SECOND: int(1).default(50),
  RATE_LIMIT_BURST: int(1).default(200),
  TOKEN_CACHE_MS: int(0).max(1000).default(1000),
  SHUTDOWN_GRACE_MS: int(0).default(10_000),
  EVENT_RETENTION_HOURS: z.coerce.number().positive().default(168),
  EVENT_BUFFER_SIZE: int(1).default(10_000),
  EVENT_POLL_MS: int(50).default(2000),
  /** Trends: a cell built from fewer distinct contributing organisations is suppressed (a scope may raise it). */
  TRENDS_K: int(2).max(100).default(3),
  /** How often a node merges the trend rollups' per-transaction rows. */
  TRENDS_COMPACT_MS: int(1000).default(60_000),
  /** Read by src/modules/incidents/taxonomy.ts when it loads (validated here first by main.ts). */
  TAXONOMY_DIR: z.string().optional(),
});

export type Config = Readonly<
  Omit<z.infer<typeof schema>, "SEED_DEMO"> & {
    /** Load the demo world on start; never in production. */
    SEED_DEMO: boolean;
  }
>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment once; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const c = parsed.data;
  if (c.HUB_ENV === "production" && c.SEED_DEMO === true) {
    throw new ConfigError("Invalid configuration:\n  SEED_DEMO: the demo world is never loaded in production");
  }
  return Object.freeze({ ...c, SEED_DEMO: c.SEED_DEMO ?? c.HUB_ENV === "development" });
}

/** A config for tests and tools: defaults, overridden field by field. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({ ...loadConfig({ HUB_ENV: "test" }), ...overrides });
}
