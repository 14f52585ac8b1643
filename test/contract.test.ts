import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { composeServices } from "@apollo/composition";
import { isObjectType, parse, type GraphQLSchema } from "graphql";
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toGlobalId } from "../src/shared/ids";
import { startHub, type SeededAccount, type SeededOrg, type TestHub } from "./harness";

let hub: TestHub;

beforeAll(async () => {
  hub = await startHub();
});
afterAll(() => hub?.dispose());

describe("GraphQL over HTTP (graphql-http audits)", () => {
  let token = "";
  beforeAll(async () => {
    token = (await hub.world.account(await hub.world.org("MEMBER_STATE"), "READER")).token;
  });

  // The audits are listed before the hub starts, so the URL is read lazily when each one runs.
  const audits = serverAudits({
    url: () => `${hub.url}/graphql`,
    fetchFn: (input: Parameters<typeof fetch>[0], init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set("authorization", `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });

  for (const audit of audits) {
    it(audit.name, async ({ annotate }) => {
      const result = await audit.fn();
      if (audit.name.startsWith("MUST")) {
        expect(result.status === "ok" ? "ok" : `${result.status}: ${result.reason}`, audit.id).toBe("ok");
      } else if (result.status !== "ok") {
        // SHOULD and MAY are recommendations: recorded on the test, never a failure.
        await annotate(`${audit.id} ${result.status}: ${result.reason}`, "notice");
      }
    });
  }
});

/** An object type's fields by name and printed type, or {} when the schema lacks it. */
function fieldsOf(schema: GraphQLSchema | undefined, name: string): Record<string, string> {
  const type = schema?.getType(name);
  if (!isObjectType(type)) return {};
  return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, String(f.type)]));
}

describe("Federation 2 composition", () => {
  const hubSdl = readFileSync("schema/subgraph.graphql", "utf8");
  const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])`;

  it("composes the committed subgraph SDL with a portal subgraph that references Organization by id", () => {
    const portalSdl = `${link}
      type Organization @key(fields: "id", resolvable: false) {
        id: ID!
      }
      type PortalIncident @key(fields: "id") {
        id: ID!
        title: String!
        reportedBy: Organization!
      }
      type Query {
        portalIncidents: [PortalIncident!]!
      }`;
    const result = composeServices([
      { name: "hub", typeDefs: parse(hubSdl), url: "http://hub.invalid/graphql" },
      { name: "incidents-portal", typeDefs: parse(portalSdl), url: "http://portal.invalid/graphql" },
    ]);
    expect(result.errors?.map((e) => e.message)).toBeUndefined();
    const sdl = result.supergraphSdl ?? "";
    expect(sdl).toMatch(/join__graph\(name: "hub"/);
    expect(sdl).toMatch(/join__graph\(name: "incidents-portal"/);
    for (const entity of ["Organization", "Account", "SharingGroup", "Contact"])
      expect(sdl).toMatch(new RegExp(`type ${entity} implements Node\\s[^{]*@join__type\\(graph: HUB, key: "id"\\)`));
    expect(sdl).toMatch(/@join__type\(graph: INCIDENTS_PORTAL, key: "id", resolvable: false\)/);

    const api = result.schema?.toAPISchema().toGraphQLJSSchema();
    expect(fieldsOf(api, "Query")).toMatchObject({
      node: "Node!",
      viewer: "Viewer!",
      portalIncidents: "[PortalIncident!]!",
    });
    expect(fieldsOf(api, "PortalIncident")).toEqual({ id: "ID!", title: "String!", reportedBy: "Organization!" });
    expect(fieldsOf(api, "Organization")).toMatchObject({ id: "ID!", name: "String!", contacts: "[Contact!]!" });
  });

  it("composes with a subgraph that adds a field to Organization through its key", () => {
    const statsSdl = `${link}
      type Organization @key(fields: "id") {
        id: ID!
        openIncidentCount: Int!
      }`;
    const result = composeServices([
      { name: "hub", typeDefs: parse(hubSdl), url: "http://hub.invalid/graphql" },
      { name: "incident-stats", typeDefs: parse(statsSdl), url: "http://stats.invalid/graphql" },
    ]);
    expect(result.errors?.map((e) => e.message)).toBeUndefined();
    const api = result.schema?.toAPISchema().toGraphQLJSSchema();
    expect(fieldsOf(api, "Organization")).toMatchObject({
      id: "ID!",
      name: "String!",
      kind: "OrganizationKind!",
      openIncidentCount: "Int!",
    });
  });
});

describe("entity lookups go through the access rule", () => {
  let owner: SeededOrg;
  let viewerOrg: SeededOrg;
  let ownerAdmin: SeededAccount;
  let viewer: SeededAccount;
  let hiddenContact: string;
  let sharedContact: string;
  let greenContact: string;

  const ENTITIES = `query($r: [_Any!]!) {
    _entities(representations: $r) {
      __typename
      ... on Contact { id name marking { tlp } }
      ... on Account { id name }
    }
  }`;
  const NODE = `query($id: ID!) { node(id: $id) { __typename id } }`;

  async function createContact(name: string, tlp: string, audience: SeededOrg[]) {
    const r = await hub.gql<{ createContact: { id: string } }>(
      ownerAdmin.token,
      `mutation($org: ID!, $input: ContactInput!) { createContact(organizationId: $org, input: $input) { id } }`,
      {
        org: owner.gid,
        input: {
          kind: "TECHNICAL",
          name,
          timeZone: "Europe/Vienna",
          marking: { tlp, audienceOrganizationIds: audience.map((o) => o.gid) },
        },
      },
    );
    expect(r.errors).toBeUndefined();
    const id = r.data?.createContact.id;
    if (!id) throw new Error("createContact returned no id");
    return id;
  }

  const entities = (representations: { __typename: string; id: string }[]) =>
    hub.gql<{ _entities: unknown[] }>(viewer.token, ENTITIES, { r: representations });
  const comparable = (r: Awaited<ReturnType<TestHub["gql"]>>) => ({ status: r.status, data: r.data, errors: r.errors });

  beforeAll(async () => {
    owner = await hub.world.org("MEMBER_STATE");
    viewerOrg = await hub.world.org("MEMBER_STATE");
    const bystander = await hub.world.org("MEMBER_STATE");
    ownerAdmin = await hub.world.account(owner, "ADMIN");
    viewer = await hub.world.account(viewerOrg, "READER");
    hiddenContact = await createContact("Hidden desk", "AMBER", [bystander]);
    sharedContact = await createContact("Shared desk", "AMBER", [viewerOrg]);
    greenContact = await createContact("Green desk", "GREEN", []);
  });

  it("answers an AMBER contact outside the viewer's audience exactly like a contact that does not exist", async () => {
    const missing = toGlobalId("Contact", randomUUID());
    const hidden = await entities([{ __typename: "Contact", id: hiddenContact }]);
    const absent = await entities([{ __typename: "Contact", id: missing }]);
    expect(hidden.status).toBe(200);
    expect(hidden.data).toEqual({ _entities: [null] });
    expect(comparable(hidden)).toEqual(comparable(absent));
  });

  it("resolves contacts the viewer may see, alongside nulls for hidden and missing ones", async () => {
    const r = await entities([
      { __typename: "Contact", id: sharedContact },
      { __typename: "Contact", id: hiddenContact },
      { __typename: "Contact", id: toGlobalId("Contact", randomUUID()) },
      { __typename: "Contact", id: greenContact },
    ]);
    expect(r.errors).toBeUndefined();
    expect(r.data?._entities).toEqual([
      { __typename: "Contact", id: sharedContact, name: "Shared desk", marking: { tlp: "AMBER" } },
      null,
      null,
      { __typename: "Contact", id: greenContact, name: "Green desk", marking: { tlp: "GREEN" } },
    ]);
  });

  it("gives the same NOT_FOUND from node(id) for an invisible contact as for a nonexistent one", async () => {
    const hidden = await hub.gql(viewer.token, NODE, { id: hiddenContact });
    const absent = await hub.gql(viewer.token, NODE, { id: toGlobalId("Contact", randomUUID()) });
    expect(hidden.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect(comparable(hidden)).toEqual(comparable(absent));
    const shown = await hub.gql(viewer.token, NODE, { id: sharedContact });
    expect(shown.data).toEqual({ node: { __typename: "Contact", id: sharedContact } });
  });

  it("answers an account of another organisation exactly like an account that does not exist", async () => {
    const other = await entities([{ __typename: "Account", id: ownerAdmin.gid }]);
    const absent = await entities([{ __typename: "Account", id: toGlobalId("Account", randomUUID()) }]);
    expect(other.data).toEqual({ _entities: [null] });
    expect(comparable(other)).toEqual(comparable(absent));
    const own = await entities([{ __typename: "Account", id: viewer.gid }]);
    expect(own.data).toEqual({ _entities: [{ __typename: "Account", id: viewer.gid, name: expect.any(String) }] });
  });

  it("answers a representation whose id names another type like a missing one", async () => {
    const r = await entities([{ __typename: "Contact", id: viewer.gid }]);
    expect(comparable(r)).toEqual(comparable(await entities([{ __typename: "Contact", id: "not-an-id" }])));
    expect(r.data).toEqual({ _entities: [null] });
  });
});
