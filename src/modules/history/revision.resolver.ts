import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { Context } from "../../context";
import { notFound } from "../../shared/errors";
import { andThen } from "../../shared/loaders";
import { Account, Organization } from "../access/access.type";
import { Revision } from "./revision.type";

@Resolver(() => Revision)
export class RevisionResolver {
  @FieldResolver(() => Organization, { description: "The organisation whose analyst made it." })
  authorOrganization(@Root() r: Revision, @Ctx() ctx: Context): Organization | Promise<Organization> {
    // Synchronous once loaded: a history's revisions mostly name the same few organisations.
    return andThen(ctx.loaders.organization.get(r.authorOrgDbId), (org) => {
      if (!org) throw notFound("Organization");
      return org;
    });
  }

  @FieldResolver(() => Account, {
    nullable: true,
    description: "The account that made it: shown to its own organisation and the operator's admins, null to others.",
  })
  author(@Root() r: Revision, @Ctx() ctx: Context): Promise<Account | null> {
    return ctx.loaders.account.load(r.authorAccountDbId);
  }
}
