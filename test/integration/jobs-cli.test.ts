/**
 * Background jobs on the real engine: `klong reproduce` (dist/cli.js) with a docker sandbox and the
 * scripted model server. A job runs while job_wait holds the step (no model request), its output is
 * paged, job_stop kills it; a job survives a kill -9 of the CLI and the resume tells the agent; a
 * job lost with its container is reported as lost; stopping the session stops its jobs.
 *
 * KLONG_JOB_TEST_SECONDS sets how long the waited-on job runs (default 8; the 60 works too).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type CliRun,
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
  until,
} from '../support/cli-run';
import { containerIds } from '../support/docker';
import { type ChatBody, call, textOf, tools } from '../support/model-server';

const JOB_SECONDS = Number(process.env.KLONG_JOB_TEST_SECONDS) || 8;
const skip = cliDockerSkip();
const cleanup = cliCleanup();

/** The text of the last tool result in a request (what the agent just saw). */
function lastToolResult(req: ChatBody): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'tool') return textOf(m.content);
  }
  return '';
}

const allText = (req: ChatBody) => req.messages.map((m) => textOf(m.content)).join('\n');

/** Command lines of the live processes in the session's container. */
function containerProcesses(sessionId: string): string[] {
  const [id] = containerIds(`klong.session=${sessionId}`);
  if (!id) return [];
  const r = spawnSync(
    'docker',
    [
      'exec',
      id,
      'sh',
      '-c',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell parameter expansion
      'for f in /proc/[0-9]*; do s=$(cat $f/stat 2>/dev/null) || continue; case "${s##*) }" in Z*) continue;; esac; tr "\\0" " " < $f/cmdline 2>/dev/null; echo; done',
    ],
    { encoding: 'utf8' },
  );
  return r.stdout.split('\n').filter(Boolean);
}

/** The session's events so far ([] before the log exists; a line being written is skipped). */
function typesOf(stateDir: string, id: string): ReturnType<typeof sessionEvents> {
  try {
    return sessionEvents(stateDir, id);
  } catch {
    const f = join(stateDir, id, 'events.jsonl');
    if (!existsSync(f)) return [];
    return readFileSync(f, 'utf8')
      .split('\n')
      .slice(1)
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as ReturnType<typeof sessionEvents>[number]];
        } catch {
          return [];
        }
      });
  }
}

