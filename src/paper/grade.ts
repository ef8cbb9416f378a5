/** Grades a submission against a rubric: one judge call per leaf, concurrent, cached, resumable. */
import type { ModelClient } from '../llm/types';
import { ContextLengthError, FatalModelError, ModelUnavailableError } from '../llm/types';
import type { BlacklistHit } from './blacklist';
import { type GradedNode, gradedLeaves, gradeTree } from './graded';
import { buildJudgeMessages, DEFAULT_BUDGETS, type JudgeBudgets, type JudgeVerdict, judge } from './judge';
import { PaperIndex } from './search';
import { indexFiles, type SubmissionFile } from './submission';
import type { Paper, RubricNode } from './types';

export interface GradeOptions {
  client: ModelClient;
  paper: Paper;
  rubric: RubricNode;
  files: SubmissionFile[];
  reproduceSh?: string;
  reproduceLog?: string;
  /** Judge answers are cached here by content hash; a rerun after a crash reuses them. */
  cacheDir?: string;
  /** Judge calls in flight at once (default 4). */
  concurrency?: number;
  budgets?: Partial<JudgeBudgets>;
  /** Blacklist monitor hits for this submission's session: the result is flagged when any. */
  blacklistHits?: BlacklistHit[];
  signal?: AbortSignal;
  onLeaf?: (progress: {
    done: number;
    total: number;
    leafId: string;
    score: number;
    cached: boolean;
  }) => void;
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
  /** Leaves whose judge answer could not be used (scored 0, valid_score false). */
  invalid: number;
  cachedLeaves: number;
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
}

function leafJobs(n: RubricNode, ancestors: RubricNode[] = []): LeafJob[] {
  if (!n.sub_tasks.length) return [{ leaf: n, ancestors }];
  return n.sub_tasks.flatMap((c) => leafJobs(c, [...ancestors, n]));
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

export async function gradeSubmission(opts: GradeOptions): Promise<GradeResult> {
  const budgets = { ...DEFAULT_BUDGETS, ...opts.budgets };
  const index = new PaperIndex(opts.paper);
  const fileIndex = indexFiles(opts.files);
  const jobs = leafJobs(opts.rubric);
  const verdicts = new Map<string, JudgeVerdict & { files: string[] }>();
  let done = 0;
  await pool(jobs, opts.concurrency ?? 4, async ({ leaf, ancestors }) => {
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
    let { messages, files } = prompt(1);
    let v: JudgeVerdict;
    try {
      // Over the judge's context window: the same question with a quarter, then a sixteenth of the material.
      for (let shrink = 4; ; shrink *= 4) {
        try {
          v = await judge(opts.client, messages, opts.cacheDir, opts.signal);
          break;
        } catch (err) {
          if (!(err instanceof ContextLengthError) || shrink > 16) throw err;
          ({ messages, files } = prompt(shrink));
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
    verdicts.set(leaf.id, { ...v, files });
    done++;
    opts.onLeaf?.({ done, total: jobs.length, leafId: leaf.id, score: v.score, cached: v.cached });
  });
  const root = gradeTree(opts.rubric, (leaf) => {
    const v = verdicts.get(leaf.id)!;
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
    promptTokens: all.reduce((a, v) => a + v.promptTokens, 0),
    completionTokens: all.reduce((a, v) => a + v.completionTokens, 0),
    flags: { blacklist: opts.blacklistHits ?? [] },
    flagged: (opts.blacklistHits?.length ?? 0) > 0,
    gradedAt: new Date().toISOString(),
  };
}
