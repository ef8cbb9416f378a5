import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { OpenAIModelClient } from '../../src/llm/openai-client';
import {
  Blacklist,
  type GradedNode,
  type GradeOptions,
  gradeSubmission,
  gradeToJson,
  paperFromMarkdown,
  parseRubric,
  type RubricNode,
  renderReport,
  scanEvents,
  UNPARSEABLE,
} from '../../src/paper';
import { type ChatBody, faults, reply, startModelServer } from '../support/model-server';

const PAPER = paperFromMarkdown(
  `# Resampling Methods

## Abstract

We compare resubstitution, cross-validation and the bootstrap for estimating the error of a linear discriminant.

## 1 Method

Each dataset has 30 samples and 10 N(0,1) predictors. The bootstrap uses B=200 resamples.

## 2 Results

The bootstrap is the most precise estimator (mean 0.497, std 0.069). Resubstitution is biased (0.228).
`,
  'paper.md',
);

const leaf = (
  id: string,
  requirements: string,
  weight: number,
  cat: RubricNode['task_category'],
): RubricNode => ({
  id,
  requirements,
  weight,
  sub_tasks: [],
  task_category: cat,
  finegrained_task_category: 'Method Implementation',
});

const RUBRIC = parseRubric({
  id: 'root',
  requirements: 'The core contributions of the paper have been reproduced.',
  weight: 1,
  task_category: null,
  finegrained_task_category: null,
  sub_tasks: [
    {
      id: 'impl',
      requirements: 'The estimators are implemented and run.',
      weight: 2,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: [
        leaf(
          'dev-bootstrap',
          'The bootstrap estimator with B=200 resamples is implemented.',
          1,
          'Code Development',
        ),
        leaf(
          'exec-bootstrap',
          'reproduce.sh runs the bootstrap experiment on 1000 datasets.',
          1,
          'Code Execution',
        ),
      ],
    },
    {
      id: 'results',
      requirements: 'The results match the paper.',
      weight: 1,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: [
        leaf(
          'res-precise',
          'The bootstrap has the lowest standard deviation (about 0.069).',
          1,
          'Result Analysis',
        ),
      ],
    },
  ],
});

const FILES = [
  {
    path: 'bootstrap.py',
    content:
      'import numpy as np\n\ndef bootstrap_error(X, y, B=200):\n    """bootstrap resamples"""\n    ...\n',
  },
  { path: 'lda.py', content: 'class LDA:\n    def fit(self, X, y): ...\n' },
  { path: 'README.md', content: 'Reproduction of resampling methods.\n' },
];
const REPRO_SH = 'python run_all.py --datasets 1000\n';
const REPRO_LOG = 'bootstrap: mean=0.497 std=0.069\nresubstitution: mean=0.228\n';

function requirementOf(req: ChatBody): string {
  const user = req.messages.find((m) => m.role === 'user')?.content ?? '';
  return /# Requirement to grade\n\n(.*)/.exec(user)?.[1] ?? '';
}
const isRetry = (req: ChatBody) => req.messages.length > 2;

