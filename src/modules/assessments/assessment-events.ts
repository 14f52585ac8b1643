import { and, inArray } from "drizzle-orm";
import { Arg, Ctx, Field, ID, InputType, ObjectType, Resolver, Root, Subscription } from "type-graphql";
import { loaderContext, viewerOf, type Context, type LoaderContext } from "../../context";
import type { Db } from "../../db/client";
import { idOf, toGlobalId } from "../../shared/ids";
import { Tlp } from "../access/tlp";
import {
  encodeCursor,
  EventKind,
  openSubscription,
  Stream,
  translateRecords,
  delivered,
  type Delivery,
  type RecordEventItem,
  type StreamReader,
} from "../realtime";
import { assessmentDependenciesVisibleTo } from "./assessments.access";
import { AssessmentStatus, Likelihood, LIKELIHOODS } from "./assessments.enums";
import { assessmentLoadersOf } from "./assessments.loaders";
import { TYPE } from "./assessments.service";
import { assessments } from "./assessments.table";
import { Assessment, Opinion } from "./assessments.type";

export type AssessmentEventItem = RecordEventItem<Assessment, LoaderContext>;

/**
 * The assessment stream's reader: revisions of assessments (creation, revision, confirmation,
 * withdrawal) and opinions of them (each with its own marking), translated per subscriber by
 * `translateRecords`. An assessment counts as seen only with its actor and subject (as in queries).
 */
export function assessmentReader(db: Db): StreamReader<AssessmentEventItem> {
  return {
    stream: Stream.ASSESSMENT,
    translate: (changes, viewer) =>
      translateRecords(
        {
          stream: Stream.ASSESSMENT,
          record: "assessment",
          loaders: (v) => loaderContext(db, v),
          load: async (lc, ids) => {
            const found = await assessmentLoadersOf(lc).assessment.loadMany(ids);
            return new Map(found.filter((a): a is Assessment => a instanceof Assessment).map((a) => [a.dbId, a]));
          },
          partsVisible: async (lc, parts) => {
            const ids = parts.filter((p) => p.record === "opinion").map((p) => p.id);
            const found = await assessmentLoadersOf(lc).opinion.loadMany(ids);
            return new Set(found.filter((o): o is Opinion => o instanceof Opinion).map((o) => `opinion:${o.dbId}`));
          },
          dependenciesVisible: async (lc, ids) => {
            const rows = await db
              .select({ id: assessments.id })
              .from(assessments)
              .where(and(inArray(assessments.id, [...ids]), assessmentDependenciesVisibleTo(viewerOf(lc))));
            return new Set(rows.map((r) => r.id));
          },
        },
        changes,
        viewer,
      ),
  };
}

@InputType({ description: "Which assessment events to receive; every field narrows, all must hold." })
export class AssessmentEventFilter {
  @Field(() => [ID], { nullable: true, description: "Assessments naming one of these actors." })
  actorIds?: string[] | null;
  @Field(() => Likelihood, { nullable: true, description: "This likelihood or a higher one." })
  minLikelihood?: Likelihood | null;
  @Field(() => [AssessmentStatus], { nullable: true })
  statuses?: AssessmentStatus[] | null;
  @Field(() => [ID], { nullable: true })
  ownerIds?: string[] | null;
  @Field(() => [Tlp], { nullable: true })
  tlps?: Tlp[] | null;
}

@ObjectType({
  description:
    "A change to an assessment (a new revision, or an opinion of it), as you may see it when it is delivered. Filters apply to CREATED and UPDATED, which carry the assessment; REMOVED carries only the id.",
})
export class AssessmentEvent {
  @Field(() => EventKind)
  kind: EventKind;
  @Field(() => String, { description: "Resume after this event with assessmentEvents(after: cursor)." })
  cursor: string;
  @Field(() => ID)
  id: string;
  @Field(() => Assessment, { nullable: true, description: "The assessment as you may see it now; null for REMOVED." })
  assessment: Assessment | null;
}

function matches(f: AssessmentEventFilter, a: Assessment): boolean {
  if (f.actorIds?.length && !f.actorIds.some((g) => idOf("ThreatActor", g) === a.state.actorId)) return false;
  if (f.minLikelihood && LIKELIHOODS.indexOf(a.likelihood) < LIKELIHOODS.indexOf(f.minLikelihood)) return false;
  if (f.statuses?.length && !f.statuses.includes(a.status)) return false;
  if (f.ownerIds?.length && !f.ownerIds.some((g) => idOf("Organization", g) === a.ownerDbId)) return false;
  if (f.tlps?.length && !f.tlps.includes(a.marking.tlp)) return false;
  return true;
}

interface Args {
  filter?: AssessmentEventFilter | null;
  after?: string | null;
}

@Resolver(() => AssessmentEvent)
export class AssessmentEventResolver {
  @Subscription(() => AssessmentEvent, {
    description:
      "Assessment changes as they are committed, each checked against your rights when it is delivered; `after` resumes from a cursor, as for indicatorEvents.",
    subscribe: ({ args, context }) => {
      const { filter, after } = args as Args;
      return openSubscription(
        context as Context,
        "assessmentEvents",
        assessmentReader((context as Context).services.db),
        after ?? null,
        async (items) => (filter ? items.filter((i) => !i.record || matches(filter, i.record)) : items),
      );
    },
  })
  assessmentEvents(
    @Root() delivery: Delivery<AssessmentEventItem> | undefined,
    @Arg("filter", () => AssessmentEventFilter, { nullable: true }) _filter: AssessmentEventFilter | null,
    @Arg("after", () => String, { nullable: true, description: "Resume after this event's cursor." })
    _after: string | null,
    @Ctx() ctx: Context,
  ): AssessmentEvent {
    const item = delivered(ctx, "assessmentEvents", delivery, (i) => i.loaders.loaders);
    return Object.assign(new AssessmentEvent(), {
      kind: item.kind,
      cursor: encodeCursor(item.pos),
      id: toGlobalId(TYPE.Assessment, item.subject),
      assessment: item.record,
    });
  }
}
