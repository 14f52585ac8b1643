import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { fromGlobalId, idOf } from "../../shared/ids";
import { Node } from "./access.type";
import { TYPE } from "./access.mappers";

type NodeLoader = (ctx: Context, globalId: string) => Promise<Node | null>;

/** uuid-keyed access types, each through its loader (and so through the access rule). */
const byUuid =
  (type: string, load: (ctx: Context, id: string) => Promise<Node | null>): NodeLoader =>
  (ctx, globalId) => {
    const id = idOf(type, globalId);
    return id ? load(ctx, id) : Promise.resolve(null);
  };

const nodeLoaders = new Map<string, NodeLoader>([
  [TYPE.Organization, byUuid(TYPE.Organization, (ctx, id) => ctx.loaders.organization.load(id))],
  [TYPE.Account, byUuid(TYPE.Account, (ctx, id) => ctx.loaders.account.load(id))],
  [TYPE.SharingGroup, byUuid(TYPE.SharingGroup, (ctx, id) => ctx.loaders.sharingGroup.load(id))],
  [TYPE.Contact, byUuid(TYPE.Contact, (ctx, id) => ctx.loaders.contact.load(id))],
]);

/** Other modules make their types reachable through `node(id)` and federation this way. */
export function registerNodeType(type: string, load: NodeLoader): void {
  nodeLoaders.set(type, load);
}

/** Loads any node the viewer may see; null for malformed, unknown and invisible ids alike. */
export function loadNode(ctx: Context, globalId: string): Promise<Node | null> {
  const d = fromGlobalId(globalId);
  const load = d && nodeLoaders.get(d.type);
  return load ? load(ctx, globalId) : Promise.resolve(null);
}

@Resolver()
export class NodeResolver {
  @Query(() => Node, { description: "Any object by global id; NOT_FOUND when missing or not visible." })
  async node(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Node> {
    viewerOf(ctx);
    const n = await loadNode(ctx, id);
    if (!n) throw notFound("Node");
    return n;
  }
}
