/** One rubric leaf judged by the model: prompt, JSON answer parsing with one retry, on-disk cache. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChatMessage, ModelClient, ResponseFormat } from '../../llm/types';
import type { PaperIndex } from '../search';
import type { RubricNode } from '../types';
import * as z from '../zod';
import { type FileIndex, type SubmissionFile, selectFiles } from './submission';

export interface JudgeBudgets {
  /** Characters of paper excerpt. */
  paperChars: number;
  /** Tokens of submission files. */
  filesTokens: number;
  /** Characters of reproduce.sh and of reproduce.log (tail kept for the log). */
  scriptChars: number;
  logChars: number;
}

export const DEFAULT_BUDGETS: JudgeBudgets = {
  paperChars: 12_000,
  filesTokens: 24_000,
  scriptChars: 8_000,
  logChars: 16_000,
};

export interface JudgeInput {
  paperTitle: string;
  index: PaperIndex;
  leaf: RubricNode;
  /** Root first, parent last. */
  ancestors: RubricNode[];
  files: SubmissionFile[] | FileIndex;
  reproduceSh: string | undefined;
  reproduceLog: string | undefined;
  budgets: JudgeBudgets;
}

const CATEGORY_GUIDE: Record<string, string> = {
  'Code Development':
    'Code Development: judge only whether the submitted code correctly implements this requirement. Running it is not required.',
  'Code Execution':
    'Code Execution: judge whether reproduce.sh runs this part and reproduce.log shows it executed successfully (no crash, outputs produced).',
  'Result Analysis':
    'Result Analysis: judge whether the results produced by the reproduction (reproduce.log, result files) support this requirement.',
};

const SYSTEM = `You are an expert judge grading a reproduction of a research paper (PaperBench protocol).
You grade exactly one requirement (a leaf of the grading rubric) as passed (1) or failed (0).
Be strict: give 1 only when the submission clearly satisfies the requirement; missing evidence means 0.
Answer with a single JSON object and nothing else: {"score": 0 or 1, "explanation": "<2-5 sentences citing files/lines/log output>"}`;

function clip(text: string, max: number, keep: 'head' | 'tail'): string {
  if (text.length <= max) return text;
  const note = `[… ${text.length - max} characters omitted …]`;
  return keep === 'head' ? `${text.slice(0, max)}\n${note}` : `${note}\n${text.slice(-max)}`;
}

/**
 * What one judge call judged: the requirement and the evidence shown for it (as shown: clipped
 * where the prompt clips). The cache is keyed on this, so a rerun after a crash asks again only
 * when the evidence changed, not when something the judge never saw did (e.g. the names of files
 * left out, the head of a long log).
 */
export interface JudgeEvidence {
  leaf: { id: string; requirements: string; category: string; area: string | null };
  /** Requirements and weights of the ancestors, root first. */
  ancestors: [string, number][];
  excerpt: string;
  files: { path: string; content: string; truncated: boolean }[];
  reproduceSh: string | undefined;
  /** Only for the categories whose prompt shows the log. */
  reproduceLog: string | undefined;
}

