/** Grades a submission against a rubric: one judge call per leaf, concurrent, cached, resumable. */
import type { ModelClient } from '../../llm/types';
import { ContextLengthError, FatalModelError, ModelUnavailableError } from '../../llm/types';
import type { BlacklistHit } from '../blacklist/blacklist';
import { PaperIndex } from '../search';
import { nodePath, type Paper, type RubricNode } from '../types';
import { type DecidedLeaf, evidenceDecides, type FinalRunEvidence } from './evidence';
import { type GradedNode, gradedLeaves, gradeTree } from './graded';
import { buildJudgeMessages, DEFAULT_BUDGETS, type JudgeBudgets, type JudgeVerdict, judge } from './judge';
import { type FileIndex, indexFiles, type SubmissionFile } from './submission';

export interface GradeOptions {
  client: ModelClient;
  paper: Paper;
  rubric: RubricNode;
  files: SubmissionFile[];
  reproduceSh?: string;
  reproduceLog?: string;
  /**
   * Score Code Execution and Result Analysis leaves 0 without a judge call when the evidence decides
   * them (see evidenceDecides): `reproduceSh` absent means the submission has none; `finalRun`, when
   * given, says whether it failed or printed nothing.
   */
  decideFromEvidence?: boolean;
  finalRun?: FinalRunEvidence;
  /** Judge answers are cached here by content hash; a rerun after a crash reuses them. */
  cacheDir?: string;
  /** Judge calls in flight at once (default 4). */
  concurrency?: number;
  budgets?: Partial<JudgeBudgets>;
  /** Blacklist monitor hits for this submission's session: the result is flagged when any. */
  blacklistHits?: BlacklistHit[];
  signal?: AbortSignal;
  onLeaf?: (progress: LeafProgress) => void;
}

/** One leaf graded: `done` of `total` so far. */
export interface LeafProgress {
  done: number;
  total: number;
  leafId: string;
  /** The leaf's place in the tree (nodePath): ids may repeat. */
  leafPath: string;
  score: number;
  /** False when the judge's answer could not be used (left out of the score). */
  valid: boolean;
  cached: boolean;
}

export interface GradeResult {
  paperTitle: string;
  model: string;
  /** Root score in [0, 1]. */
  score: number;
  /** The graded tree in PaperBench's shape. */
  root: GradedNode;
  leaves: number;
  passed: number;
  /** Leaves whose judge answer could not be used (valid_score false: left out of the score). */
  invalid: number;
  cachedLeaves: number;
  /** Leaves scored 0 without a judge call because the evidence decided them. */
  decided: DecidedLeaf[];
  promptTokens: number;
  completionTokens: number;
  flags: { blacklist: BlacklistHit[] };
  /** Flagged for review, as PaperBench does when its monitor finds blacklisted resources in the session. */
  flagged: boolean;
  gradedAt: string;
}

interface LeafJob {
  leaf: RubricNode;
  ancestors: RubricNode[];
  path: string;
}

function leafJobs(n: RubricNode, ancestors: RubricNode[] = [], path = ''): LeafJob[] {
  if (!n.sub_tasks.length) return [{ leaf: n, ancestors, path }];
  return n.sub_tasks.flatMap((c, i) => leafJobs(c, [...ancestors, n], nodePath(path, i)));
}

/** Runs `worker` over `items` with at most `limit` in flight; the first fatal error stops new work. */
async function pool<T>(items: T[], limit: number, worker: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const run = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      try {
        await worker(item);
      } catch (err) {
        failed ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, run));
  if (failed !== undefined) throw failed;
}

/**
 * One leaf asked of the judge, with less of the paper and the submission when the question is over
 * its context window; a failed call is an invalid verdict unless grading cannot go on at all.
 */
