/** PaperBench rubric.json: schema, load with path-precise errors, statistics, summary for the agent's head. */
import { readFile } from 'node:fs/promises';
import { PaperError } from '../errors';
import type { RubricNode, TaskCategory } from '../types';
import * as z from '../zod';

export const LEAF_CATEGORIES = ['Code Development', 'Code Execution', 'Result Analysis'] as const;
export const FINEGRAINED_CATEGORIES = [
  'Environment & Infrastructure Setup',
  'Dataset and Model Acquisition',
  'Data Processing & Preparation',
  'Method Implementation',
  'Experimental Setup',
  'Evaluation, Metrics & Benchmarking',
  'Logging, Analysis & Presentation',
] as const;

// Field order matches PaperBench's files so that a parsed rubric serialises back byte for byte. What
// PaperBench's TaskNode.from_dict accepts is accepted: any non-negative number as weight, the two
// category fields absent (null).
export const RubricNodeSchema: z.ZodMiniType<RubricNode> = z.lazy(() =>
  z.object({
    id: z.string(),
    requirements: z.string(),
    weight: z.number().check(z.nonnegative()),
    sub_tasks: z.array(RubricNodeSchema),
    task_category: z._default(
      z.nullable(z.enum(['Code Development', 'Code Execution', 'Result Analysis', 'Subtree'])),
      null,
    ),
    finegrained_task_category: z._default(z.nullable(z.string()), null),
  }),
);

/** "sub_tasks[2].sub_tasks[0].weight" from a zod/JSON path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `${out ? '.' : ''}${String(p)}`;
  return out || '(root)';
}

export function zodProblems(error: z.core.$ZodError): string[] {
  return error.issues.map((i) => `${formatPath(i.path)}: ${i.message.replace(/^Invalid input: /, '')}`);
}

export { nodePath } from '../types';

/** One finding about a rubric, at a JSON path into its file. */
export interface RubricIssue {
  path: (string | number)[];
  message: string;
}

const issueText = (i: RubricIssue) => `${formatPath(i.path)}: ${i.message}`;

/**
 * Tree rules beyond field types. PaperBench's loader accepts every tree whose fields are right, so
 * these are warnings: repeated ids (some of PaperBench's published rubrics have them), empty ids,
 * leaves without a category, categories on inner nodes, weight-0 nodes (they never count), children
 * whose weights all are 0 (their parent always scores 0). `errors` is for rules a rubric cannot be
 * used without (none at the moment beyond the field types).
 */
export function treeIssues(root: RubricNode): { errors: RubricIssue[]; warnings: RubricIssue[] } {
  const errors: RubricIssue[] = [];
  const warnings: RubricIssue[] = [];
  const seen = new Map<string, string>();
  const walk = (n: RubricNode, path: (string | number)[], parentZero: boolean) => {
    const prev = seen.get(n.id);
    if (prev !== undefined)
      warnings.push({ path: [...path, 'id'], message: `repeated id ${n.id} (also at ${prev})` });
    else seen.set(n.id, formatPath(path));
    if (!n.id.trim()) warnings.push({ path: [...path, 'id'], message: 'empty id' });
    if (n.sub_tasks.length === 0 && n.task_category === null)
      warnings.push({
        path: [...path, 'task_category'],
        message: `a leaf without a category (${LEAF_CATEGORIES.join(', ')}) is graded as Code Development`,
      });
    if (n.sub_tasks.length > 0 && n.task_category !== null)
      warnings.push({
        path: [...path, 'task_category'],
        message: `${n.task_category} on a node with sub-tasks is ignored (PaperBench refuses it)`,
      });
    if (n.weight === 0 && path.length && !parentZero)
      warnings.push({
        path: [...path, 'weight'],
        message: '0, so this requirement never counts toward the score',
      });
    const allZero = n.sub_tasks.length > 0 && n.sub_tasks.every((c) => c.weight === 0);
    if (allZero)
      warnings.push({
        path: [...path, 'sub_tasks'],
        message: 'every weight is 0, so this node always scores 0',
      });
    n.sub_tasks.forEach((c, i) => {
      walk(c, [...path, 'sub_tasks', i], allZero);
    });
  };
  walk(root, [], false);
  return { errors, warnings };
}

/** The tree errors as "path: message" lines. */
export function treeProblems(root: RubricNode): string[] {
  return treeIssues(root).errors.map(issueText);
}

/** The tree warnings as "path: message" lines. */
export function treeWarnings(root: RubricNode): string[] {
  return treeIssues(root).warnings.map(issueText);
}

