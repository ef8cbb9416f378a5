/** A rubric generated from the paper by the model: hierarchical, weighted, leaves categorised; validated and repaired. */
import { randomUUID } from 'node:crypto';
import { type ChatMessage, ContextLengthError, type ModelClient } from '../../llm/types';
import type { Paper, RubricNode } from '../types';
import * as z from '../zod';
import { FINEGRAINED_CATEGORIES, LEAF_CATEGORIES, RubricError, treeProblems, zodProblems } from './rubric';

const Draft: z.ZodMiniType<DraftNode> = z.lazy(() =>
  z.object({
    id: z.optional(z.string()),
    requirements: z.string().check(z.minLength(5, 'requirement text missing or too short')),
    weight: z.number(),
    sub_tasks: z._default(z.array(Draft), []),
    task_category: z.optional(z.nullable(z.string())),
    finegrained_task_category: z.optional(z.nullable(z.string())),
  }),
);

interface DraftNode {
  id?: string | undefined;
  requirements: string;
  weight: number;
  sub_tasks: DraftNode[];
  task_category?: string | null | undefined;
  finegrained_task_category?: string | null | undefined;
}

export interface GeneratedRubric {
  rubric: RubricNode;
  /** What was fixed silently: fresh ids, clamped weights, categories dropped from internal nodes, ... */
  repairs: string[];
  /** Model calls made (1, or 2 after a rejected first answer). */
  attempts: number;
}

export interface GenerateOptions {
  /** Characters of the paper put in the prompt (default 120k). */
  maxPaperChars?: number;
  /** Rough target size of the rubric. */
  targetLeaves?: number;
  signal?: AbortSignal;
}

function paperForPrompt(paper: Paper, max: number): string {
  if (paper.markdown.length <= max) return paper.markdown;
  return `${paper.markdown.slice(0, max)}\n\n[… ${paper.markdown.length - max} characters omitted]`;
}

function prompt(paper: Paper, opts: GenerateOptions): ChatMessage[] {
  const n = opts.targetLeaves ?? 40;
  return [
    {
      role: 'system',
      content: `You write grading rubrics for reproductions of research papers, in PaperBench's rubric.json format.
A rubric is a tree. The root says "The core contributions of the paper have been reproduced." Decompose it hierarchically into what a faithful reproduction needs (datasets, method, experiments, results), down to leaves that a judge can check as pass/fail.
Every node: {"requirements": string, "weight": integer 1-20 (relative importance among siblings), "sub_tasks": [...], "task_category": null, "finegrained_task_category": null}.
Every leaf (empty sub_tasks) has "task_category" one of ${LEAF_CATEGORIES.map((c) => `"${c}"`).join(', ')} and "finegrained_task_category" one of ${FINEGRAINED_CATEGORIES.map((c) => `"${c}"`).join(', ')}.
Code Development = the code implements it; Code Execution = reproduce.sh runs it successfully; Result Analysis = the produced results agree with the paper's claim (give the number/trend).
Aim for about ${n} leaves, depth 3-5. Answer with the JSON object of the root only.`,
    },
    { role: 'user', content: `Paper:\n\n${paperForPrompt(paper, opts.maxPaperChars ?? 120_000)}` },
  ];
}

function extractJson(text: string | null): unknown {
  if (!text?.trim()) throw new Error('empty answer');
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1] ?? text;
  const from = fenced.indexOf('{');
  const to = fenced.lastIndexOf('}');
  if (from < 0 || to <= from) throw new Error('no JSON object in the answer');
  return JSON.parse(fenced.slice(from, to + 1));
}

function closest<T extends string>(value: string | null | undefined, options: readonly T[]): T | undefined {
  if (!value) return undefined;
  const v = value.toLowerCase().replace(/[^a-z]/g, '');
  return (
    options.find((o) => o.toLowerCase().replace(/[^a-z]/g, '') === v) ??
    options.find(
      (o) =>
        v &&
        o
          .toLowerCase()
          .replace(/[^a-z]/g, '')
          .startsWith(v.slice(0, 8)),
    )
  );
}

