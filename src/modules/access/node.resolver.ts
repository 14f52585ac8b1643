import { Arg, Ctx, ID, Query, Resolver } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { fromGlobalId } from "../../shared/ids";
import { Node } from "./access.type";
import { TYPE } from "./access.mappers";

/**
 * Loads any node the viewer may see, through the same loaders (and so the same access rule) as
 * every other field. Modules add their types to `nodeLoaders`.
 */
export function loadNode(ctx: Context, globalId: string): Promise<Node | null> {
  const d = fromGlobalId(globalId);
  if (!d) return Promise.resolve(null);
  const l = ctx.loaders;
  const byType: Record<string, (id: string) => Promise<Node | null>> = {
    [TYPE.Organization]: (id) => l.organization.load(id),
    [TYPE.Account]: (id) => l.account.load(id),
    [TYPE.SharingGroup]: (id) => l.sharingGroup.load(id),
    [TYPE.Contact]: (id) => l.contact.load(id),
  };
  return byType[d.type]?.(d.id) ?? Promise.resolve(null);
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
