/**
 * Background jobs: argument reading, result formatting, and the tools end to end on real processes
 * in a host folder (DirSandbox runs the same container script with bash; the docker path is in
 * test/integration/jobs-cli.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  cleanLines,
  describeState,
  type JobRecord,
  nextJobId,
  parseStatusLines,
} from '../../../src/agent/jobs';
import { defaultTools, runToolCall, type ToolContext } from '../../../src/agent/tools';
import { jobIds } from '../../../src/agent/tools/job-args';
import { formatJobOutput } from '../../../src/agent/tools/job-report';
import { MAX_OUTPUT_BYTES } from '../../../src/agent/tools/jobs';
import type { AgentEventBody } from '../../../src/events/events';
import { DirSandbox } from '../../support/dir-sandbox';

const temps: string[] = [];
const sandboxes: DirSandbox[] = [];
after(async () => {
  await Promise.all(sandboxes.map((s) => s.dispose()));
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

/** Tools on a host folder, with the session's job records folded from the events they return. */
async function jobsCtx() {
  const sandbox = await DirSandbox.create();
  sandboxes.push(sandbox);
  const jobsDir = mkdtempSync(join(tmpdir(), 'klong-jobs-'));
  temps.push(jobsDir);
  const jobs: Record<string, JobRecord> = {};
  const events: AgentEventBody[] = [];
  let interruption: string | undefined;
  const ctx: ToolContext = { sandbox, jobsDir, jobs, interrupted: () => interruption };
  let n = 0;
  const run = async (name: string, args: unknown) => {
    const r = await runToolCall(
      { id: `t${++n}`, name, arguments: typeof args === 'string' ? args : JSON.stringify(args) },
      defaultTools(),
      ctx,
    );
    for (const e of r.events ?? []) {
      events.push(e);
      if (e.type === 'job_started')
        jobs[e.jobId] = { id: e.jobId, name: e.name, command: e.command, step: 1, startedAt: Date.now() };
      if (e.type === 'job_ended') {
        const j = jobs[e.jobId];
        if (j) j.ended = { state: e.state, exitCode: e.exitCode, at: Date.now() };
      }
    }
    return r;
  };
  const pidOf = (id: string) => Number(readFileSync(join(jobsDir, id, 'pid'), 'utf8'));
  const interrupt = (why: string | undefined) => {
    interruption = why;
  };
  return { run, events, jobs, pidOf, jobsDir, interrupt };
}