/** Repairs what can be repaired and returns the problems that cannot (empty = valid). */
export function repairDraft(draft: DraftNode): { rubric: RubricNode; repairs: string[]; problems: string[] } {
  const repairs: string[] = [];
  const problems: string[] = [];
  const ids = new Set<string>();
  const fix = (n: DraftNode, path: string): RubricNode => {
    const at = path || '(root)';
    let id = n.id;
    if (!id || !/^[0-9a-f-]{36}$/i.test(id) || ids.has(id)) {
      id = randomUUID();
      repairs.push(`${at}.id: new UUID`);
    }
    ids.add(id);
    let weight = Math.round(n.weight);
    if (!Number.isFinite(weight) || weight < 1 || weight > 20 || weight !== n.weight) {
      weight = Math.min(20, Math.max(1, Number.isFinite(weight) ? weight : 1));
      repairs.push(`${at}.weight: ${n.weight} → ${weight}`);
    }
    const subs = n.sub_tasks.map((c, i) => fix(c, `${path ? `${path}.` : ''}sub_tasks[${i}]`));
    if (subs.length) {
      if (n.task_category || n.finegrained_task_category)
        repairs.push(`${at}: category dropped from an internal node`);
      return {
        id,
        requirements: n.requirements.trim(),
        weight,
        sub_tasks: subs,
        task_category: null,
        finegrained_task_category: null,
      };
    }
    const cat = closest(n.task_category, LEAF_CATEGORIES);
    if (!cat)
      problems.push(
        `${at}.task_category: ${JSON.stringify(n.task_category ?? null)} is not one of ${LEAF_CATEGORIES.join(', ')}`,
      );
    else if (cat !== n.task_category) repairs.push(`${at}.task_category: "${n.task_category}" → "${cat}"`);
    const fine = closest(n.finegrained_task_category, FINEGRAINED_CATEGORIES) ?? null;
    if (n.finegrained_task_category && fine !== n.finegrained_task_category)
      repairs.push(
        `${at}.finegrained_task_category: "${n.finegrained_task_category}" → ${JSON.stringify(fine)}`,
      );
    return {
      id,
      requirements: n.requirements.trim(),
      weight,
      sub_tasks: [],
      task_category: cat ?? null,
      finegrained_task_category: fine,
    };
  };
  const rubric = fix(draft, '');
  if (!rubric.sub_tasks.length)
    problems.push('(root).sub_tasks: the rubric has no sub-tasks; decompose the paper');
  if (!problems.length) problems.push(...treeProblems(rubric));
  return { rubric, repairs, problems };
}

/**
 * Asks the model for a rubric; an invalid answer is sent back once with the problems listed, and a
 * second invalid answer is rejected with a RubricError.
 */
export async function generateRubric(
  client: ModelClient,
  paper: Paper,
  opts: GenerateOptions = {},
): Promise<GeneratedRubric> {
  let maxPaperChars = opts.maxPaperChars ?? 120_000;
  let messages = prompt(paper, { ...opts, maxPaperChars });
  let problems: string[] = [];
  let shrinks = 0;
  for (let attempt = 1; attempt <= 2; attempt++) {
    let res: Awaited<ReturnType<ModelClient['chat']>>;
    try {
      res = await client.chat({ messages, tools: [], ...(opts.signal ? { signal: opts.signal } : {}) });
    } catch (err) {
      // The paper did not fit the model's context: start over with a third of it (twice at most).
      if (!(err instanceof ContextLengthError) || attempt > 1 || shrinks >= 2) throw err;
      shrinks++;
      maxPaperChars = Math.floor(maxPaperChars / 3);
      messages = prompt(paper, { ...opts, maxPaperChars });
      attempt--;
      continue;
    }
    const text = res.message.content;
    let value: unknown;
    try {
      value = extractJson(text);
      const parsed = Draft.safeParse(value);
      if (!parsed.success) problems = zodProblems(parsed.error);
      else {
        const r = repairDraft(parsed.data);
        if (!r.problems.length) return { rubric: r.rubric, repairs: r.repairs, attempts: attempt };
        problems = r.problems;
      }
    } catch (err) {
      problems = [`answer is not JSON: ${(err as Error).message}`];
    }
    messages.push(
      { role: 'assistant', content: text ?? '' },
      {
        role: 'user',
        content: `That rubric is invalid:\n${problems
          .slice(0, 30)
          .map((p) => `- ${p}`)
          .join('\n')}\nReturn the corrected rubric as one JSON object only.`,
      },
    );
  }
  throw new RubricError(`rubric generated by ${client.model} for "${paper.title}"`, problems);
}
