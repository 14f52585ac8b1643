import { spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "drizzle-orm";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_ORGANIZATIONS, demoAccounts, demoId, demoIncidents } from "../seeds/demo-world";
import { canSee, OrganizationKind } from "../src/modules/access/tlp";
import { testConfig } from "../src/config";
import { openDatabase, type Database } from "../src/db/client";
import { newToken } from "../src/modules/access/tokens";
import { idOf } from "../src/shared/ids";
import { createEmptyPostgresDatabase, gql, TARGET } from "./harness";

// These tests run the hub and its tools as real processes, from the same files `npm start` and the
// `npm run` scripts run. A start loads TypeScript through tsx and opens PGlite: several seconds on a
// busy machine, hence the generous timeouts.
const ROOT = fileURLToPath(new URL("..", import.meta.url));
const START_MS = 180_000;
const SLOW = 360_000;

/** Every variable the hub reads: dropped from the inherited environment so only the test's own count. */
const HUB_VARIABLES = new Set([...Object.keys(testConfig()), "DATABASE_URL", "HUB_BOOTSTRAP_TOKEN"]);

function envWith(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!HUB_VARIABLES.has(k)) env[k] = v;
  return { ...env, PORT: "0", LOG_LEVEL: "info", ...settings };
}

/** Where a process keeps its data: a PGlite folder, or a PostgreSQL database of its own. */
interface Store {
  readonly env: Record<string, string>;
  /** Opens it from the test; only while no process has it open (PGlite allows one at a time). */
  open(): Promise<Database>;
  dispose(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

async function freshStore(): Promise<Store> {
  let store: Store;
  if (TARGET === "postgres") {
    const pg = await createEmptyPostgresDatabase("lifecycle");
    store = { env: { DATABASE_URL: pg.url }, open: () => openDatabase({ url: pg.url, poolMax: 1 }), dispose: pg.drop };
  } else {
    const dir = await mkdtemp(join(tmpdir(), "lifecycle-"));
    store = {
      env: { PGLITE_DIR: dir },
      open: () => openDatabase({ pgliteDir: dir }),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  }
  cleanups.push(() => store.dispose());
  return store;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child process whose output is collected; `waitFor` watches it for a pattern. */
class Proc {
  stdout = "";
  stderr = "";
  exit: Exit | undefined;
  readonly exited: Promise<Exit>;
  private readonly events = new EventEmitter();
  private readonly child;

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(command, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8").on("data", (c: string) => {
      this.stdout += c;
      this.events.emit("change");
    });
    this.child.stderr.setEncoding("utf8").on("data", (c: string) => {
      this.stderr += c;
      this.events.emit("change");
    });
    // "close" comes after the output streams have ended, so nothing printed is missed.
    this.exited = new Promise((resolve) =>
      this.child.on("close", (code, signal) => {
        this.exit = { code, signal };
        this.events.emit("change");
        resolve(this.exit);
      }),
    );
    cleanups.push(() => this.dispose());
  }

  get output() {
    return `${this.stderr}\n${this.stdout}`;
  }

  /** The first match of `re` in the output; rejects when the process ends or time runs out first. */
  waitFor(re: RegExp, timeoutMs = START_MS): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.output.match(re);
        if (m) finish(() => resolve(m));
        else if (this.exit)
          finish(() => reject(new Error(`exited ${JSON.stringify(this.exit)} before printing ${re}:\n${this.output}`)));
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`no ${re} within ${timeoutMs} ms:\n${this.output}`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.events.off("change", check);
        settle();
      };
      this.events.on("change", check);
      check();
    });
  }

  signal(signal: NodeJS.Signals) {
    this.child.kill(signal);
  }

  /** Kills what is still running. */
  async dispose() {
    if (this.exit) return;
    this.child.kill("SIGKILL");
    await this.exited;
  }
}

interface RunningHub {
  proc: Proc;
  /** http://host:port */
  url: string;
}

// `node --import tsx` rather than `npx tsx`: signals then reach the hub itself, not a wrapper.
const hubProcess = (settings: Record<string, string>) =>
  new Proc(process.execPath, ["--import", "tsx", "src/main.ts"], envWith(settings));

/** Spawns `src/main.ts` as `npm start` does, and waits until it prints where it listens. */
async function startHub(settings: Record<string, string>): Promise<RunningHub> {
  const proc = hubProcess(settings);
  const [, url = ""] = await proc.waitFor(/listening on (http:\/\/\S+)\/graphql/);
  return { proc, url };
}

const scripts = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> })
  .scripts;

