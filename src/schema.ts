import "reflect-metadata";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { printSubgraphSchema } from "@apollo/subgraph";
import { printSchemaWithDirectives } from "@graphql-tools/utils";
import { lexicographicSortSchema, parse, printSchema, type GraphQLSchema } from "graphql";
import { buildSchema, createResolversMap, getMetadataStorage, type PubSub } from "type-graphql";
import type { Context } from "./context";
import { accessResolvers, loadNode } from "./modules/access";
import { auditResolvers } from "./modules/audit";
import { indicatorResolvers } from "./modules/indicators";
import { incidentResolvers } from "./modules/incidents";
import { assessmentResolvers } from "./modules/assessments";
import { trendsResolvers } from "./modules/trends";
import { viewerOf } from "./context";
import { fromGlobalId } from "./shared/ids";

/** Federation 2 entity types: each resolves references through `loadNode`, i.e. the access rule. */
const ENTITIES = [
  "Organization",
  "Account",
  "SharingGroup",
  "Contact",
  "Indicator",
  "ThreatActor",
  "Incident",
  "TimelineEntry",
  "Assessment",
  "Opinion",
] as const;

const NO_PUBSUB: PubSub = {
  publish() {
    throw new Error("subscriptions are fed by the event log (EventHub), not a PubSub");
  },
  subscribe() {
    throw new Error("subscriptions are fed by the event log (EventHub), not a PubSub");
  },
};

const FEDERATION_LINK = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])`;

/**
 * Builds the hub's schema: type-graphql classes, made into an Apollo Federation 2 subgraph so a
 * gateway can compose it. The served schema is the subgraph (it has `_entities` and `_service`).
 */
export async function buildHubSchema(): Promise<{ schema: GraphQLSchema; publicSchema: GraphQLSchema }> {
  // Plain fields (no @FieldResolver) read their property with graphql's default resolver. Without
  // this, type-graphql wraps each in a resolver of its own that allocates and runs the (absent)
  // middlewares: on a page of 100 assessments that is ~15,000 wrapper calls. The hub uses no
  // type-graphql middlewares or @Authorized, and no field is renamed, so the answer is the same.
  const metadata = getMetadataStorage();
  for (const f of metadata.fields)
    if (f.middlewares?.length || f.roles?.length || f.schemaName !== f.name)
      throw new Error(`${f.target.name}.${f.name}: plain fields are read directly (no middlewares, roles or renames)`);
  for (const type of metadata.objectTypes) type.simpleResolvers ??= true;
  const base = await buildSchema({
    resolvers: [
      ...accessResolvers,
      ...auditResolvers,
      ...indicatorResolvers,
      ...incidentResolvers,
      ...assessmentResolvers,
      ...trendsResolvers,
    ],
    validate: false,
    emitSchemaFile: false,
    // type-graphql insists on a PubSub once there are subscriptions, though every subscription here
    // brings its own `subscribe` (fed by the event log through EventHub) and never uses it.
    pubSub: NO_PUBSUB,
  });
  const referenceResolvers = Object.fromEntries(
    ENTITIES.map((type) => [
      type,
      {
        __resolveReference: async (ref: { id: string }, ctx: Context) => {
          viewerOf(ctx);
          // Another type's id, a missing record and an invisible one all resolve to null.
          return fromGlobalId(ref.id)?.type === type ? loadNode(ctx, ref.id) : null;
        },
      },
    ]),
  );
  const resolvers = createResolversMap(base) as Record<string, Record<string, unknown>>;
  for (const [type, r] of Object.entries(referenceResolvers)) resolvers[type] = { ...resolvers[type], ...r };
  const schema = buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(base)}`),
    resolvers: resolvers as never,
  });
  return { schema, publicSchema: base };
}

/** The client-facing SDL (schema/schema.graphql): the type-graphql schema, without federation internals. */
export function printPublicSchema(schema: GraphQLSchema): string {
  const sdl = printSchema(lexicographicSortSchema(schema));
  return sdl.endsWith("\n") ? sdl : `${sdl}\n`;
}

/** The Federation 2 SDL a gateway composes (schema/subgraph.graphql). */
export function printSubgraphSdl(schema: GraphQLSchema): string {
  const sdl = printSubgraphSchema(schema);
  return sdl.endsWith("\n") ? sdl : `${sdl}\n`;
}
