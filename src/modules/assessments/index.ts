import { registerNodeType } from "../access";
import { idOf } from "../../shared/ids";
import { RevisionResolver } from "../history";
import { AssessmentResolver, EvidenceResolver, OpinionResolver } from "./assessment.resolver";
import { AssessmentEventResolver } from "./assessment-events";
import { assessmentLoadersOf } from "./assessments.loaders";
import { TYPE } from "./assessments.service";

export { assessments, assessmentRevisions, opinions, opinionRevisions } from "./assessments.table";
export { Assessment, Opinion } from "./assessments.type";

// node(id) and federation entity lookups, through the loaders (and so the access rule).
for (const [type, loader] of [
  [TYPE.Assessment, "assessment"],
  [TYPE.Opinion, "opinion"],
] as const)
  registerNodeType(type, (ctx, globalId) => {
    const id = idOf(type, globalId);
    return id ? assessmentLoadersOf(ctx)[loader].load(id) : Promise.resolve(null);
  });

export const assessmentResolvers = [
  AssessmentResolver,
  EvidenceResolver,
  RevisionResolver,
  OpinionResolver,
  AssessmentEventResolver,
] as const;
