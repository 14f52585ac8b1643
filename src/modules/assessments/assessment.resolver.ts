import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from "type-graphql";
import { GraphQLDateTime } from "graphql-scalars";
import { viewerOf, type Context } from "../../context";
import { notFound } from "../../shared/errors";
import { idOf, toGlobalId } from "../../shared/ids";
import { PageArgsInput } from "../../shared/pagination";
import { toOrganization } from "../access/access.mappers";
import { Organization } from "../access/access.type";
import { incidentLoadersOf } from "../incidents/incidents.loaders";
import { toThreatActor } from "../incidents/incidents.mappers";
import { Incident, ThreatActor } from "../incidents/incidents.type";
import { Indicator } from "../indicators/indicators.type";
import { AssessmentStatus, OPINION_STANCES } from "./assessments.enums";
import {
  AssessmentChangesInput,
  AssessmentFilter,
  CreateAssessmentInput,
  CreateOpinionInput,
  OpinionChangesInput,
} from "./assessments.input";
import { assessmentLoadersOf } from "./assessments.loaders";
import { historyOf, presentMarking, Revision, type HistoryRow } from "../history";
import { evidenceOf, toAssessment, toOpinion } from "./assessments.mappers";
import {
  addOpinion,
  assessmentAsOf,
  confirmAssessment,
  createAssessment,
  listAssessments,
  opinionsAsOf,
  reviseAssessment,
  reviseOpinion,
  TYPE,
  withdrawAssessment,
} from "./assessments.service";
import {
  Assessment,
  AssessmentConnection,
  AssessmentScales,
  Evidence,
  LikelihoodBand,
  Opinion,
  OpinionSummary,
} from "./assessments.type";
import { andThen } from "../../shared/loaders";
import { likelihoodBand, SCALES, stixConfidence, type AssessmentState, type OpinionState } from "./state";

/** Synchronous once the organisation is loaded (see KeyLoader). */
const ownerOf = (ctx: Context, orgDbId: string): Organization | Promise<Organization> =>
  andThen(ctx.loaders.organization.get(orgDbId), (org) => {
    if (!org) throw notFound("Organization");
    return org;
  });

const present = <T extends { id: string }>(items: readonly (T | null | Error)[]): string[] =>
  items.filter((x): x is T => !!x && !(x instanceof Error)).map((x) => x.id);

/**
 * What a viewer may see of a state, for comparing revisions: references it may not see are null or
 * left out. Synchronous when the actor is loaded and the state names no evidence record (most
 * states), so a history of such states is built without a promise per revision.
 */
function presentAssessmentState(ctx: Context, s: AssessmentState, ownerDbId: string) {
  const il = incidentLoadersOf(ctx);
  const actor = il.threatActor.get(s.actorId);
  if (actor instanceof Promise || s.evidenceIncidentIds.length || s.evidenceIndicatorIds.length)
    return Promise.all([
      actor,
      s.evidenceIncidentIds.length ? il.incident.loadMany(s.evidenceIncidentIds) : [],
      s.evidenceIndicatorIds.length ? ctx.loaders.indicator.loadMany(s.evidenceIndicatorIds) : [],
    ]).then(([a, incidents, indicators]) => presentedAssessmentState(ctx, s, ownerDbId, a, incidents, indicators));
  return presentedAssessmentState(ctx, s, ownerDbId, actor, [], []);
}

function presentedAssessmentState(
  ctx: Context,
  s: AssessmentState,
  ownerDbId: string,
  actor: ThreatActor | null,
  incidents: readonly (Incident | null | Error)[],
  indicators: readonly (Indicator | null | Error)[],
) {
  return {
    actor: actor?.id ?? null,
    claimedState: s.claimedState,
    stateResponsibility: s.stateResponsibility,
    likelihood: s.likelihood,
    analyticConfidence: s.analyticConfidence,
    rationale: s.rationale,
    evidenceIncidents: present(incidents),
    evidenceIndicators: present(indicators),
    evidenceReferences: s.evidenceReferences,
    status: s.status,
    nextReviewAt: s.nextReviewAt,
    marking: presentMarking(viewerOf(ctx).organizationId, ownerDbId, s.marking),
  };
}

