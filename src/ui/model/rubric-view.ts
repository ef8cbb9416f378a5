/** The rubric tree of the progress view: grades by node path (ids may repeat), folded up as weighted means. */
import type { GradedNode } from '../../paper/grading/graded';
import { nodePath, type RubricNode } from '../../paper/types';
import type { RubricView } from '../../protocol/progress';

export interface Grade {
  score: number;
  /** False: the judge's answer could not be used (a leaf left out of the score). */
  valid?: boolean;
  explanation?: string;
}

/** The rubric as the view shows it, with grades folded up as weighted means. */
export function rubricView(node: RubricNode, grades: Record<string, Grade>, path = ''): RubricView {
  const children = node.sub_tasks.map((c, i) => rubricView(c, grades, nodePath(path, i)));
  const own = grades[path];
  let score: number | null = own ? Math.min(1, Math.max(0, own.score)) : null;
  if (score === null && children.length && children.every((c) => typeof c.score === 'number')) {
    const w = children.reduce((a, c) => a + c.weight, 0);
    score = w > 0 ? children.reduce((a, c) => a + c.weight * (c.score as number), 0) / w : null;
  }
  return {
    id: node.id,
    requirements: node.requirements,
    weight: node.weight,
    category: node.task_category,
    ...(score !== null ? { score } : {}),
    ...(own?.valid === false && !children.length ? { invalid: true } : {}),
    ...(own?.explanation ? { explanation: own.explanation } : {}),
    children,
  };
}

/** Scores of every rubric node by path (nodePath), for the rubric tree in the progress view. */
export function gradesOf(
  node: GradedNode,
  out: Record<string, Grade> = {},
  path = '',
): Record<string, Grade> {
  out[path] = {
    score: node.score,
    explanation: node.explanation,
    ...(node.valid_score ? {} : { valid: false }),
  };
  node.sub_tasks.forEach((c, i) => {
    gradesOf(c, out, nodePath(path, i));
  });
  return out;
}