describe('background jobs in the real CLI', { skip }, () => {
  test('a job runs while job_wait holds the step without model requests; its output is paged; job_stop kills it', async () => {
    const seen: string[] = [];
    let requestsWhenWaitAnswered = -1;
    const s = cleanup.session('jobs');
    let procsAfterStop: string[] = [];
    let procsBeforeStop: string[] = [];
    const script = [
      tools(
        call('job_start', {
          command: `for i in $(seq 1 ${JOB_SECONDS}); do echo "epoch $i loss 0.$i"; sleep 1; done; echo training finished`,
          name: 'train',
        }),
      ),
      tools(call('job_start', { command: 'sleep 6001', name: 'sleeper' })),
      tools(call('job_wait', { ids: ['j1'], timeout_seconds: 600 })),
      (req: ChatBody, i: number) => {
        requestsWhenWaitAnswered = i;
        seen.push(lastToolResult(req));
        return tools(call('job_output', { id: 'j1', start_line: 2, end_line: 3 }));
      },
      (req: ChatBody) => {
        seen.push(lastToolResult(req));
        // The agent waits for this answer: look into its container meanwhile.
        procsBeforeStop = containerProcesses(s.sessionId);
        return tools(call('job_stop', { ids: 'j2' }));
      },
      (req: ChatBody) => {
        seen.push(lastToolResult(req));
        procsAfterStop = containerProcesses(s.sessionId);
        return tools(call('end_task', { summary: 'jobs done' }));
      },
    ];
    const server = await cleanup.modelServer(script, { apiKey: 'sk-test' });
    const r = await runCli([...reproduceArgs(s, server.url), '--no-final-run'], {
      killAfterMs: 240_000 + JOB_SECONDS * 1000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.requests.length, script.length, 'one model request per scripted step, none extra');
    // job_wait answered only once the job had ended: the next request saw its exit.
    assert.equal(requestsWhenWaitAnswered, 3);
    assert.match(seen[0]!, /j1 \(train\): exited with code 0/);
    assert.match(seen[0]!, /training finished/);
    assert.match(seen[1]!, /Lines 2–3:\nepoch 2 loss 0\.2\nepoch 3 loss 0\.3$/);
    assert.match(seen[2]!, /j2 \(sleeper\): stopped \(code 143\)/);

    const ev = typesOf(s.stateDir, s.sessionId);
    // No model request between job_wait's call and its result.
    const waitCall = ev.findIndex((e) => e.type === 'tool_call' && e.name === 'job_wait');
    const waitResult = ev.findIndex((e) => e.type === 'tool_result' && e.name === 'job_wait');
    assert.ok(waitCall > 0 && waitResult > waitCall);
    assert.equal(ev.slice(waitCall, waitResult).filter((e) => e.type === 'model_request').length, 0);
    const started = ev.filter((e) => e.type === 'job_started').map((e) => [e.jobId, e.name]);
    assert.deepEqual(started, [
      ['j1', 'train'],
      ['j2', 'sleeper'],
    ]);
    const ended = ev.filter((e) => e.type === 'job_ended').map((e) => [e.jobId, e.state, e.exitCode]);
    assert.deepEqual(ended, [
      ['j1', 'exited', 0],
      ['j2', 'stopped', 143],
    ]);
    assert.ok(
      procsBeforeStop.some((p) => p.includes('sleep 6001')),
      `the job ran: ${procsBeforeStop.join(' | ')}`,
    );
    assert.ok(procsAfterStop.length > 0, 'looked into the container after job_stop');
    assert.ok(
      !procsAfterStop.some((p) => p.includes('sleep 6001')),
      `job_stop killed it: ${procsAfterStop.join(' | ')}`,
    );
    // The CLI's progress shows the jobs.
    assert.match(r.stderr, /job j1 \(train\) started/);
    assert.match(r.stderr, /job j1 \(train\) exited with code 0/);
  });

  test('a job survives a kill -9 of the CLI and the resume reports it running; a stop stops it; one lost with its container is reported lost', async () => {
    let phase: 'start' | 'resumed' | 'again' | 'lost' = 'start';
    const heard: string[] = [];
    const server = await cleanup.modelServer(
      (req, i) => {
        if (phase === 'start')
          return i === 0
            ? tools(call('job_start', { command: 'sleep 6002', name: 'long-train' }))
            : tools(call('bash', { command: 'sleep 777' }));
        if (phase === 'resumed') {
          heard.push(allText(req));
          return tools(call('job_wait', { timeout_seconds: 600 }));
        }
        if (phase === 'again')
          return /Started job/.test(lastToolResult(req))
            ? tools(call('bash', { command: 'sleep 778' }))
            : tools(call('job_start', { command: 'sleep 6003', name: 'doomed' }));
        heard.push(allText(req));
        return tools(call('end_task', { summary: 'after the lost job' }));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('jobs-resume');
    const running = (pattern: string) => containerProcesses(s.sessionId).some((p) => p.includes(pattern));
    /** A CLI run; `alive()` throws with its output once it has exited (a wait for it would hang). */
    const start = (args: string[]) => {
      let child: ChildProcess | undefined;
      let result: CliRun | undefined;
      const done = runCli(args, {
        killAfterMs: 300_000,
        onChild: (c) => {
          child = c;
        },
      }).then((r) => {
        result = r;
        return r;
      });
      const alive = () => {
        if (result) throw new Error(`the CLI exited (${result.code}): ${result.stderr}`);
        return true;
      };
      return { child: () => child!, done, alive };
    };
    const resume = [...resumeArgs(s, server.url), '--no-final-run'];

    // 1. Start a job; kill -9 the CLI while the agent's next command runs.
    const first = start([...reproduceArgs(s, server.url), '--no-final-run']);
    // (A step's events reach the disk when it ends: the running command is seen in the container.)
    await until(
      'the job to start and the next command to run',
      () =>
        first.alive() &&
        typesOf(s.stateDir, s.sessionId).some((e) => e.type === 'job_started') &&
        running('sleep 777'),
    );
    first.child().kill('SIGKILL');
    await first.done;
    assert.ok(running('sleep 6002'), 'the job outlived the CLI');

    // 2. Resume: the agent is told the job still runs. Then `klong stop` while it waits: the job is stopped.
    phase = 'resumed';
    const second = start(resume);
    await until('the resumed agent to ask the model', () => second.alive() && heard.length > 0);
    assert.match(
      heard[0]!,
      /The session was resumed\. Background jobs started before:\n- j1 \(long-train\) is still running/,
    );
    const stopped = await runCli(['stop', s.sessionId, '--state-dir', s.stateDir]);
    assert.equal(stopped.code, 0, stopped.stderr);
    const r2 = await second.done;
    assert.notEqual(r2.signal, 'SIGKILL', r2.stderr);
    assert.ok(!running('sleep 6002'), 'stopping the session stopped its job');
    const ended = typesOf(s.stateDir, s.sessionId).filter((e) => e.type === 'job_ended');
    assert.deepEqual(
      ended.map((e) => [e.jobId, e.state]),
      [['j1', 'stopped']],
    );

    // 3. A new job, the CLI killed, the container removed: the resume reports the job lost.
    phase = 'again';
    const third = start(resume);
    await until(
      'the second job to start',
      () =>
        third.alive() &&
        typesOf(s.stateDir, s.sessionId).some((e) => e.type === 'job_started' && e.jobId === 'j2'),
    );
    await until('the next command', () => third.alive() && running('sleep 778'));
    third.child().kill('SIGKILL');
    await third.done;
    assert.ok(running('sleep 6003'));
    spawnSync('docker', ['rm', '-f', ...containerIds(`klong.session=${s.sessionId}`)]);
    phase = 'lost';
    const last = await runCli(resume, { killAfterMs: 300_000 });
    assert.equal(last.code, 0, last.stderr);
    assert.match(heard[1]!, /- j2 \(doomed\) was lost: the container was recreated/);
    const lost = typesOf(s.stateDir, s.sessionId).filter((e) => e.type === 'job_ended' && e.jobId === 'j2');
    assert.deepEqual(
      lost.map((e) => e.state),
      ['lost'],
    );
    assert.match(last.stderr, /job j2 \(doomed\) lost/);
  });
});