function client(url: string, delays: number[]) {
  return new OpenAIModelClient({
    baseURL: url,
    apiKey: 'test-key',
    model: 'judge-model',
    maxRetries: 6,
    // Record the waits (Retry-After) instead of sleeping through them.
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
}

/** gradeSubmission of the fixture submission (PAPER, RUBRIC, FILES) with the judge at `url`. */
function grade(url: string, more: Partial<GradeOptions> = {}, delays: number[] = []) {
  return gradeSubmission({
    client: client(url, delays),
    paper: PAPER,
    rubric: RUBRIC,
    files: FILES,
    ...more,
  });
}

test('grading end to end: 429 storm, malformed answers, PaperBench shape, report, cache resume, blacklist flag', async () => {
  let served = 0;
  const server = await startModelServer((req) => {
    served++;
    if (served <= 3) return faults.rateLimit(1);
    const r = requirementOf(req);
    if (r.startsWith('The bootstrap estimator'))
      return reply('```json\n{"score": 1, "explanation": "bootstrap.py implements B=200 resampling."}\n```');
    if (r.startsWith('reproduce.sh runs'))
      return isRetry(req)
        ? reply('{"score": true, "explanation": "reproduce.log shows the bootstrap ran."}')
        : reply('I believe this passes.');
    return reply('{"score": "maybe"}'); // malformed at every attempt → invalid
  });
  const cacheDir = await mkdtemp(join(tmpdir(), 'judge-cache-'));
  const delays: number[] = [];
  const events = [
    {
      type: 'tool_call' as const,
      step: 3,
      callId: 'c1',
      name: 'bash',
      args: '{"command":"git clone https://GitHub.com/authors/resampling.git"}',
    },
    {
      type: 'tool_result' as const,
      step: 4,
      callId: 'c2',
      name: 'read_paper',
      ok: true,
      output: 'see github.com/authors/resampling',
      durationMs: 1,
    },
  ];
  const hits = scanEvents(
    events,
    new Blacklist([{ raw: 'https://github.com/authors/resampling', source: 'paper' }]),
  );
  try {
    const result = await grade(
      server.url,
      { reproduceSh: REPRO_SH, reproduceLog: REPRO_LOG, cacheDir, concurrency: 2, blacklistHits: hits },
      delays,
    );
    assert.equal(server.served.filter((s) => s === 'rate_limit').length, 3);
    assert.deepEqual(delays, [1000, 1000, 1000], 'Retry-After: 1 honoured for each 429');
    const byId = new Map<string, GradedNode>();
    const walk = (n: GradedNode) => {
      byId.set(n.id, n);
      n.sub_tasks.forEach(walk);
    };
    walk(result.root);
    assert.equal(byId.get('dev-bootstrap')!.score, 1);
    assert.equal(byId.get('dev-bootstrap')!.judge_metadata!.attempts, 1);
    assert.equal(byId.get('dev-bootstrap')!.judge_metadata!.files[0], 'bootstrap.py');
    assert.equal(byId.get('exec-bootstrap')!.score, 1);
    assert.equal(byId.get('exec-bootstrap')!.judge_metadata!.attempts, 2);
    const bad = byId.get('res-precise')!;
    assert.equal(bad.score, 0);
    assert.equal(bad.valid_score, false);
    assert.ok(bad.explanation.startsWith(UNPARSEABLE), bad.explanation);
    // (2 * mean(1, 1)) / 2: the leaf the judge could not grade is left out, not scored 0.
    assert.equal(result.score, 1);
    assert.equal(result.passed, 2);
    assert.equal(result.invalid, 1);
    for (const n of byId.values())
      for (const k of ['score', 'valid_score', 'explanation', 'judge_metadata'])
        assert.ok(k in n, `${n.id} lacks ${k}`);

    // What the judge saw: the ancestors, the relevant file, reproduce.log only for execution/result leaves.
    const prompts = server.requests
      .filter((r) => r.messages.length === 2)
      .map((r) => r.messages[1]!.content ?? '');
    const devPrompt = prompts.find((p) => p.includes('The bootstrap estimator with B=200'))!;
    assert.match(devPrompt, /The estimators are implemented and run\. \(weight 2\)/);
    assert.match(devPrompt, /## bootstrap\.py/);
    assert.match(devPrompt, /B=200 resamples/);
    assert.match(devPrompt, /# reproduce\.sh\n\n```bash\npython run_all\.py/);
    assert.doesNotMatch(devPrompt, /# reproduce\.log/);
    assert.match(
      prompts.find((p) => p.includes('reproduce.sh runs the bootstrap'))!,
      /# reproduce\.log[\s\S]*mean=0\.497/,
    );

    assert.equal(result.flags.blacklist.length, 1, 'read_paper output is not a use; the git clone is');
    const json = JSON.parse(gradeToJson(result)) as GradedNode;
    assert.equal(json.score, result.score);
    assert.equal(json.sub_tasks[1]!.sub_tasks[0]!.explanation, bad.explanation);
    const report = renderReport(result);
    assert.match(report, /\*\*Score: 100\.0%\*\* — 2 of 3 requirements passed/);
    assert.match(report, /1 requirement\(s\) could not be judged\*\* .* left out of the score/);
    assert.match(report, /Blacklisted resources used[\s\S]*step 3 \(tool_call, `bash`\)/);
    assert.match(report, /\| 1 \| The estimators are implemented and run\. \| 2 \| 100\.0% \| 2\/2 \|/);
    assert.match(report, /\| 2 \| The results match the paper\. \| 1 \| not judged \| 0\/1 \|/);
    assert.match(report, /⚠ not judged \| judge answer unparseable/);
    assert.equal((await readdir(cacheDir)).length, 2, 'only usable answers are cached');
  } finally {
    await server.close();
  }

  // Rerun (e.g. after a crash): cached leaves are not asked again; the unparseable one is.
  const server2 = await startModelServer([reply('{"score": 1, "explanation": "std 0.069 is the lowest."}')]);
  try {
    const again = await grade(server2.url, { reproduceSh: REPRO_SH, reproduceLog: REPRO_LOG, cacheDir });
    assert.equal(server2.requests.length, 1);
    assert.equal(again.cachedLeaves, 2);
    assert.equal(again.score, 1);
  } finally {
    await server2.close();
  }
});

test('a fatal model error stops grading; a rerun resumes from the judge cache', async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), 'judge-cache-'));
  const ok = reply('{"score": 1, "explanation": "fine"}');
  const s1 = await startModelServer([ok, faults.unauthorized()]);
  try {
    await assert.rejects(
      grade(s1.url, { cacheDir, concurrency: 1 }),
      (e: unknown) => (e as Error).name === 'FatalModelError',
    );
  } finally {
    await s1.close();
  }
  const s2 = await startModelServer([ok, ok]);
  try {
    const r = await grade(s2.url, { cacheDir, concurrency: 1 });
    assert.equal(s2.requests.length, 2, 'the leaf graded before the crash came from the cache');
    assert.equal(r.cachedLeaves, 1);
    assert.equal(r.score, 1);
  } finally {
    await s2.close();
  }
});

test('a judge prompt over the context window is retried with less material', async () => {
  const big = [...FILES, { path: 'notes.txt', content: 'bootstrap resamples '.repeat(3000) }];
  const s = await startModelServer([faults.contextLength(), reply('{"score": 1, "explanation": "ok"}')]);
  try {
    const one = parseRubric({ ...RUBRIC, sub_tasks: [RUBRIC.sub_tasks[0]!.sub_tasks[0]!] });
    const r = await grade(s.url, { rubric: one, files: big, concurrency: 1 });
    assert.equal(r.score, 1);
    const sizes = s.requests.map((q) => q.messages[1]!.content!.length);
    assert.ok(sizes[1]! < sizes[0]! / 2, `${sizes[1]} vs ${sizes[0]}`);
  } finally {
    await s.close();
  }
});