function presentOpinionState(ctx: Context, s: OpinionState, ownerDbId: string) {
  return {
    stance: s.stance,
    confidence: s.confidence,
    comment: s.comment,
    marking: presentMarking(viewerOf(ctx).organizationId, ownerDbId, s.marking),
  };
}

/** The viewer's history of an assessment up to the revision shown (synchronous once loaded). */
type AssessmentRevisionRow = HistoryRow<AssessmentState>;
type OpinionRevisionRow = HistoryRow<OpinionState>;

function assessmentHistory<R>(ctx: Context, a: Assessment, f: (history: AssessmentRevisionRow[]) => R | Promise<R>) {
  return andThen(assessmentLoadersOf(ctx).revisionsOf.get(a.dbId), (rows) =>
    f(rows.filter((r) => r.number <= a.revisionNumber)),
  );
}

function opinionHistory<R>(ctx: Context, o: Opinion, f: (history: OpinionRevisionRow[]) => R | Promise<R>) {
  return andThen(assessmentLoadersOf(ctx).opinionRevisionsOf.get(o.dbId), (rows) =>
    f(rows.filter((r) => r.number <= o.revisionNumber)),
  );
}

/**
 * The first or last revision of a history. A record the viewer may see always has one: its current
 * revision carries its current marking, and an as-of read needs the revision in force to be visible.
 */
function edgeOf<R>(history: readonly R[], which: "first" | "last"): R {
  const r = which === "first" ? history[0] : history.at(-1);
  if (!r) throw new Error("a visible record without a visible revision");
  return r;
}

function opinionsShown(ctx: Context, a: Assessment): Opinion[] | Promise<Opinion[]> {
  if (!a.asOf) return assessmentLoadersOf(ctx).opinionsOf.get(a.dbId);
  return opinionsAsOf(ctx.services.db, viewerOf(ctx), a.dbId, a.asOf).then((rows) =>
    rows.map((r) => toOpinion(r.opinion, { state: r.revision.state, revisionNumber: r.revision.number })),
  );
}

@Resolver(() => Assessment)
export class AssessmentResolver {
  @Query(() => Assessment, {
    description:
      "An assessment as it stands, or with `asOf` as it stood then (the revision in force at that time). NOT_FOUND when missing, not visible, not yet made at `asOf`, or when the revision in force then was made under a marking the viewer may not see.",
  })
  async assessment(
    @Arg("id", () => ID) id: string,
    @Arg("asOf", () => GraphQLDateTime, { nullable: true }) asOf: Date | null,
    @Ctx() ctx: Context,
  ): Promise<Assessment> {
    const viewer = viewerOf(ctx);
    if (asOf) {
      const hit = await assessmentAsOf(ctx.services.db, viewer, id, asOf);
      if (!hit) throw notFound("Assessment");
      // The statement read the actor (as the viewer may see it) and the owner too: the loaders
      // that would read them again start with them.
      incidentLoadersOf(ctx).threatActor.prime(hit.revision.state.actorId, hit.actor && toThreatActor(hit.actor));
      ctx.loaders.organization.prime(hit.owner.id, toOrganization(hit.owner));
      return toAssessment(hit.assessment, {
        state: hit.revision.state,
        revisionNumber: hit.revision.number,
        asOf,
        history: { count: hit.visibleRevisions, firstAt: hit.firstVisibleAt, lastAt: hit.revision.recordedAt },
      });
    }
    const dbId = idOf(TYPE.Assessment, id);
    const a = dbId ? await assessmentLoadersOf(ctx).assessment.load(dbId) : null;
    if (!a) throw notFound("Assessment");
    return a;
  }

