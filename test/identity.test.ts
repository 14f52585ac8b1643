import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHub, type TestHub, type SeededAccount, type SeededOrg } from "./harness";

let hub: TestHub;
let xa: SeededOrg;
let admin: SeededAccount;
let reader: SeededAccount;

beforeAll(async () => {
  hub = await startHub();
  xa = await hub.world.org("MEMBER_STATE");
  admin = await hub.world.account(xa, "ADMIN");
  reader = await hub.world.account(xa, "READER");
});
afterAll(() => hub?.dispose());

describe("viewer", () => {
  it("answers who the token belongs to", async () => {
    const r = await hub.gql<{ viewer: { role: string; organization: { name: string } } }>(
      admin.token,
      "{ viewer { role organization { name } } }",
    );
    expect(r.errors).toBeUndefined();
    expect(r.data?.viewer).toEqual({ role: "ADMIN", organization: { name: xa.name } });
  });

  it("refuses a request without a token with UNAUTHENTICATED", async () => {
    const r = await hub.gql(null, "{ viewer { role } }");
    expect(r.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("lets a reader see but not manage accounts", async () => {
    const r = await hub.gql(
      reader.token,
      `mutation($o: ID!) { createAccount(input: { organizationId: $o, name: "x", role: READER }) { id } }`,
      {
        o: xa.gid,
      },
    );
    expect(r.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });
});
