import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { PageArgsInput } from "../../shared/pagination";
import { Organization } from "../access/access.type";
import { createThreatActor, listThreatActors } from "./actors.service";
import { CreateThreatActorInput, ThreatActorFilter } from "./incidents.input";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";
import { ThreatActor, ThreatActorConnection } from "./incidents.type";

@Resolver(() => ThreatActor)
export class ThreatActorResolver {
  @Query(() => ThreatActor, { description: "A threat actor; NOT_FOUND when missing or not visible." })
  async threatActor(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<ThreatActor> {
    viewerOf(ctx);
    const dbId = idOf(TYPE.ThreatActor, id);
    const a = dbId ? await incidentLoadersOf(ctx).threatActor.load(dbId) : null;
    if (!a) throw notFound("ThreatActor");
    return a;
  }

  @Query(() => ThreatActorConnection, { description: "Threat actors the viewer may see, by name." })
  threatActors(
    @Arg("filter", () => ThreatActorFilter, { nullable: true }) filter: ThreatActorFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    return listThreatActors(ctx.services.db, viewerOf(ctx), filter, page, ctx.services.config.MAX_PAGE_SIZE);
  }

  @Mutation(() => ThreatActor, {
    description:
      "Analysts add a threat actor or intrusion set; a name or alias already used by an actor you can see is a CONFLICT naming it.",
  })
  createThreatActor(@Arg("input", () => CreateThreatActorInput) input: CreateThreatActorInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createThreatActor" }, (tx) => createThreatActor(tx, v, input));
  }

  @FieldResolver(() => ThreatActor, {
    nullable: true,
    description: "The actor that replaces a retired one (STIX `revoked-by`); null when none or not visible to you.",
  })
  async replacedBy(@Root() a: ThreatActor, @Ctx() ctx: Context): Promise<ThreatActor | null> {
    return a.replacedByDbId ? incidentLoadersOf(ctx).threatActor.load(a.replacedByDbId) : null;
  }

  @FieldResolver(() => Organization)
  async owner(@Root() a: ThreatActor, @Ctx() ctx: Context): Promise<Organization> {
    const org = await ctx.loaders.organization.load(a.ownerDbId);
    if (!org) throw notFound("Organization");
    return org;
  }
}