async function judgeLeaf(
  opts: GradeOptions,
  budgets: JudgeBudgets,
  index: PaperIndex,
  fileIndex: FileIndex,
  { leaf, ancestors }: LeafJob,
): Promise<{ verdict: JudgeVerdict; files: string[] }> {
  const prompt = (shrink: number) =>
    buildJudgeMessages({
      paperTitle: opts.paper.title,
      index,
      leaf,
      ancestors,
      files: fileIndex,
      reproduceSh: opts.reproduceSh,
      reproduceLog: opts.reproduceLog,
      budgets: {
        paperChars: Math.floor(budgets.paperChars / shrink),
        filesTokens: Math.floor(budgets.filesTokens / shrink),
        scriptChars: Math.floor(budgets.scriptChars / shrink),
        logChars: Math.floor(budgets.logChars / shrink),
      },
    });
  let shown = prompt(1);
  let v: JudgeVerdict;
  try {
    // Over the judge's context window: the same question with a quarter, then a sixteenth of the material.
    for (let shrink = 4; ; shrink *= 4) {
      try {
        v = await judge(opts.client, shown, opts.cacheDir, opts.signal);
        break;
      } catch (err) {
        if (!(err instanceof ContextLengthError) || shrink > 16) throw err;
        shown = prompt(shrink);
      }
    }
  } catch (err) {
    // Bad key, unknown model, an endpoint down through every retry, or a cancel: stop; the cache keeps
    // what was graded so far and a rerun resumes from there.
    if (err instanceof FatalModelError || err instanceof ModelUnavailableError || opts.signal?.aborted)
      throw err;
    v = {
      score: 0,
      valid: false,
      explanation: `judge call failed: ${(err as Error).message}`,
      attempts: 1,
      cached: false,
      promptTokens: 0,
      completionTokens: 0,
    };
  }
  return { verdict: v, files: shown.files };
}

export async function gradeSubmission(opts: GradeOptions): Promise<GradeResult> {
  const budgets = { ...DEFAULT_BUDGETS, ...opts.budgets };
  const index = new PaperIndex(opts.paper);
  const fileIndex = indexFiles(opts.files);
  const jobs = leafJobs(opts.rubric);
  const verdicts = new Map<string, JudgeVerdict & { files: string[] }>();
  let done = 0;
  const reportLeaf = (
    leaf: RubricNode,
    path: string,
    v: Pick<LeafProgress, 'score' | 'valid' | 'cached'>,
  ) => {
    done++;
    opts.onLeaf?.({
      done,
      total: jobs.length,
      leafId: leaf.id,
      leafPath: path,
      score: v.score,
      valid: v.valid,
      cached: v.cached,
    });
  };
  const decided = new Map<string, DecidedLeaf>();
  for (const { leaf, path } of opts.decideFromEvidence ? jobs : []) {
    const reason = evidenceDecides(leaf, opts);
    if (!reason) continue;
    decided.set(path, { path, requirements: leaf.requirements, category: leaf.task_category ?? '', reason });
    reportLeaf(leaf, path, { score: 0, valid: true, cached: false });
  }
  const asked = jobs.filter((j) => !decided.has(j.path));
  await pool(asked, opts.concurrency ?? 4, async (job) => {
    const { verdict: v, files } = await judgeLeaf(opts, budgets, index, fileIndex, job);
    verdicts.set(job.path, { ...v, files });
    reportLeaf(job.leaf, job.path, v);
  });
  const root = gradeTree(opts.rubric, (_leaf, path) => {
    const d = decided.get(path);
    if (d) return { score: 0, valid_score: true, explanation: d.reason, judge_metadata: null };
    const v = verdicts.get(path)!;
    return {
      score: v.score,
      valid_score: v.valid,
      explanation: v.explanation,
      judge_metadata: {
        model: opts.client.model,
        cached: v.cached,
        attempts: v.attempts,
        promptTokens: v.promptTokens,
        completionTokens: v.completionTokens,
        files: v.files,
      },
    };
  });
  const all = [...verdicts.values()];
  const leaves = gradedLeaves(root);
  return {
    paperTitle: opts.paper.title,
    model: opts.client.model,
    score: root.score,
    root,
    leaves: leaves.length,
    passed: leaves.filter((l) => l.score === 1).length,
    invalid: leaves.filter((l) => !l.valid_score).length,
    cachedLeaves: all.filter((v) => v.cached).length,
    decided: [...decided.values()],
    promptTokens: all.reduce((a, v) => a + v.promptTokens, 0),
    completionTokens: all.reduce((a, v) => a + v.completionTokens, 0),
    flags: { blacklist: opts.blacklistHits ?? [] },
    flagged: (opts.blacklistHits?.length ?? 0) > 0,
    gradedAt: new Date().toISOString(),
  };
}
