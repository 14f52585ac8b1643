import { and, asc } from "drizzle-orm";
import type { LoaderContext } from "../../context";
import type { Db } from "../../db/client";
import { viewerOf } from "../../context";
import { byKey, grouped, lazyLoaders, type LoadersOf } from "../../shared/loaders";
import { inUuids, perViewer, unmappedRows, uuidList } from "../../shared/prepared";
import type { LoaderDeps } from "../access/access.loaders";
import { visibleTo } from "../access/tlp";
import type { ViewerIdentity } from "../access/viewer";
import { historyColumns, historyRowOf, type StoredHistoryRow } from "../history";
import { assessmentVisibleTo, opinionVisibleTo } from "./assessments.access";
import { toAssessment, toOpinion } from "./assessments.mappers";
import { assessmentRevisions, assessments, opinionRevisions, opinions } from "./assessments.table";
import type { AssessmentState, OpinionState } from "./state";

/**
 * The module's loader statements, prepared once per viewer (see `perViewer`): the keys are one
 * array parameter, so a batch of 1 and a batch of 500 run the same prepared text.
 */
const statements = {
  assessments: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(assessments)
      .where(and(inUuids(assessments.id), assessmentVisibleTo(viewer)))
      .prepare("assessments_by_id"),
  ),
  revisions: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select({ assessmentId: assessmentRevisions.assessmentId, ...historyColumns(assessmentRevisions) })
      .from(assessmentRevisions)
      .where(and(inUuids(assessmentRevisions.assessmentId), visibleTo(viewer, assessmentRevisions)))
      .orderBy(asc(assessmentRevisions.assessmentId), asc(assessmentRevisions.number))
      .prepare("assessment_revisions_of"),
  ),
  opinions: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(opinions)
      .where(and(inUuids(opinions.id), opinionVisibleTo(viewer)))
      .prepare("opinions_by_id"),
  ),
  opinionsOf: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select()
      .from(opinions)
      .where(and(inUuids(opinions.assessmentId), visibleTo(viewer, opinions)))
      .orderBy(asc(opinions.createdAt), asc(opinions.id))
      .prepare("opinions_of"),
  ),
  opinionRevisions: perViewer((db: Db, viewer: ViewerIdentity) =>
    db
      .select({ opinionId: opinionRevisions.opinionId, ...historyColumns(opinionRevisions) })
      .from(opinionRevisions)
      .where(and(inUuids(opinionRevisions.opinionId), visibleTo(viewer, opinionRevisions)))
      .orderBy(asc(opinionRevisions.opinionId), asc(opinionRevisions.number))
      .prepare("opinion_revisions_of"),
  ),
};

/** This module's loaders: each answers only with what the viewer may see, one statement a batch. */
export const assessmentLoaders = {
  assessment: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (await statements.assessments(db, viewer).execute(uuidList(ids))).map((r) => toAssessment(r)),
      (a) => a.dbId,
    ),
  /** The revisions the viewer may see of a batch of assessments it may see, oldest first. */
  revisionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (ids: readonly string[]) =>
        (
          await unmappedRows<StoredHistoryRow<AssessmentState> & { assessment_id: string }>(
            statements.revisions(db, viewer),
            uuidList(ids),
          )
        ).map((r) => ({ assessmentId: r.assessment_id, ...historyRowOf(r) })),
      (r) => r.assessmentId,
    ),
  opinion: ({ db, viewer }: LoaderDeps) =>
    byKey(
      async (ids: readonly string[]) =>
        (await statements.opinions(db, viewer).execute(uuidList(ids))).map((r) => toOpinion(r)),
      (o) => o.dbId,
    ),
  /** The opinions the viewer may see of a batch of assessments it may see, oldest first. */
  opinionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (ids: readonly string[]) =>
        (await statements.opinionsOf(db, viewer).execute(uuidList(ids))).map((r) => toOpinion(r)),
      (o) => o.assessmentDbId,
    ),
  opinionRevisionsOf: ({ db, viewer }: LoaderDeps) =>
    grouped(
      async (ids: readonly string[]) =>
        (
          await unmappedRows<StoredHistoryRow<OpinionState> & { opinion_id: string }>(
            statements.opinionRevisions(db, viewer),
            uuidList(ids),
          )
        ).map((r) => ({ opinionId: r.opinion_id, ...historyRowOf(r) })),
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