/** A live process (a zombie waiting for its parent to reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('job arguments', () => {
  test('job ids are read from a list, a comma list, a number or JSON text; anything else is refused with the shape', async () => {
    assert.deepEqual(jobIds(['j1', 2]), ['j1', 'j2']);
    assert.deepEqual(jobIds('j1, j3'), ['j1', 'j3']);
    assert.deepEqual(jobIds(4), ['j4']);
    assert.deepEqual(jobIds('["j5"]'), ['j5']);
    const { run } = await jobsCtx();
    const bad = await run('job_wait', { ids: { job: 1 } });
    assert.equal(bad.ok, false);
    assert.match(bad.output, /argument "ids" must be an array/);
    assert.match(bad.output, /Expected arguments/);
    const noIds = await run('job_stop', {});
    assert.equal(noIds.ok, false);
    assert.match(noIds.output, /give the jobs to stop as ids/);
    const range = await run('job_output', { id: 'j1', start_line: 5, end_line: 2 });
    assert.match(range.output, /end_line \(2\) is before start_line \(5\)/);
    const unknown = await run('job_output', { id: 'j9' });
    assert.equal(unknown.ok, false);
    assert.match(unknown.output, /No job "j9"/);
  });

  test('ids continue after the highest one the session has used', () => {
    assert.equal(nextJobId(undefined), 'j1');
    const rec = (id: string): JobRecord => ({ id, name: id, command: 'x', step: 1, startedAt: 0 });
    assert.equal(nextJobId({ j1: rec('j1'), j7: rec('j7'), other: rec('other') }), 'j8');
  });
});

describe('job results', () => {
  test('progress bars collapse to their last state, colours go, and long lines are cut', () => {
    const tqdm = 'epoch 1:  10%|█         |\repoch 1:  50%|█████     |\repoch 1: 100%|██████████|\n';
    assert.deepEqual(cleanLines(`${tqdm}\x1b[32mok\x1b[0m\n${'x'.repeat(50)}\n`, 20), [
      'epoch 1: 100%|██████… [5 more characters]',
      'ok',
      `${'x'.repeat(20)}… [30 more characters]`,
    ]);
  });

  test('status lines: state, exit code, times, size and the base64 tail; junk lines are skipped', () => {
    const tail = Buffer.from('loss 0.1\n').toString('base64');
    const s = parseStatusLines(
      `now 5000\nj1\texited\t0\t1000\t4000\t12\t${tail}\ngarbage\nj2\trunning\t-\t2000\t-\t0\t\n`,
    );
    assert.equal(s.length, 2);
    assert.deepEqual(
      { ...s[0] },
      {
        id: 'j1',
        state: 'exited',
        exitCode: 0,
        start: 1000,
        end: 4000,
        now: 5000,
        size: 12,
        tail: 'loss 0.1\n',
      },
    );
    assert.equal(describeState(s[0]!), 'exited with code 0 after 3s');
    assert.equal(describeState(s[1]!), 'running for 3s');
  });

  test('job_output says where in the log the text is and what the cap cut', () => {
    const jobs = { j1: { id: 'j1', name: 'train', command: 'x', step: 1, startedAt: 0 } };
    const out = { size: 1000, lines: 500, state: 'running', exitCode: null, text: 'a\nb\n', cut: false };
    assert.match(
      formatJobOutput('j1', out, { tail: 2, maxBytes: 100 }, { jobs }),
      /^Job j1 \(train\), running; log: 1000 B, 500 lines\.\nLines 499–500:\na\nb$/,
    );
    const cut = formatJobOutput(
      'j1',
      { ...out, cut: true },
      { start: 10, end: 400, tail: 100, maxBytes: 100 },
      { jobs },
    );
    assert.match(cut, /Lines 10–11 \(cut at 100 B; ask for the next lines with start_line\)/);
    assert.match(
      formatJobOutput('j1', out, { start: 900, tail: 100, maxBytes: 100 }, { jobs }),
      /past the end/,
    );
    assert.match(
      formatJobOutput('j1', { ...out, lines: 0, text: '' }, { tail: 5, maxBytes: 100 }, { jobs }),
      /no output yet/,
    );
  });
});

describe('jobs on real processes', () => {
  test('start returns at once; wait returns when the job ends; output pages the log; the results are capped', async () => {
    const { run, events } = await jobsCtx();
    const t0 = Date.now();
    const started = await run('job_start', {
      command:
        'for i in $(seq 1 5000); do echo "step $i loss 0.$i ........................"; done; sleep 2; echo finished; exit 3',
      name: 'train',
    });
    assert.equal(started.ok, true, started.output);
    assert.match(started.output, /Started job j1 \(train\)/);
    assert.ok(Date.now() - t0 < 1500, 'job_start does not wait for the job');
    assert.deepEqual(
      events.map((e) => e.type),
      ['job_started'],
    );
    const status = await run('job_status', {});
    assert.match(status.output, /1 running, 0 ended\.\nj1 \(train\): running for/);
    const waited = await run('job_wait', { ids: 'j1', timeout_seconds: '60' });
    assert.equal(waited.ok, true);
    assert.match(waited.output, /j1 \(train\): exited with code 3/);
    assert.match(waited.output, /finished/);
    const ended = events.find((e) => e.type === 'job_ended');
    assert.deepEqual(ended && { state: ended.state, exitCode: ended.exitCode }, {
      state: 'exited',
      exitCode: 3,
    });
    assert.match(ended?.tail ?? '', /finished$/);
    // Paging: a range, and a range the byte cap cuts.
    const page = await run('job_output', { id: 1, start_line: 100, end_line: 102 });
    assert.match(
      page.output,
      /exited with code 3; log: .*, 5001 lines\.\nLines 100–102:\nstep 100 loss 0\.100 \.+\nstep 101 loss 0\.101 \.+\nstep 102 loss 0\.102 \.+$/,
    );
    const big = await run('job_output', { id: 'j1', start_line: 1, end_line: 5001, max_bytes: 1_000_000 });
    assert.ok(Buffer.byteLength(big.output) < MAX_OUTPUT_BYTES + 500, 'capped at 64 KB');
    assert.ok(/cut at 64\.0 KB/.test(big.output), big.output.slice(0, 300));
    const tail = await run('job_output', { id: 'j1', tail_lines: 2 });
    assert.match(tail.output, /Lines 5000–5001:\nstep 5000 loss 0\.5000 \.+\nfinished$/);
    // Waiting for nothing returns at once; a second wait does not log the end again.
    const again = await run('job_wait', {});
    assert.match(again.output, /No job is running/);
    assert.equal(events.filter((e) => e.type === 'job_ended').length, 1);
  });

  test('job_stop kills the whole process group, children included', async () => {
    const { run, events, pidOf, jobsDir } = await jobsCtx();
    await run('job_start', { command: 'sleep 300 & echo child $!; sleep 300', name: 'sleeper' });
    let child = 0;
    for (let i = 0; i < 100 && !child; i++) {
      const m = /child (\d+)/.exec(readFileSync(join(jobsDir, 'j1', 'log'), 'utf8'));
      if (m) child = Number(m[1]);
      else await new Promise((r) => setTimeout(r, 50));
    }
    const leader = pidOf('j1');
    assert.ok(alive(leader) && alive(child));
    const stopped = await run('job_stop', { ids: ['j1'] });
    assert.equal(stopped.ok, true, stopped.output);
    assert.match(stopped.output, /j1 \(sleeper\): stopped \(code 143\)/);
    assert.ok(!alive(child), 'the background child of the job is gone');
    const e = events.find((x) => x.type === 'job_ended');
    assert.equal(e?.type === 'job_ended' && e.state, 'stopped');
    const status = await run('job_status', {});
    assert.match(status.output, /0 running, 1 ended/);
  });

  test('job_wait returns at its time limit with the job still running, and any-of returns on the first end', async () => {
    const { run } = await jobsCtx();
    await run('job_start', { command: 'sleep 30', name: 'slow' });
    await run('job_start', { command: 'sleep 1; echo quick done', name: 'quick' });
    const limited = await run('job_wait', { ids: ['j1'], timeout_seconds: 1 });
    assert.match(limited.output, /the time limit\); still running: j1/);
    const any = await run('job_wait', { timeout_seconds: 60 });
    assert.match(any.output, /j2 \(quick\): exited with code 0/);
    assert.match(any.output, /j1 \(slow\): running/);
    await run('job_stop', { all: true });
  });

  test('a message from the user (or a pause) ends a wait early, with the jobs as they are', async () => {
    const { run, interrupt } = await jobsCtx();
    await run('job_start', { command: 'sleep 30', name: 'slow' });
    setTimeout(() => interrupt('a message from the user arrived'), 1200);
    const waited = await run('job_wait', { timeout_seconds: 600 });
    assert.match(
      waited.output,
      /^Stopped waiting after \d+ s: a message from the user arrived\.\nj1 \(slow\): running/,
    );
    interrupt(undefined);
    await run('job_stop', { all: true });
  });
});
