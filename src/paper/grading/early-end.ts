/**
 * The early-end check's answer to the agent: which rubric requirements the current submission does
 * not meet yet, highest share of the score first, within a bounded length.
 */
import type { GradeResult } from './grade';
import type { GradedNode } from './graded';

export interface UnmetLeaf {
  requirements: string;
  category: string;
  weight: number;
  /** The leaf's share of the root score (the product of its weight shares along the path). */
  share: number;
  reason: string;
}

/** Valid leaves scored below 1, highest share of the score first. */
export function unmetLeaves(root: GradedNode): UnmetLeaf[] {
  const out: UnmetLeaf[] = [];
  const walk = (n: GradedNode, share: number) => {
    if (!n.sub_tasks.length) {
      if (n.valid_score && n.score < 1)
        out.push({
          requirements: n.requirements,
          category: n.task_category ?? '',
          weight: n.weight,
          share,
          reason: n.explanation,
        });
      return;
    }
    const total = n.sub_tasks.reduce((a, c) => a + c.weight, 0);
    for (const c of n.sub_tasks) walk(c, total > 0 ? (share * c.weight) / total : 0);
  };
  walk(root, 1);
  // A stable sort keeps the rubric's order among equal shares.
  return out.sort((a, b) => b.share - a.share);
}

/** Score per top-level requirement (the root itself when it is a single leaf). */
export function topScores(
  root: GradedNode,
): { id: string; requirements: string; weight: number; score: number }[] {
  const tops = root.sub_tasks.length ? root.sub_tasks : [root];
  return tops.map((n) => ({
    id: n.id,
    requirements: clip(n.requirements, 200),
    weight: n.weight,
    score: n.score,
  }));
}

const clip = (s: string, max: number) => {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};
const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.1 ? 1 : 0)}%`;

export interface EarlyEndMessageOptions {
  grade: GradeResult;
  target: number;
  /** This check's number and the most the session makes. */
  check: number;
  limit: number;
  budgetUsed: number;
  /** The check ran no reproduce.sh (Execution/Result leaves judged from the workspace's files). */
  ranReproduce: boolean;
  /** Characters of the whole message (default 6000). */
  maxChars?: number;
}

/** The answer to a refused end_task: the score, the unmet requirements and what to do. */
export function earlyEndMessage(o: EarlyEndMessageOptions): string {
  const max = o.maxChars ?? 6000;
  const unmet = unmetLeaves(o.grade.root);
  const left = o.limit - o.check;
  const head = [
    `end_task was not accepted (early-end check ${o.check} of ${o.limit}): ${pct(o.budgetUsed)} of the time budget is used and the submission scores ${pct(o.grade.score)} against the grading rubric (target ${pct(o.target)}). Continue the task: work on the unmet requirements below, highest share of the score first, then call end_task again.${left > 0 ? '' : ' The next end_task is accepted whatever the score.'}`,
  ];
  if (!o.ranReproduce)
    head.push(
      'This check did not run reproduce.sh: Code Execution and Result Analysis requirements were judged from reproduce.sh and the output of your last run of it (reproduce.log in the workspace, else what your last `bash reproduce.sh` printed); without reproduce.sh they score 0. Run reproduce.sh end to end after your changes so that its output shows the results.',
    );
  if (o.grade.invalid)
    head.push(`${o.grade.invalid} requirement(s) could not be judged and are left out of the score.`);
  head.push(`Unmet requirements (${unmet.length} of ${o.grade.leaves}; share of the score in brackets):`);
  let text = head.join('\n\n');
  let shown = 0;
  for (const [i, u] of unmet.entries()) {
    const line = `\n${i + 1}. [${pct(u.share)}] ${clip(u.requirements, 400)} (${u.category || 'no category'}, weight ${u.weight}). Judge: ${clip(u.reason, 300)}`;
    // Room is kept for the note of how many were left out.
    if (text.length + line.length > max - 80) break;
    text += line;
    shown++;
  }
  if (shown < unmet.length) text += `\n… and ${unmet.length - shown} more with smaller shares.`;
  return text;
}
