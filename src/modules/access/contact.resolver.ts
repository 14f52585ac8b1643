import { Arg, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { Contact, Marking, Organization, SharingGroup } from "./access.type";
import { ContactInput } from "./access.input";
import { createContact, deleteContact, updateContact } from "./contacts.service";

@Resolver(() => Contact)
export class ContactResolver {
  @FieldResolver(() => Organization)
  async organization(@Root() c: Contact, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(c.organizationDbId);
    if (!org) throw new Error(`contact ${c.dbId} has no organisation`);
    return org;
  }

  @Mutation(() => Contact, { description: "An organisation's admins add a point of contact." })
  createContact(
    @Arg("organizationId", () => ID) organizationId: string,
    @Arg("input", () => ContactInput) input: ContactInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createContact", targetIds: [organizationId] }, (tx) =>
      createContact(tx, v, organizationId, input),
    );
  }

  @Mutation(() => Contact, { description: "Replaces a point of contact's details and marking." })
  updateContact(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => ContactInput) input: ContactInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "updateContact", targetIds: [id] }, (tx) =>
      updateContact(tx, v, id, input),
    );
  }

  @Mutation(() => ID, { description: "Removes a point of contact; returns its id." })
  deleteContact(@Arg("id", () => ID) id: string, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "deleteContact", targetIds: [id], resultIds: () => [] }, (tx) =>
      deleteContact(tx, v, id),
    );
  }
}

@Resolver(() => Marking)
export class MarkingResolver {
  @FieldResolver(() => [Organization], {
    nullable: true,
    description: "Audience organisations; for the owner only, null for others.",
  })
  async audienceOrganizations(@Root() m: Marking, @Ctx() ctx: Context): Promise<Organization[] | null> {
    if (viewerOf(ctx).organizationId !== m.ownerDbId) return null;
    return (await ctx.loaders.organization.loadMany(m.audienceOrgDbIds)).filter(
      (o): o is Organization => !!o && !(o instanceof Error),
    );
  }

  @FieldResolver(() => [SharingGroup], {
    nullable: true,
    description: "Audience sharing groups; for the owner only, null for others.",
  })
  async audienceGroups(@Root() m: Marking, @Ctx() ctx: Context): Promise<SharingGroup[] | null> {
    if (viewerOf(ctx).organizationId !== m.ownerDbId) return null;
    return (await ctx.loaders.sharingGroup.loadMany(m.audienceGroupDbIds)).filter(
      (g): g is SharingGroup => !!g && !(g instanceof Error),
    );
  }
}
