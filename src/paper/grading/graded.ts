/** Graded rubric trees in PaperBench's result shape, and the score aggregation PaperBench uses. */
import { nodePath, type RubricNode, type TaskCategory } from '../types';

export interface JudgeMetadata {
  model: string;
  /** True when the answer came from the on-disk judge cache. */
  cached: boolean;
  /** Model calls made for this leaf (more than 1 after malformed answers). */
  attempts: number;
  promptTokens: number;
  completionTokens: number;
  /** Submission files shown to the judge. */
  files: string[];
}

/** One node of a graded rubric (PaperBench `GradedTaskNode.to_dict()` fields). */
export interface GradedNode {
  id: string;
  requirements: string;
  weight: number;
  score: number;
  valid_score: boolean;
  task_category: TaskCategory | null;
  finegrained_task_category?: string | null;
  explanation: string;
  judge_metadata: JudgeMetadata | null;
  sub_tasks: GradedNode[];
}

export const AGGREGATED = 'Aggregated score from sub-tasks.';

/**
 * Recomputes every internal node from its leaves as PaperBench does: the weighted mean of the
 * children, `sum(w_i * s_i) / sum(w_i)`, or 0 when the weights sum to 0; valid when every child is.
 * A leaf the judge could not grade (`valid_score: false`) is left out of the mean rather than
 * counted as 0, and so is a node with no gradable leaf at all.
 */
export function aggregate(node: GradedNode): GradedNode {
  return aggregated(node).node;
}

function aggregated(node: GradedNode): { node: GradedNode; counts: boolean } {
  if (!node.sub_tasks.length) return { node, counts: node.valid_score };
  const subs = node.sub_tasks.map(aggregated);
  const counted = subs.filter((c) => c.counts).map((c) => c.node);
  const total = counted.reduce((a, c) => a + c.weight, 0);
  const score = total === 0 ? 0 : counted.reduce((a, c) => a + c.score * c.weight, 0) / total;
  return {
    node: {
      ...node,
      score,
      valid_score: subs.every((c) => c.node.valid_score),
      explanation: AGGREGATED,
      judge_metadata: null,
      sub_tasks: subs.map((c) => c.node),
    },
    counts: counted.length > 0,
  };
}

/**
 * A graded tree with every leaf's result from `leafResult`, given the leaf and its path (child
 * indices joined by dots, see nodePath: ids may repeat).
 */
export function gradeTree(
  rubric: RubricNode,
  leafResult: (
    leaf: RubricNode,
    path: string,
  ) => Pick<GradedNode, 'score' | 'valid_score' | 'explanation' | 'judge_metadata'>,
): GradedNode {
  const build = (n: RubricNode, path: string): GradedNode => ({
    id: n.id,
    requirements: n.requirements,
    weight: n.weight,
    score: 0,
    valid_score: true,
    task_category: n.task_category,
    finegrained_task_category: n.finegrained_task_category,
    explanation: AGGREGATED,
    judge_metadata: null,
    ...(n.sub_tasks.length ? {} : leafResult(n, path)),
    sub_tasks: n.sub_tasks.map((c, i) => build(c, nodePath(path, i))),
  });
  return aggregate(build(rubric, ''));
}

export function gradedLeaves(n: GradedNode): GradedNode[] {
  return n.sub_tasks.length ? n.sub_tasks.flatMap(gradedLeaves) : [n];
}