export class RubricError extends PaperError {
  constructor(
    source: string,
    readonly problems: string[],
  ) {
    const shown = problems.slice(0, 12).map((p) => `  - ${p}`);
    if (problems.length > 12) shown.push(`  - … and ${problems.length - 12} more`);
    super(source, `invalid rubric (${problems.length} problem(s)):\n${shown.join('\n')}`);
    this.name = 'RubricError';
  }
}

/** Validates parsed JSON (or JSON text) as a rubric; throws a RubricError listing each bad node by path. */
export function parseRubric(json: unknown, source = 'rubric'): RubricNode {
  let value = json;
  if (typeof json === 'string') {
    try {
      value = JSON.parse(json.charCodeAt(0) === 0xfeff ? json.slice(1) : json);
    } catch (err) {
      throw new RubricError(source, [`not valid JSON (${(err as Error).message})`]);
    }
  }
  const res = RubricNodeSchema.safeParse(value);
  if (!res.success) throw new RubricError(source, zodProblems(res.error));
  const problems = treeProblems(res.data);
  if (problems.length) throw new RubricError(source, problems);
  return res.data;
}

export async function loadRubric(path: string): Promise<RubricNode> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PaperError(path, code === 'ENOENT' ? 'rubric file not found' : (err as Error).message, {
      cause: err,
    });
  }
  return parseRubric(text, path);
}

/** PaperBench's own layout (4-space indent). */
export function serializeRubric(rubric: RubricNode): string {
  return JSON.stringify(rubric, null, 4);
}

export function leaves(root: RubricNode): RubricNode[] {
  return root.sub_tasks.length ? root.sub_tasks.flatMap(leaves) : [root];
}

export function countLeaves(root: RubricNode): number {
  return leaves(root).length;
}

export interface RubricStats {
  nodes: number;
  leaves: number;
  depth: number;
  rootChildren: number;
  byCategory: Record<TaskCategory, number>;
}

export function rubricStats(root: RubricNode): RubricStats {
  const byCategory: Record<TaskCategory, number> = {
    'Code Development': 0,
    'Code Execution': 0,
    'Result Analysis': 0,
    Subtree: 0,
  };
  let nodes = 0;
  const depth = (n: RubricNode): number => {
    nodes++;
    if (!n.sub_tasks.length && n.task_category) byCategory[n.task_category]++;
    return 1 + Math.max(0, ...n.sub_tasks.map(depth));
  };
  const d = depth(root);
  return { nodes, leaves: countLeaves(root), depth: d, rootChildren: root.sub_tasks.length, byCategory };
}

const SHORT: Record<TaskCategory, string> = {
  'Code Development': 'dev',
  'Code Execution': 'exec',
  'Result Analysis': 'result',
  Subtree: 'subtree',
};

/**
 * The rubric as an indented outline within `maxChars`: whole when it fits, else cut at the deepest level
 * that fits (each cut node says how many requirements it hides), then hard-truncated as a last resort.
 */
export function rubricSummary(rubric: RubricNode, maxChars: number): string {
  const s = rubricStats(rubric);
  const head = `Rubric: ${s.leaves} gradable requirements (${s.byCategory['Code Development']} code development, ${s.byCategory['Code Execution']} code execution, ${s.byCategory['Result Analysis']} result analysis); score = weighted mean of children, leaves 0/1.`;
  const render = (maxDepth: number) => {
    const lines = [head];
    const walk = (n: RubricNode, depth: number, siblingsWeight: number) => {
      const share = siblingsWeight ? ` ${Math.round((100 * n.weight) / siblingsWeight)}%` : '';
      const cat = n.task_category ? ` (${SHORT[n.task_category]})` : '';
      const text = n.requirements.replace(/\s+/g, ' ').trim();
      let line = `${'  '.repeat(depth)}- [w${n.weight}${share}]${cat} ${text}`;
      if (n.sub_tasks.length && depth >= maxDepth) {
        line += ` [+${countLeaves(n)} sub-requirements]`;
        lines.push(line);
        return;
      }
      lines.push(line);
      const total = n.sub_tasks.reduce((a, c) => a + c.weight, 0);
      for (const c of n.sub_tasks) walk(c, depth + 1, total);
    };
    walk(rubric, 0, 0);
    return lines.join('\n');
  };
  for (let d = s.depth; d >= 1; d--) {
    const text = render(d);
    if (text.length <= maxChars) return text;
  }
  const text = render(1);
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(0, maxChars - 15))}\n[… truncated]`;
}
