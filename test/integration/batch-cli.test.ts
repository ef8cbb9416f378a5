/**
 * `klong batch` end to end: two tiny generated papers, two stages (2m then 3m), concurrency 2, the
 * scripted model server (real HTTP) and real containers (network none). The first invocation is
 * killed (SIGKILL) while one stage-2 run is mid-session; the same command then finishes the batch:
 * finished runs are not redone, the interrupted session resumes where it stopped, and every run's
 * rubric score lands in summary.csv / summary.md as its reward.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { BatchState } from '../../src/engine/batch-types';
import { cliCleanup, cliDockerSkip, runCli, TEST_IMAGE } from '../support/cli-run';
import { containersBy } from '../support/docker';
import { type ChatBody, call, reply, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const paperMd = (title: string, what: string) =>
  `# ${title}\n\n## Abstract\n\nWe show that ${what}.\n\n## 1 Method\n\nPrint a greeting.\n\n## 2 Experiments\n\nRun hello.py and report its output.\n`;

const leaf = (id: string, requirements: string, category: string) => ({
  id,
  requirements,
  weight: 1,
  task_category: category,
  finegrained_task_category: null,
  sub_tasks: [],
});
const rubric = (leaves: ReturnType<typeof leaf>[]) => ({
  id: 'root',
  requirements: 'The greeting experiment is reproduced.',
  weight: 1,
  task_category: null,
  finegrained_task_category: null,
  sub_tasks: leaves,
});

const title = (req: ChatBody) => /Reproduce the paper "([^"]+)"/.exec(req.messages[1]?.content ?? '')?.[1];
const budget = (req: ChatBody) => /You have (\S+) of active time/.exec(req.messages[1]?.content ?? '')?.[1];
const results = (req: ChatBody) =>
  new Map(req.messages.filter((m) => m.role === 'tool').map((m) => [m.tool_call_id!, m.content ?? '']));

const runBatch = (args: string[], onChild?: (c: ChildProcess) => void) =>
  runCli(['batch', ...args], { onChild });

async function until<T>(what: string, f: () => T | undefined, ms = 240_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('klong batch (CLI)', { skip }, () => {
  test('two papers × two stages, concurrency 2: rewards recorded; a killed batch resumes with the same command', {
    timeout: 12 * 60_000,
  }, async () => {
    const root = cleanup.temp('klong-batch-');
    writeFileSync(join(root, 'alpha.md'), paperMd('Alpha Paper', 'greeting works'));
    writeFileSync(join(root, 'beta.md'), paperMd('Beta Paper', 'greeting also works'));
    writeFileSync(
      join(root, 'alpha-rubric.json'),
      JSON.stringify(
        rubric([
          leaf('code', 'PASS: hello.py prints a greeting.', 'Code Development'),
          leaf('run', 'PASS: hello.py was run.', 'Code Execution'),
        ]),
      ),
    );
    writeFileSync(
      join(root, 'beta-rubric.json'),
      JSON.stringify(
        rubric([
          leaf('code', 'PASS: hello.py prints a greeting.', 'Code Development'),
          leaf('result', 'FAIL: the numbers match.', 'Result Analysis'),
        ]),
      ),
    );
    mkdirSync(join(root, 'beta-start'));
    writeFileSync(join(root, 'beta-start', 'data.txt'), 'seed data 1234\n');
    writeFileSync(
      join(root, 'papers.json'),
      JSON.stringify([
        { id: 'alpha', paper: 'alpha.md', rubric: 'alpha-rubric.json' },
        { id: 'beta', paper: 'beta.md', rubric: 'beta-rubric.json', workspace: 'beta-start' },
      ]),
    );

    // The agent: write hello.py, run it, end. Beta's stage-2 run hangs at its second step while
    // `gate` is on (the batch is killed there). The judge passes exactly the leaves marked PASS.
    let gate = true;
    let gateHit = false;
    const server = await cleanup.modelServer(
      (req: ChatBody) => {
        if (!req.tools?.length) {
          const prompt = req.messages.map((m) => m.content ?? '').join('\n');
          const pass = /PASS:/.test(prompt) && !/FAIL:/.test(prompt);
          return reply(`{"score": ${pass ? 1 : 0}, "explanation": "scripted judge"}`);
        }
        const paper = title(req) ?? '?';
        const done = results(req);
        if (!done.has('c_write'))
          return tools(
            call('write_file', { path: 'hello.py', content: `print("hello from ${paper}")\n` }, 'c_write'),
          );
        if (!done.has('c_run')) {
          if (gate && paper === 'Beta Paper' && budget(req) === '3m') {
            gateHit = true;
            return new Promise<never>(() => {}) as never; // never answered: the batch is killed meanwhile
          }
          return tools(call('bash', { command: 'ls; cat data.txt 2>/dev/null; python3 hello.py' }, 'c_run'));
        }
        return tools(call('end_task', { summary: `ran hello.py for ${paper}` }, 'c_end'));
      },
      { apiKey: 'sk-test' },
    );
    const out = join(root, 'out');
    const args = [
      join(root, 'papers.json'),
      '--stages',
      '2m,3m',
      '--concurrency',
      '2',
      '--out',
      out,
      '--base-url',
      server.url,
      '--model',
      'test-model',
      '--network',
      'none',
      '--image',
      TEST_IMAGE!,
      '--no-final-run',
      '--label',
      'klong.test=1',
    ];
    const state = () => {
      try {
        return JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')) as BatchState;
      } catch {
        return undefined;
      }
    };
    const run = (st: BatchState, paper: string, stage: number) =>
      st.runs.find((r) => r.paper === paper && r.stage === stage)!;

    // First invocation: killed once alpha's stage-2 run is done and beta's is inside its session.
    let child: ChildProcess | undefined;
    const first = runBatch(args, (c) => {
      child = c;
    });
    const mid = await until('stage 2 half done', () => {
      const st = state();
      return st && gateHit && run(st, 'alpha', 1).status === 'done' && run(st, 'beta', 1).status === 'running'
        ? st
        : undefined;
    });
    cleanup.removeLabel(`klong.batch=${mid.batchId}`);
    // Each run has its own container, labelled with the batch: the interrupted one is still there.
    assert.deepEqual(containersBy(`klong.batch=${mid.batchId}`, 'klong.session'), [
      run(mid, 'beta', 1).sessionId,
    ]);
    // A second driver of the same batch folder is refused while the first one runs.
    const twice = await runBatch(args);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, new RegExp(`being run by another process \\(pid ${child!.pid}\\)`));
    child!.kill('SIGKILL');
    const killed = await first;
    assert.equal(killed.signal, 'SIGKILL');
    assert.match(killed.stderr, /Stage 1\/2 \(2m per paper\): 2 run\(s\), 2 at a time/);
    const halfCsv = readFileSync(join(out, 'summary.csv'), 'utf8');
    assert.equal(halfCsv.trim().split('\n').length, 5);
    assert.match(halfCsv, /beta,2,3m,[^,]+,running,/);

    const requestsBefore = server.requests.length;
    const perSession = (from: number) => {
      const n = new Map<string, number>();
      for (const r of server.requests.slice(from))
        if (r.tools?.length) n.set(`${title(r)} ${budget(r)}`, (n.get(`${title(r)} ${budget(r)}`) ?? 0) + 1);
      return n;
    };

    // Second invocation: the same command finishes the batch.
    gate = false;
    const second = await runBatch(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /\[beta · stage 2 3m\] resuming session/);
    assert.doesNotMatch(
      second.stderr,
      /\[alpha · stage [12]|\[beta · stage 1/,
      'finished runs are not run again',
    );
    // Only the interrupted session talked to the model again, and it went on from its second step.
    const again = perSession(requestsBefore);
    assert.deepEqual([...again.keys()], ['Beta Paper 3m']);
    const resumedReq = server.requests.slice(requestsBefore).find((r) => r.tools?.length)!;
    assert.ok(results(resumedReq).has('c_write'), 'the resumed session kept its first step');

    const st = state()!;
    assert.deepEqual(
      st.runs.map((r) => [r.paper, r.stage + 1, r.status, r.reward]),
      [
        ['alpha', 1, 'done', 1],
        ['beta', 1, 'done', 0.5],
        ['alpha', 2, 'done', 1],
        ['beta', 2, 'done', 0.5],
      ],
    );
    assert.equal(run(st, 'beta', 1).attempts, 2);
    // Stage budgets reached the agent: every stage-1 request says 2m, every stage-2 one 3m.
    for (const r of server.requests.filter((q) => q.tools?.length))
      assert.match(budget(r) ?? '', /^(2m|3m)$/);
    // The starting workspace of beta was copied into its runs (the agent saw data.txt in the container).
    const betaEvents = readFileSync(
      join(out, 'sessions', run(st, 'beta', 0).sessionId, 'events.jsonl'),
      'utf8',
    );
    assert.match(betaEvents, /seed data 1234/);
    assert.ok(
      existsSync(join(out, 'workspaces', 'alpha', 'stage-2-3m', 'hello.py')),
      'accepted files land in the run workspace',
    );

    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'paper,stage,budget,session,status,reward,steps,active_min,cost_usd,end');
    assert.deepEqual(
      csv.slice(1).map((l) =>
        l
          .split(',')
          .slice(0, 6)
          .filter((_, i) => i !== 3),
      ),
      [
        ['alpha', '1', '2m', 'done', '1.0000'],
        ['beta', '1', '2m', 'done', '0.5000'],
        ['alpha', '2', '3m', 'done', '1.0000'],
        ['beta', '2', '3m', 'done', '0.5000'],
      ],
    );
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    assert.match(md, /\| 1 \| 2m \| 2\/2 \| 2 \| 0\.7500 \|/);
    assert.match(md, /\| 2 \| 3m \| 2\/2 \| 2 \| 0\.7500 \|/);
    assert.match(second.stdout, /stage 2 \(3m\): 2 graded run\(s\), mean reward 0\.750/);
    // Finished runs' containers are removed.
    assert.deepEqual(containersBy(`klong.batch=${st.batchId}`, 'klong.session'), []);

    // The same batch folder with other stages is refused with a clear message.
    const other = await runBatch([
      ...args.slice(0, 1),
      '--stages',
      '2m,5m',
      '--out',
      out,
      '--base-url',
      server.url,
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /holds a batch with other papers or stages/);
  });

  test('Ctrl-C (SIGINT) stops the running session resumably and exits 130; the same command finishes it', {
    timeout: 6 * 60_000,
  }, async () => {
    const root = cleanup.temp('klong-batch-int-');
    writeFileSync(join(root, 'gamma.md'), paperMd('Gamma Paper', 'greeting works once more'));
    writeFileSync(
      join(root, 'rubric.json'),
      JSON.stringify(rubric([leaf('code', 'PASS: hello.py prints a greeting.', 'Code Development')])),
    );
    writeFileSync(join(root, 'papers.json'), JSON.stringify([{ paper: 'gamma.md', rubric: 'rubric.json' }]));
    let hold = true;
    let held = false;
    const server = await cleanup.modelServer(
      (req: ChatBody) => {
        if (!req.tools?.length) return reply('{"score": 1, "explanation": "scripted judge"}');
        const done = results(req);
        if (!done.has('c_write'))
          return tools(call('write_file', { path: 'hello.py', content: 'print("hi")\n' }, 'c_write'));
        if (hold) {
          held = true;
          return new Promise<never>(() => {}) as never;
        }
        return tools(call('end_task', { summary: 'done' }, 'c_end'));
      },
      { apiKey: 'sk-test' },
    );
    const out = join(root, 'out');
    const args = [
      join(root, 'papers.json'),
      '--stages',
      '1m',
      '--out',
      out,
      '--base-url',
      server.url,
      '--network',
      'none',
      '--image',
      TEST_IMAGE!,
      '--no-final-run',
      '--label',
      'klong.test=1',
    ];
    let child: ChildProcess | undefined;
    const first = runBatch(args, (c) => {
      child = c;
    });
    await until('the agent to wait on the model', () => held);
    child!.kill('SIGINT');
    const r1 = await first;
    assert.equal(r1.code, 130, r1.stderr);
    assert.match(r1.stderr, /Interrupted: saving the running sessions/);
    assert.match(r1.stderr, /stopped: interrupted; the next run of the batch resumes it/);
    const st1 = JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')) as BatchState;
    cleanup.removeLabel(`klong.batch=${st1.batchId}`);
    assert.equal(st1.runs[0]!.status, 'stopped');
    hold = false;
    const r2 = await runBatch(args);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /\[gamma · stage 1 1m\] resuming session/);
    const st2 = JSON.parse(readFileSync(join(out, 'batch.json'), 'utf8')) as BatchState;
    assert.deepEqual(
      st2.runs.map((r) => [r.status, r.reward, r.attempts]),
      [['done', 1, 2]],
    );
    // One write_file in the whole session: the resume did not start over.
    const writes = server.requests.filter((q) => q.tools?.length && !results(q).has('c_write'));
    assert.equal(writes.length, 1);
  });
});