/**
 * Runs one of package.json's scripts (`tsx <file>`) and waits for it to end. It runs the script's
 * file with `node --import tsx` rather than through npm and the tsx binary: the same code, three
 * node start-ups fewer.
 */
async function runScript(script: string, settings: Record<string, string>, args: string[] = []) {
  const [, file] = /^tsx (\S+)$/.exec(scripts[script] ?? "") ?? [];
  if (!file) throw new Error(`package.json has no script "${script}" of the form "tsx <file>"`);
  const proc = new Proc(process.execPath, ["--import", "tsx", file, ...args], envWith(settings));
  const { code } = await proc.exited;
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** JSON log lines (stdout), skipping anything else. */
function logLines(proc: Proc): Record<string, unknown>[] {
  return proc.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Opens a graphql-transport-ws socket and waits for connection_ack. */
async function openSocket(url: string, token: string): Promise<WebSocket> {
  const ws = new WebSocket(`${url.replace(/^http/, "ws")}/graphql`, "graphql-transport-ws");
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.once("close", (code) => reject(new Error(`closed with ${code} before connection_ack`)));
    ws.once("open", () =>
      ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })),
    );
    ws.once("message", (data: Buffer) => {
      const msg = JSON.parse(data.toString("utf8")) as { type: string };
      if (msg.type === "connection_ack") resolve();
      else reject(new Error(`expected connection_ack, got ${msg.type}`));
    });
  });
  ws.removeAllListeners("close");
  ws.removeAllListeners("error");
  return ws;
}

/**
 * A POST sent with `Expect: 100-continue` and its body held back: the hub's "100 Continue" proves
 * it has the request in hand, and the request stays in flight until `finish()` sends the body.
 */
function heldRequest(url: string, token: string, query: string) {
  const body = JSON.stringify({ query });
  const req = request(`${url}/graphql`, {
    method: "POST",
    agent: false,
    headers: {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      authorization: `Bearer ${token}`,
      expect: "100-continue",
    },
  });
  const accepted = new Promise<void>((resolve) => req.once("continue", () => resolve()));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", reject);
    });
  });
  req.flushHeaders();
  return { accepted, response, finish: () => req.end(body) };
}

const count = async (url: string, token: string) => {
  const r = await gql<{ organizations: { totalCount: number } }>(url, token, "{ organizations { totalCount } }");
  expect(r.errors).toBeUndefined();
  return r.data?.organizations.totalCount;
};

const operatorAdmin = demoAccounts().find(
  (a) => a.role === "ADMIN" && DEMO_ORGANIZATIONS.find((o) => o.key === a.org)?.kind === "HUB_OPERATOR",
);

// The four groups below are independent and run side by side (describe.concurrent); the steps
// within a group build on each other and run in order (it.sequential).

afterAll(async () => {
  // Processes first (they hold the stores), then the stores.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
}, SLOW);

