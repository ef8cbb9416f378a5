/**
 * The early-end check's cost against a full grading, measured in the same run (judge: the scripted
 * server answering each call after 40 ms). A 24-leaf rubric; each leaf's evidence is its own file
 * of the submission. The agent changed half of the files since the last check, so the check finds
 * the other half of its verdicts in the judge cache of the session folder.
 * - the check (8 judge calls in flight) vs the final grading as the engine runs it (4 in flight,
 *   nothing cached for this submission);
 * - the check vs a full grading at the same 8 in flight: with every judge call taking the same
 *   time, 12 calls need 2 rounds of 8 where 24 need 3, so caching alone cannot go below 2/3 here.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { earlyEndCheck } from '../src/engine/early-end';
import { OpenAIModelClient } from '../src/llm/openai-client';
import {
  type GradeOptions,
  gradeSubmission,
  paperFromMarkdown,
  parseRubric,
  type RubricNode,
  type SubmissionFile,
} from '../src/paper';
import { reply, startModelServer } from '../test/support/model-server';
import { type BenchRow, median, row } from './types';

const LEAVES = 24;

function rubric(): RubricNode {
  return parseRubric({
    id: 'root',
    requirements: 'Root.',
    weight: 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: Array.from({ length: 4 }, (_, g) => ({
      id: `g${g}`,
      requirements: `Group ${g} of the reproduction.`,
      weight: g + 1,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: Array.from({ length: LEAVES / 4 }, (_, i) => {
        const n = g * (LEAVES / 4) + i;
        return {
          id: `l${n}`,
          requirements: `Requirement ${n}: module${n} implements estimator${n}.`,
          weight: 1,
          sub_tasks: [],
          task_category: 'Code Development' as const,
          finegrained_task_category: null,
        };
      }),
    })),
  });
}

/** One file per leaf, each too big to be shown beside another (filesTokens below). */
function submission(version: (n: number) => number): SubmissionFile[] {
  return Array.from({ length: LEAVES }, (_, n) => ({
    path: `module${n}.py`,
    content: `# estimator${n}, revision ${version(n)}\n${'x = 1  # padding line\n'.repeat(90)}`,
  }));
}

export default async (): Promise<BenchRow[]> => {
  const server = await startModelServer(() => async () => {
    await new Promise((r) => setTimeout(r, 40));
    return reply('{"score": 0, "explanation": "not yet"}');
  });
  const work = mkdtempSync(join(tmpdir(), 'bench-early-end-'));
  try {
    const client = new OpenAIModelClient({ baseURL: server.url, apiKey: 'k', model: 'm', maxRetries: 0 });
    const base: Omit<GradeOptions, 'files'> = {
      client,
      paper: paperFromMarkdown('# P\n\n## Method\n\nEstimators.\n', 'p.md'),
      rubric: rubric(),
      budgets: { filesTokens: 600 },
    };
    const before = submission(() => 1);
    const after = submission((n) => (n % 2 ? 2 : 1)); // every other file changed
    const previous = join(work, 'previous');
    await gradeSubmission({ ...base, files: before, concurrency: 8, cacheDir: previous });

    const runs = 3;
    const checkMs: number[] = [];
    const full8: number[] = [];
    const full4: number[] = [];
    let judged = 0;
    for (let i = 0; i < runs; i++) {
      const cache = join(work, `check-${i}`);
      cpSync(previous, cache, { recursive: true });
      const asked = server.requests.length;
      let t = performance.now();
      await earlyEndCheck(
        { step: 1, callId: 'c', checksDone: 0, budgetUsed: 0.2, signal: new AbortController().signal },
        { minBudgetUse: 0.5, target: 1, checks: 3 },
        () => gradeSubmission({ ...base, files: after, concurrency: 8, cacheDir: cache }),
        () => {},
      );
      checkMs.push(performance.now() - t);
      judged = server.requests.length - asked;
      t = performance.now();
      await gradeSubmission({ ...base, files: after, concurrency: 8, cacheDir: join(work, `full8-${i}`) });
      full8.push(performance.now() - t);
      t = performance.now();
      await gradeSubmission({ ...base, files: after, cacheDir: join(work, `full4-${i}`) });
      full4.push(performance.now() - t);
    }
    const note = `${judged} of ${LEAVES} leaves judged by the check; the rest from the judge cache`;
    return [
      row(
        'early-end check (24 leaves, half the evidence unchanged, 8 in flight) vs the final grading (4 in flight)',
        'ms',
        median(checkMs),
        median(full4),
        { max: 0.5 },
        note,
      ),
      row(
        'early-end check (half the evidence unchanged) vs a full grading, both 8 in flight',
        'ms',
        median(checkMs),
        median(full8),
        { max: 0.75, label: '≤ 0.75× (2/3 is the bound for equal call times)' },
        note,
      ),
    ];
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
};
