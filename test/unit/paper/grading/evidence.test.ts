/**
 * The judge is not asked what the evidence already decides: with no reproduce.sh, or a final run that
 * failed or printed nothing, Code Execution and Result Analysis leaves score 0 with that reason and
 * no model call; the report names them. The scripted judge here passes everything it is asked.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { OpenAIModelClient } from '../../../../src/llm/openai-client';
import {
  type GradeOptions,
  gradeSubmission,
  paperFromMarkdown,
  parseRubric,
  type ReproductionRunner,
  type RubricNode,
  renderReport,
} from '../../../../src/paper';
import { type ChatBody, reply, startModelServer } from '../../../support/model-server';
import { reproduceAndGrade } from '../../../support/reproduce-grade';
import { leafNode } from '../../../support/rubrics';

const RUBRIC = parseRubric({
  ...leafNode('root', 1),
  task_category: null,
  sub_tasks: [
    leafNode('dev', 2, 'Code Development', 'bootstrap.py implements the bootstrap.'),
    leafNode('exec', 1, 'Code Execution', 'reproduce.sh runs the bootstrap.'),
    leafNode('res', 1, 'Result Analysis', 'The bootstrap error is about 0.07.'),
  ],
} satisfies RubricNode);
const PAPER = paperFromMarkdown('# P\n\n## Method\n\nBootstrap error 0.07.\n', 'p.md');
const FILES = [{ path: 'bootstrap.py', content: 'def bootstrap(): ...\n' }];

const asked: string[] = [];
const serverP = startModelServer((req: ChatBody) => {
  asked.push(/# Requirement to grade\n\n(.*)/.exec(req.messages[1]!.content!)![1]!);
  return reply('{"score": 1, "explanation": "looks fine to me"}'); // an over-generous judge
});
after(async () => (await serverP).close());

async function grade(more: Partial<GradeOptions>) {
  const s = await serverP;
  asked.length = 0;
  return gradeSubmission({
    client: new OpenAIModelClient({
      baseURL: s.url,
      apiKey: 'k',
      model: 'judge',
      maxRetries: 0,
      stream: false,
    }),
    paper: PAPER,
    rubric: RUBRIC,
    files: FILES,
    concurrency: 1,
    ...more,
  });
}

test('no reproduce.sh: execution and result leaves are 0 without a judge call, and the report says so', async () => {
  // Today's behaviour without the option: the judge passes everything, 100% for a submission that never ran.
  const generous = await grade({});
  assert.equal(generous.score, 1);
  assert.equal(asked.length, 3);

  const progress: string[] = [];
  const g = await grade({
    decideFromEvidence: true,
    onLeaf: (p) => progress.push(`${p.leafPath}:${p.score}`),
  });
  assert.deepEqual(asked, ['bootstrap.py implements the bootstrap.'], 'only the code leaf is judged');
  assert.equal(g.score, 0.5); // dev (weight 2) passes; exec and res (1 each) fail
  assert.deepEqual(
    g.decided.map((d) => [d.path, d.category]),
    [
      ['1', 'Code Execution'],
      ['2', 'Result Analysis'],
    ],
  );
  assert.deepEqual(progress.sort(), ['0:1', '1:0', '2:0'], 'progress counts every leaf');
  const exec = g.root.sub_tasks[1]!;
  assert.equal(exec.score, 0);
  assert.equal(exec.valid_score, true);
  assert.equal(exec.judge_metadata, null);
  assert.match(exec.explanation, /without asking the judge: the submission has no reproduce\.sh/);
  const report = renderReport(g);
  assert.match(
    report,
    /2 Code Execution \/ Result Analysis requirement\(s\) scored 0 without asking the judge: the submission has no reproduce\.sh/,
  );
  assert.match(
    report,
    /\| reproduce\.sh runs the bootstrap\. \| Code Execution \| 1 \| ❌ 0 \(no judge\) \|/,
  );
  assert.match(report, /\| bootstrap\.py implements the bootstrap\. \| Code Development \| 2 \| ✅ 1 \|/);
});

test('a failed or silent final run decides them too; a good or timed-out run goes to the judge', async () => {
  const sh = 'python bootstrap.py\n';
  const run = (exitCode: number | null, log: string, timedOut = false) => ({
    ran: true,
    exitCode,
    timedOut,
    log,
  });
  const cases: [string, ReturnType<typeof run>, RegExp | null][] = [
    [
      'failed',
      run(1, 'Traceback ...\n[reproduce.sh exited with code 1]'),
      /final run of reproduce\.sh failed \(exit code 1\)/,
    ],
    ['silent', run(0, '  \n'), /final run of reproduce\.sh printed nothing/],
    [
      'not run',
      { ran: false, exitCode: null, timedOut: false, log: 'reproduce.sh not found' },
      /no reproduce\.sh/,
    ],
    ['good', run(0, 'bootstrap std=0.069\n'), null],
    ['timed out', run(null, 'epoch 1 done\n[stopped at the time limit]', true), null],
  ];
  for (const [name, finalRun, reason] of cases) {
    const g = await grade({
      decideFromEvidence: true,
      reproduceSh: sh,
      reproduceLog: finalRun.log,
      finalRun,
    });
    if (reason) {
      assert.equal(asked.length, 1, name);
      assert.equal(g.decided.length, 2, name);
      for (const d of g.decided) assert.match(d.reason, reason, name);
      assert.equal(g.score, 0.5, name);
    } else {
      assert.equal(asked.length, 3, name);
      assert.deepEqual(g.decided, [], name);
      assert.equal(g.score, 1, name);
    }
  }
});

test('reproduceAndGrade: a reproduce.sh that crashes in a real shell gets no judge call for its execution leaves', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'klong-evidence-'));
  await writeFile(join(dir, 'reproduce.sh'), 'echo loading data\npython3 -c "raise SystemExit(2)"\n');
  const runner: ReproductionRunner = {
    run: async (command) => {
      const r = spawnSync('bash', ['-c', command], { cwd: dir, encoding: 'utf8' });
      return { exitCode: r.status, output: r.stdout + r.stderr };
    },
  };
  const s = await serverP;
  asked.length = 0;
  const { reproduction, grade: g } = await reproduceAndGrade(runner, {
    timeoutMs: 30_000,
    client: new OpenAIModelClient({
      baseURL: s.url,
      apiKey: 'k',
      model: 'judge',
      maxRetries: 0,
      stream: false,
    }),
    paper: PAPER,
    rubric: RUBRIC,
    files: FILES,
  });
  assert.equal(reproduction.exitCode, 2);
  assert.deepEqual(asked, ['bootstrap.py implements the bootstrap.']);
  assert.equal(g.decided.length, 2);
  assert.match(g.decided[0]!.reason, /failed \(exit code 2\)/);
});