  @Query(() => AssessmentConnection, { description: "Assessments the viewer may see, oldest first." })
  async assessments(
    @Arg("filter", () => AssessmentFilter, { nullable: true }) filter: AssessmentFilter | null,
    @Args(() => PageArgsInput) page: PageArgsInput,
    @Ctx() ctx: Context,
  ) {
    const c = await listAssessments(ctx.services.db, viewerOf(ctx), filter, page, ctx.services.config.MAX_PAGE_SIZE);
    // The page came with each assessment's actor and owner: the loaders start with them.
    const actors = incidentLoadersOf(ctx).threatActor;
    for (const { node } of c.edges) {
      actors.prime(node.actor.id, toThreatActor(node.actor));
      ctx.loaders.organization.prime(node.owner.id, toOrganization(node.owner));
    }
    return {
      edges: c.edges.map((e) => ({ ...e, node: toAssessment(e.node.assessment) })),
      pageInfo: c.pageInfo,
      // Read only when the operation asks for it: reading the getter starts the count, over every
      // assessment the filter lets through (and a count nobody awaits must not be started at all).
      get totalCount() {
        return c.totalCount;
      },
    };
  }

  @Query(() => AssessmentScales, { description: "Likelihood bands and state-responsibility levels." })
  assessmentScales(@Ctx() ctx: Context): AssessmentScales {
    viewerOf(ctx);
    return {
      likelihoods: SCALES.bands.map((b) => ({ ...b, lowPercent: b.low, highPercent: b.high })),
      stateResponsibility: SCALES.stateResponsibility,
    };
  }

  @Mutation(() => Assessment, { description: "Analysts record an attribution assessment for their organisation." })
  async createAssessment(@Arg("input", () => CreateAssessmentInput) input: CreateAssessmentInput, @Ctx() ctx: Context) {
    const v = viewerOf(ctx);
    return toAssessment(
      await ctx.services.mutate(
        v,
        { operation: "createAssessment", resultIds: (r) => [toGlobalId(TYPE.Assessment, r.id)] },
        (tx) => createAssessment(tx, v, input),
      ),
    );
  }

  @Mutation(() => Assessment, {
    description:
      "The owner's analysts revise an assessment: a new immutable revision. CONFLICT (with `currentRevision`) when `expectedRevision` is not the latest.",
  })
  async reviseAssessment(
    @Arg("id", () => ID) id: string,
    @Arg("expectedRevision", () => Int) expectedRevision: number,
    @Arg("changes", () => AssessmentChangesInput) changes: AssessmentChangesInput,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    const changed = Object.entries(changes)
      .filter(([, value]) => value !== undefined)
      .map(([field]) => field);
    return toAssessment(
      await ctx.services.mutate(
        v,
        { operation: "reviseAssessment", targetIds: [id], resultIds: () => [], detail: { changed } },
        (tx) => reviseAssessment(tx, v, id, expectedRevision, changes, reason),
      ),
    );
  }

  @Mutation(() => Assessment, { description: "The owner's analysts confirm a provisional assessment." })
  async confirmAssessment(
    @Arg("id", () => ID) id: string,
    @Arg("expectedRevision", () => Int) expectedRevision: number,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return toAssessment(
      await ctx.services.mutate(v, { operation: "confirmAssessment", targetIds: [id], resultIds: () => [] }, (tx) =>
        confirmAssessment(tx, v, id, expectedRevision, reason),
      ),
    );
  }

  @Mutation(() => Assessment, { description: "The owner's analysts withdraw an assessment; its history stays." })
  async withdrawAssessment(
    @Arg("id", () => ID) id: string,
    @Arg("expectedRevision", () => Int) expectedRevision: number,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return toAssessment(
      await ctx.services.mutate(v, { operation: "withdrawAssessment", targetIds: [id], resultIds: () => [] }, (tx) =>
        withdrawAssessment(tx, v, id, expectedRevision, reason),
      ),
    );
  }

  @Mutation(() => Opinion, {
    description: "Analysts of another organisation give their opinion of an assessment (one per organisation).",
  })
  async addOpinion(
    @Arg("assessmentId", () => ID) assessmentId: string,
    @Arg("input", () => CreateOpinionInput) input: CreateOpinionInput,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return toOpinion(
      await ctx.services.mutate(
        v,
        {
          operation: "addOpinion",
          targetIds: [assessmentId],
          resultIds: (r) => [toGlobalId(TYPE.Opinion, r.id)],
        },
        (tx) => addOpinion(tx, v, assessmentId, input),
      ),
    );
  }