export function buildJudgeMessages(input: JudgeInput): {
  messages: ChatMessage[];
  files: string[];
  evidence: JudgeEvidence;
} {
  const { leaf, ancestors, budgets } = input;
  const cat = leaf.task_category ?? 'Code Development';
  const query = [leaf.requirements, ancestors.at(-1)?.requirements ?? ''].join(' ');
  const excerpt = input.index.excerpt(query, budgets.paperChars);
  const sel = selectFiles(input.files, query, budgets.filesTokens);
  const script =
    input.reproduceSh === undefined ? undefined : clip(input.reproduceSh, budgets.scriptChars, 'head');
  const chain = ancestors
    .map((a, i) => `${'  '.repeat(i)}- ${a.requirements} (weight ${a.weight})`)
    .join('\n');
  const parts = [
    `# Paper: ${input.paperTitle}\n\nRelevant excerpts:\n\n${excerpt || '(no matching passage)'}`,
    `# Rubric context (root first)\n\n${chain || '(this is the root)'}`,
    `# Requirement to grade\n\n${leaf.requirements}\n\nCategory: ${CATEGORY_GUIDE[cat] ?? cat}${leaf.finegrained_task_category ? `\nArea: ${leaf.finegrained_task_category}` : ''}`,
    `# Submission files (${sel.included.length} most relevant shown${sel.omitted.length ? `; not shown: ${sel.omitted.slice(0, 50).join(', ')}${sel.omitted.length > 50 ? ', …' : ''}` : ''})\n\n${
      sel.included
        .map((f) => `## ${f.path}${f.truncated ? ' (truncated)' : ''}\n\`\`\`\n${f.content}\n\`\`\``)
        .join('\n\n') || '(no files)'
    }`,
    `# reproduce.sh\n\n${script === undefined ? '(missing: the submission has no reproduce.sh)' : `\`\`\`bash\n${script}\n\`\`\``}`,
  ];
  const showsLog = cat === 'Code Execution' || cat === 'Result Analysis';
  const log =
    showsLog && input.reproduceLog !== undefined
      ? clip(input.reproduceLog, budgets.logChars, 'tail')
      : undefined;
  if (showsLog) {
    parts.push(
      `# reproduce.log (output of running reproduce.sh)\n\n${log === undefined ? '(missing: reproduce.sh was not run or produced no log)' : `\`\`\`\n${log}\n\`\`\``}`,
    );
  }
  parts.push('Grade the requirement now. Reply with the JSON object only.');
  return {
    messages: [
      { role: 'system', content: SYSTEM },
      { role: 'user', content: parts.join('\n\n') },
    ],
    files: sel.included.map((f) => f.path),
    evidence: {
      leaf: {
        id: leaf.id,
        requirements: leaf.requirements,
        category: cat,
        area: leaf.finegrained_task_category ?? null,
      },
      ancestors: ancestors.map((a) => [a.requirements, a.weight]),
      excerpt,
      files: sel.included,
      // The part shown, without the note of how much was left out (a longer head is not new evidence).
      reproduceSh: input.reproduceSh?.slice(0, budgets.scriptChars),
      reproduceLog: log === undefined ? undefined : input.reproduceLog?.slice(-budgets.logChars),
    },
  };
}

const Answer = z.object({
  score: z.union([z.literal(0), z.literal(1), z.boolean(), z.enum(['0', '1'])]),
  explanation: z.string(),
});

/** The judge's JSON answer (fenced or surrounded by prose is fine), or why it cannot be used. */
export function parseJudgeAnswer(
  text: string | null,
): { score: 0 | 1; explanation: string } | { error: string } {
  if (!text?.trim()) return { error: 'empty answer' };
  const fenced = /```(?:json)?\s*([\s\S]*?)```/.exec(text)?.[1];
  const body = fenced ?? text;
  const from = body.indexOf('{');
  const to = body.lastIndexOf('}');
  if (from < 0 || to <= from) return { error: 'no JSON object in the answer' };
  let value: unknown;
  try {
    value = JSON.parse(body.slice(from, to + 1));
  } catch (err) {
    return { error: `invalid JSON (${(err as Error).message})` };
  }
  const res = Answer.safeParse(value);
  if (!res.success)
    return { error: res.error.issues.map((i) => `${i.path.join('.') || 'answer'}: ${i.message}`).join('; ') };
  const s = res.data.score;
  return { score: s === 1 || s === true || s === '1' ? 1 : 0, explanation: res.data.explanation.trim() };
}

export interface JudgeVerdict {
  score: 0 | 1;
  valid: boolean;
  explanation: string;
  attempts: number;
  cached: boolean;
  promptTokens: number;
  completionTokens: number;
}

export const UNPARSEABLE = 'judge answer unparseable';

/** Model calls for one leaf before its answer is recorded as invalid (left out of the score). */
export const JUDGE_ATTEMPTS = 3;

/**
 * The answer's shape as a strict json_schema (OpenAI structured outputs): the explanation first, so
 * the model reasons before it scores. Endpoints without structured output get the same request
 * without it (the client drops response_format after their 400) and the text parser reads the reply.
 */
export const JUDGE_RESPONSE_FORMAT: ResponseFormat = {
  type: 'json_schema',
  json_schema: {
    name: 'rubric_leaf_grade',
    strict: true,
    schema: {
      type: 'object',
      properties: {
        explanation: { type: 'string', description: '2-5 sentences citing files, lines or log output.' },
        score: { type: 'integer', enum: [0, 1], description: '1: the requirement is met; 0: it is not.' },
      },
      required: ['explanation', 'score'],
      additionalProperties: false,
    },
  },
};

/** The instructions the judge is given: a change to them is a change of question. */
const PROMPT_VERSION = createHash('sha256')
  .update(JSON.stringify([SYSTEM, CATEGORY_GUIDE]))
  .digest('hex')
  .slice(0, 16);

/** Cache key of a judge call: the model and what it judged (see JudgeEvidence). */
export function judgeCacheKey(model: string, evidence: JudgeEvidence): string {
  return createHash('sha256')
    .update(JSON.stringify({ v: 2, prompt: PROMPT_VERSION, model, evidence }))
    .digest('hex');
}

/**
 * Asks the model (or the cache) for strict JSON; a malformed answer is asked again, up to
 * JUDGE_ATTEMPTS calls, then recorded as invalid (PaperBench's valid_score false: the grade leaves
 * it out of the score).
 */
export async function judge(
  client: ModelClient,
  prompt: { messages: ChatMessage[]; evidence: JudgeEvidence },
  cacheDir: string | undefined,
  signal?: AbortSignal,
): Promise<JudgeVerdict> {
  const { messages } = prompt;
  const file = cacheDir ? join(cacheDir, `${judgeCacheKey(client.model, prompt.evidence)}.json`) : undefined;
  if (file) {
    const hit = await readFile(file, 'utf8').then(
      (t) => JSON.parse(t) as JudgeVerdict,
      () => undefined,
    );
    if (hit && (hit.score === 0 || hit.score === 1)) return { ...hit, cached: true };
  }
  let promptTokens = 0;
  let completionTokens = 0;
  const convo = [...messages];
  let lastError = '';
  for (let attempt = 1; attempt <= JUDGE_ATTEMPTS; attempt++) {
    const res = await client.chat({
      messages: convo,
      tools: [],
      responseFormat: JUDGE_RESPONSE_FORMAT,
      ...(signal ? { signal } : {}),
    });
    promptTokens += res.usage.promptTokens;
    completionTokens += res.usage.completionTokens;
    const parsed = parseJudgeAnswer(res.message.content);
    if (!('error' in parsed)) {
      const verdict: JudgeVerdict = {
        ...parsed,
        valid: true,
        attempts: attempt,
        cached: false,
        promptTokens,
        completionTokens,
      };
      if (file) {
        await mkdir(cacheDir!, { recursive: true });
        const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
        await writeFile(tmp, JSON.stringify(verdict));
        await rename(tmp, file);
      }
      return verdict;
    }
    lastError = parsed.error;
    convo.push(
      { role: 'assistant', content: res.message.content ?? '' },
      {
        role: 'user',
        content: `Your answer could not be used (${parsed.error}). Reply with only this JSON object: {"score": 0 or 1, "explanation": "..."}`,
      },
    );
  }
  return {
    score: 0,
    valid: false,
    explanation: `${UNPARSEABLE} (${lastError})`,
    attempts: JUDGE_ATTEMPTS,
    cached: false,
    promptTokens,
    completionTokens,
  };
}