describe.concurrent("a development start on a fresh data folder", () => {
  let store: Store;
  let first: RunningHub;

  beforeAll(async () => {
    store = await freshStore();
    first = await startHub({ ...store.env, HUB_ENV: "development" });
  }, SLOW);

  it.sequential(
    "prints its URL with the real port and the demo accounts' tokens, and a printed token works",
    async () => {
      expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(new URL(first.url).port).not.toBe("0");
      const printed = [...first.proc.stderr.matchAll(/^ {2}(.+?) +(ADMIN|ANALYST|READER) +(hub_demo_[\w-]+)$/gm)].map(
        ([, org, role, token]) => ({ org, role, token }),
      );
      expect(printed.map((p) => p.token).sort()).toEqual(
        demoAccounts()
          .map((a) => a.token)
          .sort(),
      );
      const analyst = printed.find((p) => p.role === "ANALYST");
      const r = await gql<{ viewer: { role: string; organization: { name: string } } }>(
        first.url,
        analyst?.token ?? null,
        "{ viewer { role organization { name } } }",
      );
      expect(r.errors).toBeUndefined();
      expect(r.data?.viewer).toEqual({ role: "ANALYST", organization: { name: analyst?.org } });
    },
  );

  it.sequential("loads demo incidents and assessments that each account sees differently", async () => {
    const seen = async (org: string, role: string) => {
      const token = demoAccounts().find((a) => a.org === org && a.role === role)?.token ?? null;
      const r = await gql<{
        incidents: { totalCount: number };
        assessments: {
          edges: { node: { campaignName: string | null; revision: number; status: string; opinions: unknown[] } }[];
        };
      }>(
        first.url,
        token,
        "{ incidents { totalCount } assessments { edges { node { campaignName revision status opinions { id } } } } }",
      );
      expect(r.errors).toBeUndefined();
      return {
        incidents: r.data?.incidents.totalCount,
        assessments: r.data?.assessments.edges.map((e) => [e.node.status, e.node.revision, e.node.opinions.length]),
      };
    };
    // Besides the cases, the demo world's twelve weeks of incidents for /trends (seeds/demo-world.ts:
    // no audience but the council for the RED ones), as many as the access rule lets each one see.
    const trendIncidentsSeenBy = (org: string, kind: OrganizationKind) =>
      demoIncidents().filter((i) =>
        canSee(
          { organizationId: demoId(`org ${org}`), organizationKind: kind, groupIds: [] },
          {
            ownerOrgId: demoId(`org ${i.org}`),
            tlp: i.tlp,
            audienceOrgIds: i.tlp === "RED" ? [demoId("org ncc")] : [],
            audienceGroupIds: [],
          },
        ),
      ).length;
    // Aldoria owns the grid assessment (RED, revised, then released GREEN) and sees every revision
    // and the opinions addressed to it; it is in the group of Borovia's AMBER campaign assessment.
    expect(await seen("xa", "READER")).toEqual({
      incidents: 3 + trendIncidentsSeenBy("xa", OrganizationKind.MEMBER_STATE),
      assessments: [
        ["PROVISIONAL", 3, 3],
        ["PROVISIONAL", 1, 1],
        ["WITHDRAWN", 2, 1],
      ],
    });
    // Calderra sees the three APT1 attributions its RED feed imported from the STIX report (oldest
    // first: the feeds are filled before the cases), the grid assessment only from its GREEN
    // release, and its own RED one.
    expect(await seen("xc", "ANALYST")).toEqual({
      incidents: 3 + trendIncidentsSeenBy("xc", OrganizationKind.MEMBER_STATE),
      assessments: [
        ["PROVISIONAL", 1, 0],
        ["PROVISIONAL", 1, 0],
        ["PROVISIONAL", 1, 0],
        ["PROVISIONAL", 1, 2],
        ["WITHDRAWN", 2, 1],
        ["CONFIRMED", 2, 0],
      ],
    });
    // The partner sees the CLEAR incident and no assessment.
    expect(await seen("partner", "READER")).toEqual({
      incidents: 1 + trendIncidentsSeenBy("partner", OrganizationKind.PARTNER),
      assessments: [],
    });
  });

  it.sequential("answers /healthz and /readyz with 200", async () => {
    for (const path of ["/healthz", "/readyz"]) {
      const res = await fetch(`${first.url}${path}`);
      expect(res.status, path).toBe(200);
    }
  });

  it.sequential(
    "on SIGTERM finishes the request in flight, closes WebSockets with 1001, refuses new connections and exits 0",
    async () => {
      const token = operatorAdmin?.token ?? "";
      // Data written before the stop, for the next start to find.
      const created = await gql<{ createOrganization: { id: string } }>(
        first.url,
        token,
        `mutation { createOrganization(input: { kind: PARTNER, name: "Kept Across Restarts" }) { id } }`,
      );
      expect(created.errors).toBeUndefined();
      expect(await count(first.url, token)).toBe(DEMO_ORGANIZATIONS.length + 1);

      const ws = await openSocket(first.url, token);
      const wsClosed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
      const slow = heldRequest(first.url, token, "query InFlight { viewer { organization { name } } }");
      await slow.accepted;

      first.proc.signal("SIGTERM");
      await first.proc.waitFor(/"msg":"shutting down"/);
      await expect(fetch(`${first.url}/healthz`)).rejects.toThrow();
      expect(await wsClosed).toBe(1001);

      slow.finish();
      const answer = await slow.response;
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toEqual({
        data: { viewer: { organization: { name: "Hub Operations Centre" } } },
      });
      expect(await first.proc.exited).toEqual({ code: 0, signal: null });
      // Every request is logged, the last one before the exit included.
      expect(logLines(first.proc).find((l) => l.operationName === "InFlight")).toMatchObject({
        msg: "request",
        status: 200,
        outcome: "ok",
      });
    },
    SLOW,
  );

  it.sequential(
    "a second start on the same data keeps it, does not load the demo world twice, and exits 0 on SIGINT",
    async () => {
      await first.proc.dispose(); // in case the test before failed with the hub still running
      const second = await startHub({ ...store.env, HUB_ENV: "development" });
      try {
        const token = operatorAdmin?.token ?? "";
        expect(await count(second.url, token)).toBe(DEMO_ORGANIZATIONS.length + 1);
        const r = await gql<{ organizations: { edges: { node: { name: string } }[] } }>(
          second.url,
          token,
          "{ organizations(first: 100) { edges { node { name } } } }",
        );
        expect(r.data?.organizations.edges.map((e) => e.node.name)).toContain("Kept Across Restarts");
        // The log is written in batches (up to 100 ms late): wait for the line rather than look once.
        await second.proc.waitFor(/"msg":"demo world already present"/);
        const again = await gql<{ assessments: { totalCount: number } }>(
          second.url,
          demoAccounts().find((a) => a.org === "xa" && a.role === "READER")?.token ?? null,
          "{ assessments { totalCount } }",
        );
        expect(again.data?.assessments.totalCount).toBe(3);
      } finally {
        second.proc.signal("SIGINT");
      }
      expect(await second.proc.exited).toEqual({ code: 0, signal: null });
    },
    SLOW,
  );
});