  @Mutation(() => Opinion, { description: "The opinion's owner revises it; CONFLICT on a stale `expectedRevision`." })
  async reviseOpinion(
    @Arg("id", () => ID) id: string,
    @Arg("expectedRevision", () => Int) expectedRevision: number,
    @Arg("changes", () => OpinionChangesInput) changes: OpinionChangesInput,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: Context,
  ) {
    const v = viewerOf(ctx);
    return toOpinion(
      await ctx.services.mutate(v, { operation: "reviseOpinion", targetIds: [id], resultIds: () => [] }, (tx) =>
        reviseOpinion(tx, v, id, expectedRevision, changes, reason),
      ),
    );
  }

  @FieldResolver(() => Incident, { nullable: true, description: "INCIDENT subjects: the incident." })
  subjectIncident(@Root() a: Assessment, @Ctx() ctx: Context): Promise<Incident | null> {
    return a.subjectIncidentDbId ? incidentLoadersOf(ctx).incident.load(a.subjectIncidentDbId) : Promise.resolve(null);
  }

  @FieldResolver(() => ThreatActor, { nullable: true, description: "INTRUSION_SET subjects: the intrusion set." })
  subjectIntrusionSet(@Root() a: Assessment, @Ctx() ctx: Context): Promise<ThreatActor | null> {
    return a.subjectActorDbId ? incidentLoadersOf(ctx).threatActor.load(a.subjectActorDbId) : Promise.resolve(null);
  }

  @FieldResolver(() => ThreatActor, {
    nullable: true,
    description: "The actor held responsible (null only in a past revision naming an actor the viewer may not see).",
  })
  actor(@Root() a: Assessment, @Ctx() ctx: Context): ThreatActor | null | Promise<ThreatActor | null> {
    return incidentLoadersOf(ctx).threatActor.get(a.state.actorId);
  }

  @FieldResolver(() => LikelihoodBand)
  likelihoodBand(@Root() a: Assessment): LikelihoodBand {
    const b = likelihoodBand(a.likelihood);
    return { ...b, lowPercent: b.low, highPercent: b.high };
  }

  @FieldResolver(() => Int, {
    description:
      "STIX 2.1 confidence derived from likelihood and analytic confidence: the middle of the likelihood band, drawn towards 50 by the analytic confidence, round(50 + (mid - 50) * w), w = 1 (high), 0.75 (moderate), 0.5 (low).",
  })
  stixConfidence(@Root() a: Assessment): number {
    return stixConfidence(a.likelihood, a.analyticConfidence);
  }

  @FieldResolver(() => Boolean, {
    description: "A provisional assessment whose review date has passed (at `asOf`, for a past state).",
  })
  overdue(@Root() a: Assessment): boolean {
    return a.status === AssessmentStatus.PROVISIONAL && !!a.nextReviewAt && a.nextReviewAt < (a.asOf ?? new Date());
  }

  @FieldResolver(() => Evidence)
  evidence(@Root() a: Assessment): Evidence {
    return evidenceOf(a.state);
  }

  @FieldResolver(() => Int, { description: "How many revisions the viewer may see (up to the one shown)." })
  revision(@Root() a: Assessment, @Ctx() ctx: Context): number | Promise<number> {
    return a.history ? a.history.count : assessmentHistory(ctx, a, (h) => h.length);
  }

  @FieldResolver(() => [Revision], { description: "The revisions the viewer may see, oldest first." })
  revisions(@Root() a: Assessment, @Ctx() ctx: Context): Revision[] | Promise<Revision[]> {
    return assessmentHistory(ctx, a, (h) => historyOf(h, (s, owner) => presentAssessmentState(ctx, s, owner)));
  }

  @FieldResolver(() => GraphQLDateTime, { description: "When the first revision the viewer may see was recorded." })
  createdAt(@Root() a: Assessment, @Ctx() ctx: Context): Date | Promise<Date> {
    return a.history ? a.history.firstAt : assessmentHistory(ctx, a, (h) => edgeOf(h, "first").recordedAt);
  }

