/** Rubrics built in tests: single leaves, and large trees of a given depth and leaf count. */
import type { RubricNode, TaskCategory } from '../../src/paper';

const CATEGORIES: TaskCategory[] = ['Code Development', 'Code Execution', 'Result Analysis'];

export function leafNode(
  id: string,
  weight: number,
  cat: TaskCategory = 'Code Development',
  requirements = `leaf ${id}`,
): RubricNode {
  return { id, requirements, weight, sub_tasks: [], task_category: cat, finegrained_task_category: null };
}

/**
 * A tree `depth` levels deep (the root is level 1) with exactly `leaves` leaves: the root has
 * `groups` children, each a chain of inner nodes down to the last inner level, where the group's leaves
 * hang. Weights 1-5, categories in turn (so a third each); every 100th leaf repeats the id of the one
 * before it, as some of PaperBench's rubrics do.
 */
export function wideDeepRubric(o: { depth: number; leaves: number; groups?: number }): RubricNode {
  const groups = o.groups ?? 8;
  let n = 0;
  let leafCount = 0;
  const inner = (level: number, subs: RubricNode[]): RubricNode => ({
    id: `n-${n++}`,
    requirements: `Requirement group at level ${level}`,
    weight: 1 + (n % 5),
    sub_tasks: subs,
    task_category: null,
    finegrained_task_category: null,
  });
  const makeLeaves = (count: number): RubricNode[] =>
    Array.from({ length: count }, () => {
      leafCount++;
      const id = leafCount % 100 === 0 ? `n-${n - 1}` : `n-${n}`;
      n++;
      return leafNode(id, 1 + (leafCount % 5), CATEGORIES[leafCount % 3], `Leaf requirement ${leafCount}`);
    });
  const kids: RubricNode[] = [];
  for (let g = 0; g < groups; g++) {
    const count = Math.floor(o.leaves / groups) + (g < o.leaves % groups ? 1 : 0);
    let node: RubricNode[] = makeLeaves(count);
    for (let level = o.depth - 1; level >= 2; level--) node = [inner(level, node)];
    kids.push(...node);
  }
  return {
    ...inner(1, kids),
    requirements: 'The core contributions of the paper have been reproduced.',
  };
}