describe.concurrent("a production start with HUB_BOOTSTRAP_TOKEN on a fresh database", () => {
  const bootstrap = newToken();
  const wrong = newToken();
  let hub: RunningHub;
  let issued = "";

  beforeAll(async () => {
    const store = await freshStore();
    hub = await startHub({ ...store.env, HUB_ENV: "production", HUB_BOOTSTRAP_TOKEN: bootstrap });
  }, SLOW);

  it.sequential("makes the bootstrap token an operator admin and loads no demo world", async () => {
    const r = await gql<{ viewer: { role: string; organization: { kind: string } } }>(
      hub.url,
      bootstrap,
      "{ viewer { role organization { kind } } }",
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.viewer).toEqual({ role: "ADMIN", organization: { kind: "HUB_OPERATOR" } });
    expect(await count(hub.url, bootstrap)).toBe(1);
    const demo = await gql(hub.url, operatorAdmin?.token ?? null, "{ viewer { role } }");
    expect(demo.status).toBe(401);
  });

  it.sequential(
    "logs one JSON line a request with operation name, duration, viewer's organisation and outcome",
    async () => {
      const me = await gql<{ viewer: { organization: { id: string } } }>(
        hub.url,
        bootstrap,
        "query WhoAmI { viewer { organization { id } } }",
      );
      const orgGid = me.data?.viewer.organization.id ?? "";
      const account = await gql<{ createAccount: { id: string } }>(
        hub.url,
        bootstrap,
        `mutation AddReader($o: ID!) { createAccount(input: { organizationId: $o, name: "reader", role: READER }) { id } }`,
        { o: orgGid },
      );
      const created = await gql<{ createApiToken: { token: string } }>(
        hub.url,
        bootstrap,
        `mutation Issue($a: ID!) { createApiToken(input: { accountId: $a, name: "t" }) { token } }`,
        { a: account.data?.createAccount.id },
      );
      issued = created.data?.createApiToken.token ?? "";
      expect(issued).toMatch(/^hub_/);
      const refused = await gql(
        hub.url,
        issued,
        `mutation Overreach { createOrganization(input: { kind: PARTNER, name: "nope" }) { id } }`,
      );
      expect(refused.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
      expect((await gql(hub.url, wrong, "query Intruder { viewer { role } }")).status).toBe(401);

      // The line is written after the answer is sent: let it reach the pipe.
      await hub.proc.waitFor(/"operationName":"Overreach"/, 10_000);
      const requests = logLines(hub.proc).filter((l) => l.msg === "request");
      const line = (name: string) => requests.find((l) => l.operationName === name);
      expect(line("WhoAmI")).toMatchObject({
        operationName: "WhoAmI",
        durationMs: expect.any(Number),
        organizationId: idOf("Organization", orgGid),
        outcome: "ok",
      });
      expect(line("Overreach")).toMatchObject({ organizationId: idOf("Organization", orgGid), outcome: "FORBIDDEN" });
      // One line a request: WhoAmI, AddReader, Issue, Overreach and the anonymous 401.
      expect(requests.length).toBeGreaterThanOrEqual(5);
      expect(requests.some((l) => l.outcome === "rejected" && l.organizationId === null)).toBe(true);
    },
  );

  it.sequential(
    "prints no token anywhere, from start to exit",
    async () => {
      hub.proc.signal("SIGTERM");
      expect(await hub.proc.exited).toEqual({ code: 0, signal: null });
      const output = hub.proc.output;
      for (const token of [bootstrap, wrong, issued].filter(Boolean)) expect(output).not.toContain(token);
      expect(output).not.toContain("hub_");
    },
    SLOW,
  );
});

describe.concurrent("configuration", () => {
  it.sequential(
    "a bad value stops the start with exit code 2 and a message naming the variable",
    async () => {
      const cases: [Record<string, string>, string][] = [
        [{ PORT: "abc" }, "PORT"],
        [{ DATABASE_URL: "mysql://x" }, "DATABASE_URL"],
        [{ HUB_ENV: "production", SEED_DEMO: "true" }, "SEED_DEMO"],
      ];
      await Promise.all(
        cases.map(async ([settings, variable]) => {
          const proc = hubProcess(settings);
          expect(await proc.exited).toEqual({ code: 2, signal: null });
          expect(proc.stderr).toContain(variable);
          expect(proc.output).not.toContain("listening");
        }),
      );
    },
    SLOW,
  );
});

describe.concurrent("the database tools", () => {
  let store: Store;

  beforeAll(async () => {
    store = await freshStore();
  }, SLOW);

  it.sequential(
    "db:migrate applies the migrations, then finds nothing to do",
    async () => {
      const first = await runScript("db:migrate", store.env);
      expect(first.code, first.stderr).toBe(0);
      // Every migration in drizzle/, by the journal drizzle-kit writes.
      const journal = JSON.parse(readFileSync("drizzle/meta/_journal.json", "utf8")) as { entries: { tag: string }[] };
      const tags = journal.entries.map((e) => e.tag);
      expect(first.stdout).toContain(`Applied ${tags.length} migration${tags.length === 1 ? "" : "s"} to `);
      expect(first.stdout).toContain(`: ${tags.join(", ")}`);
      const again = await runScript("db:migrate", store.env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/is up to date/);
    },
    SLOW,
  );

  it.sequential(
    "db:seed loads the demo world once, and says so the second time",
    async () => {
      const first = await runScript("db:seed", store.env);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/Loaded the demo world/);
      const again = await runScript("db:seed", store.env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).toMatch(/already present/);
    },
    SLOW,
  );

  it.sequential(
    "db:seed refuses in production with exit code 1",
    async () => {
      const r = await runScript("db:seed", { ...store.env, HUB_ENV: "production" });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Refusing to load the demo world: HUB_ENV is production/);
    },
    SLOW,
  );

  it.sequential(
    "audit:verify says OK with the entry count on an intact chain, and names the entry changed behind its back",
    async () => {
      const database = await store.open();
      let entries: number;
      try {
        const result = await database.db.execute(sql`select count(*)::int as n from audit_log`);
        const rows = Array.isArray(result) ? result : (result as { rows: { n: number }[] }).rows;
        entries = Number((rows[0] as { n: number }).n);
      } finally {
        await database.close();
      }
      expect(entries).toBeGreaterThan(0);
      const ok = await runScript("audit:verify", store.env);
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout).toMatch(new RegExp(`^OK: .* intact \\(${entries} entr${entries === 1 ? "y" : "ies"}\\)`));

      const tamper = await store.open();
      try {
        await tamper.db.execute(sql`update audit_log set operation = 'forged' where seq = 1`);
      } finally {
        await tamper.close();
      }
      const broken = await runScript("audit:verify", store.env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/seq 1: content does not match its hash/);
    },
    SLOW,
  );

  it.sequential(
    "each tool prints its usage with --help, refuses an unknown argument with 2, and names a database it cannot reach",
    async () => {
      const tools = ["db:migrate", "db:seed", "audit:verify"];
      // A port nothing listens on: any attempt to touch it fails, so --help must not try.
      const nowhere = { DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" };
      await Promise.all(
        tools.map(async (tool) => {
          const help = await runScript(tool, nowhere, ["--help"]);
          expect(help.code, tool).toBe(0);
          expect(help.stdout, tool).toContain(`usage: npm run ${tool}`);
          const unknown = await runScript(tool, nowhere, ["--force"]);
          expect(unknown.code, tool).toBe(2);
          expect(unknown.stderr, tool).toContain("unknown argument: --force");
          const unreachable = await runScript(tool, nowhere);
          expect(unreachable.code, tool).toBe(1);
          expect(unreachable.stderr, tool).toContain("cannot reach PostgreSQL at 127.0.0.1:1/nowhere");
        }),
      );
    },
    SLOW,
  );

  it.sequential(
    "each tool exits 2 on a bad configuration value, naming the variable",
    async () => {
      const results = await Promise.all(
        ["db:migrate", "db:seed", "audit:verify"].map((s) => runScript(s, { DATABASE_URL: "mysql://x" })),
      );
      for (const r of results) {
        expect(r.code).toBe(2);
        expect(r.stderr).toContain("DATABASE_URL");
      }
    },
    SLOW,
  );
});
