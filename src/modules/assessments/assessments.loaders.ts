import { and, asc, inArray } from "drizzle-orm";
import type { LoaderContext } from "../../context";
import { viewerOf } from "../../context";
import { byKey, grouped, lazyLoaders, type LoadersOf } from "../../shared/loaders";
import type { LoaderDeps } from "../access/access.loaders";
import { visibleTo } from "../access/tlp";
import { assessmentVisibleTo, opinionVisibleTo } from "./assessments.access";
import { toAssessment, toOpinion } from "./assessments.mappers";
import { assessmentRevisions, assessments, opinionRevisions, opinions } from "./assessments.table";

/** This module's loaders: each answers only with what the viewer may see, one statement a batch. */
export const assessmentLoaders = {
  assessment: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(assessments)
            .where(and(inArray(assessments.id, [...ids]), assessmentVisibleTo(viewer)))
        ).map((r) => toAssessment(r)),
      (a) => a.dbId,
    ),
  /** The revisions the viewer may see of a batch of assessments it may see, oldest first. */
  revisionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      (ids: readonly string[]) =>
        db
          .select()
          .from(assessmentRevisions)
          .where(and(inArray(assessmentRevisions.assessmentId, [...ids]), visibleTo(viewer, assessmentRevisions)))
          .orderBy(asc(assessmentRevisions.assessmentId), asc(assessmentRevisions.number)),
      (r) => r.assessmentId,
    ),
  opinion: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(opinions)
            .where(and(inArray(opinions.id, [...ids]), opinionVisibleTo(viewer)))
        ).map((r) => toOpinion(r)),
      (o) => o.dbId,
    ),
  /** The opinions the viewer may see of a batch of assessments it may see, oldest first. */
  opinionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (ids: readonly string[]) =>
        (
          await db
            .select()
            .from(opinions)
            .where(and(inArray(opinions.assessmentId, [...ids]), visibleTo(viewer, opinions)))
            .orderBy(asc(opinions.createdAt), asc(opinions.id))
        ).map((r) => toOpinion(r)),
      (o) => o.assessmentDbId,
    ),
  opinionRevisionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      (ids: readonly string[]) =>
        db
          .select()
          .from(opinionRevisions)
          .where(and(inArray(opinionRevisions.opinionId, [...ids]), visibleTo(viewer, opinionRevisions)))
          .orderBy(asc(opinionRevisions.opinionId), asc(opinionRevisions.number)),
      (r) => r.opinionId,
    ),
};

export type AssessmentLoaders = LoadersOf<typeof assessmentLoaders>;

const makeLoaders = lazyLoaders(assessmentLoaders);
const perOperation = new WeakMap<object, AssessmentLoaders>();

/** One set per operation, keyed like the incidents module's (see `incidentLoadersOf`). */
export function assessmentLoadersOf(ctx: LoaderContext): AssessmentLoaders {
  const key = ctx.loaders as object;
  let mine = perOperation.get(key);
  if (!mine) perOperation.set(key, (mine = makeLoaders({ db: ctx.services.db, viewer: viewerOf(ctx) })));
  return mine;
}
