import { Arg, Args, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from "type-graphql";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { idOf } from "../../shared/ids";
import { PageArgsInput } from "../../shared/pagination";
import { Organization } from "../access/access.type";
import { Indicator } from "../indicators/indicators.type";
import { historyOf, presentMarking, Revision } from "../history";
import {
  addTimelineEntry,
  createIncident,
  listIncidents,
  setIncidentIndicators,
  updateIncident,
} from "./incidents.service";
import { CreateIncidentInput, IncidentFilter, TimelineEntryInput, UpdateIncidentInput } from "./incidents.input";
import { incidentLoadersOf } from "./incidents.loaders";
import { TYPE } from "./incidents.mappers";
import { Incident, IncidentConnection, IncidentTaxonomy, PriorityLevel, TimelineEntry } from "./incidents.type";
import { priorityLevel, TAXONOMY } from "./taxonomy";

const ownerOf = async (ctx: Context, ownerDbId: string): Promise<Organization> => {
  const org = await ctx.loaders.organization.load(ownerDbId);
  if (!org) throw notFound("Organization");
  return org;
};

@Resolver(() => Incident)
export class IncidentResolver {
  @Query(() => Incident, { description: "An incident; NOT_FOUND when missing or not visible." })
  async incident(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<Incident> {
    viewerOf(ctx);
    const dbId = idOf(TYPE.Incident, id);
    const i = dbId ? await incidentLoadersOf(ctx).incident.load(dbId) : null;
    if (!i) throw notFound("Incident");
    return i;
  }

  @Query(() => IncidentConnection, { description: "Incidents the viewer may see, oldest first." })
  incidents(
    @Arg("filter", () => IncidentFilter, { nullable: true }) filter: IncidentFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    return listIncidents(ctx.services.db, viewerOf(ctx), filter, page, ctx.services.config.MAX_PAGE_SIZE);
  }

  @Query(() => IncidentTaxonomy, { description: "RSIT classes and types, and the NCISS priority levels." })
  incidentTaxonomy(@Ctx() ctx: Context): IncidentTaxonomy {
    viewerOf(ctx);
    return {
      rsitVersion: TAXONOMY.rsitVersion,
      classes: TAXONOMY.classes.map((c) => ({ ...c, types: [...c.types] })),
      priorityLevels: [...TAXONOMY.levels],
    };
  }

  @Mutation(() => Incident, { description: "Analysts record an incident for their organisation." })
  createIncident(@Arg("input", () => CreateIncidentInput) input: CreateIncidentInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "createIncident" }, (tx) => createIncident(tx, v, input));
  }

  @Mutation(() => Incident, { description: "The owner's analysts change an incident; only the fields given change." })
  updateIncident(
    @Arg("id", () => ID) id: string,
    @Arg("input", () => UpdateIncidentInput) input: UpdateIncidentInput,
    @Arg("reason", () => String, { defaultValue: "Updated", description: "Recorded with the revision." })
    reason: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    // The audit entry names the fields changed (not their values, which may be more sensitive
    // than the audit log's readers are entitled to).
    const changed = Object.entries(input)
      .filter(([, value]) => value !== undefined)
      .map(([field]) => field);
    return ctx.services.mutate(v, { operation: "updateIncident", targetIds: [id], detail: { changed } }, (tx) =>
      updateIncident(tx, v, id, input, reason),
    );
  }

  @Mutation(() => TimelineEntry, { description: "The owner's analysts add a dated entry to an incident's timeline." })
  addTimelineEntry(
    @Arg("incidentId", () => ID) incidentId: string,
    @Arg("input", () => TimelineEntryInput) input: TimelineEntryInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "addTimelineEntry", targetIds: [incidentId] }, (tx) =>
      addTimelineEntry(tx, v, incidentId, input),
    );
  }

  @Mutation(() => Incident, {
    description: "The owner's analysts link indicators they may see to an incident (up to 1,000 a call).",
  })
  linkIndicators(
    @Arg("incidentId", () => ID) incidentId: string,
    @Arg("indicatorIds", () => [ID]) indicatorIds: string[],
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "linkIndicators", targetIds: [incidentId, ...indicatorIds] }, (tx) =>
      setIncidentIndicators(tx, v, incidentId, indicatorIds, true),
    );
  }

  @Mutation(() => Incident, { description: "The owner's analysts unlink indicators from an incident." })
  unlinkIndicators(
    @Arg("incidentId", () => ID) incidentId: string,
    @Arg("indicatorIds", () => [ID]) indicatorIds: string[],
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return ctx.services.mutate(v, { operation: "unlinkIndicators", targetIds: [incidentId, ...indicatorIds] }, (tx) =>
      setIncidentIndicators(tx, v, incidentId, indicatorIds, false),
    );
  }

  @FieldResolver(() => [Indicator], {
    description: "Linked indicators the viewer may see (through a report or sighting it may see), oldest link first.",
  })
  async indicators(@Root() i: Incident, @Ctx() ctx: Context): Promise<Indicator[]> {
    const links = await incidentLoadersOf(ctx).linkedIndicatorIdsOf.load(i.dbId);
    const found = await ctx.loaders.indicator.loadMany(links.map((l) => l.observableId));
    return found.filter((x): x is Indicator => !!x && !(x instanceof Error));
  }

  @FieldResolver(() => [Revision], {
    description:
      "The revisions the viewer may see, oldest first: each update, a change of marking included, is one. Compared with the previous one the viewer may see, so nothing shows of those it may not.",
  })
  async revisions(@Root() i: Incident, @Ctx() ctx: Context): Promise<Revision[]> {
    const viewer = viewerOf(ctx).organizationId;
    // Fields in a fixed order (a state read back from jsonb has its keys in jsonb's order).
    return historyOf(await incidentLoadersOf(ctx).revisionsOf.load(i.dbId), (s, owner) => ({
      title: s.title,
      description: s.description,
      rsitClass: s.rsitClass,
      rsitType: s.rsitType,
      severity: s.severity,
      status: s.status,
      sectors: s.sectors,
      countries: s.countries,
      occurredAt: s.occurredAt,
      detectedAt: s.detectedAt,
      reportedAt: s.reportedAt,
      marking: presentMarking(viewer, owner, s.marking),
    }));
  }

  @FieldResolver(() => PriorityLevel, { description: "The severity's level in the taxonomy, with its colour." })
  priorityLevel(@Root() i: Incident): PriorityLevel {
    return priorityLevel(i.severity);
  }

  @FieldResolver(() => [TimelineEntry], { description: "The entries the viewer may see, in event order." })
  timeline(@Root() i: Incident, @Ctx() ctx: Context): Promise<TimelineEntry[]> {
    return incidentLoadersOf(ctx).timelineOf.load(i.dbId);
  }

  @FieldResolver(() => Organization)
  owner(@Root() i: Incident, @Ctx() ctx: Context): Promise<Organization> {
    return ownerOf(ctx, i.ownerDbId);
  }
}

@Resolver(() => TimelineEntry)
export class TimelineEntryResolver {
  @FieldResolver(() => Organization)
  owner(@Root() e: TimelineEntry, @Ctx() ctx: Context): Promise<Organization> {
    return ownerOf(ctx, e.ownerDbId);
  }
}