  @FieldResolver(() => GraphQLDateTime, { description: "When the revision shown was recorded." })
  updatedAt(@Root() a: Assessment, @Ctx() ctx: Context): Date | Promise<Date> {
    return a.history ? a.history.lastAt : assessmentHistory(ctx, a, (h) => edgeOf(h, "last").recordedAt);
  }

  @FieldResolver(() => [Opinion], { description: "Opinions the viewer may see (as they stood at `asOf`)." })
  opinions(@Root() a: Assessment, @Ctx() ctx: Context): Opinion[] | Promise<Opinion[]> {
    return opinionsShown(ctx, a);
  }

  @FieldResolver(() => OpinionSummary)
  opinionSummary(@Root() a: Assessment, @Ctx() ctx: Context): OpinionSummary | Promise<OpinionSummary> {
    return andThen(opinionsShown(ctx, a), (shown) => {
      const stances = OPINION_STANCES.map((stance) => ({
        stance,
        count: shown.filter((o) => o.stance === stance).length,
      }));
      const score = shown.reduce((sum, o) => sum + OPINION_STANCES.indexOf(o.stance) - 2, 0);
      return { count: shown.length, stances, meanAgreement: shown.length ? score / shown.length : null };
    });
  }

  @FieldResolver(() => Organization)
  owner(@Root() a: Assessment, @Ctx() ctx: Context): Organization | Promise<Organization> {
    return ownerOf(ctx, a.ownerDbId);
  }
}

@Resolver(() => Evidence)
export class EvidenceResolver {
  @FieldResolver(() => [Incident], { description: "The evidence incidents the viewer may see." })
  async incidents(@Root() e: Evidence, @Ctx() ctx: Context): Promise<Incident[]> {
    const found = await incidentLoadersOf(ctx).incident.loadMany(e.incidentDbIds);
    return found.filter((i): i is Incident => !!i && !(i instanceof Error));
  }

  @FieldResolver(() => [Indicator], { description: "The evidence indicators the viewer may see." })
  async indicators(@Root() e: Evidence, @Ctx() ctx: Context): Promise<Indicator[]> {
    const found = await ctx.loaders.indicator.loadMany(e.indicatorDbIds);
    return found.filter((i): i is Indicator => !!i && !(i instanceof Error));
  }
}

@Resolver(() => Opinion)
export class OpinionResolver {
  @FieldResolver(() => Int, { description: "How many revisions of it the viewer may see." })
  revision(@Root() o: Opinion, @Ctx() ctx: Context): number | Promise<number> {
    return opinionHistory(ctx, o, (h) => h.length);
  }

  @FieldResolver(() => [Revision], { description: "The revisions the viewer may see, oldest first." })
  revisions(@Root() o: Opinion, @Ctx() ctx: Context): Revision[] | Promise<Revision[]> {
    return opinionHistory(ctx, o, (h) => historyOf(h, (s, owner) => presentOpinionState(ctx, s, owner)));
  }

  @FieldResolver(() => GraphQLDateTime)
  createdAt(@Root() o: Opinion, @Ctx() ctx: Context): Date | Promise<Date> {
    return opinionHistory(ctx, o, (h) => edgeOf(h, "first").recordedAt);
  }

  @FieldResolver(() => GraphQLDateTime)
  updatedAt(@Root() o: Opinion, @Ctx() ctx: Context): Date | Promise<Date> {
    return opinionHistory(ctx, o, (h) => edgeOf(h, "last").recordedAt);
  }

  @FieldResolver(() => Assessment)
  async assessment(@Root() o: Opinion, @Ctx() ctx: Context): Promise<Assessment> {
    const a = await assessmentLoadersOf(ctx).assessment.load(o.assessmentDbId);
    if (!a) throw notFound("Assessment");
    return a;
  }

  @FieldResolver(() => Organization)
  owner(@Root() o: Opinion, @Ctx() ctx: Context): Organization | Promise<Organization> {
    return ownerOf(ctx, o.ownerDbId);
  }
}
