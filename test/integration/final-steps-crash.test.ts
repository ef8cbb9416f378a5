/**
 * Ctrl-C and kill -9 of the real CLI (`node dist/cli.js reproduce`, docker, scripted model and
 * judge) during the end of a session, then `--resume`: while reproduce.sh runs in its fresh
 * container (its result is not recorded yet, so each resume runs it again, exactly once), then
 * while the judge is grading (the final run's result is recorded: it is not run again; judge calls
 * already answered are not sent again). The log ends with one end_task, one final_run, one grade, one end; no
 * final-run container of the session is left.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
} from '../support/cli-run';
import { containerIds } from '../support/docker';
import { type ChatBody, call, reply, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const MARKER = 'REPRO-MARKER started';
// The run id makes every run's log different: reusing the recorded log is what lets the judge
// answers about it hit the cache.
const REPRODUCE_SH = `echo "${MARKER}"
for i in 1 2 3 4 5 6; do echo "tick $i"; sleep 1; done
echo "mean=0.497 run $(cat /proc/sys/kernel/random/uuid)"
`;

const leaf = (id: string, requirements: string, category: string) => ({
  id,
  requirements,
  weight: 1,
  task_category: category,
  finegrained_task_category: null,
  sub_tasks: [],
});
// FAST leaves are answered at once; SLOW ones not while the gate is on (the CLI is killed meanwhile).
const RUBRIC = {
  id: 'root',
  requirements: 'The greeting experiment is reproduced.',
  weight: 1,
  task_category: null,
  finegrained_task_category: null,
  sub_tasks: [
    leaf('fast-dev', 'FAST: reproduce.sh prints a mean.', 'Code Development'),
    leaf('fast-exec', 'FAST: reproduce.sh runs to the end and the log shows the mean.', 'Code Execution'),
    leaf('slow-exec', 'SLOW: the log shows six ticks.', 'Code Execution'),
    leaf('slow-res', 'SLOW: the mean is 0.497.', 'Result Analysis'),
  ],
};

const requirementOf = (req: ChatBody) =>
  /# Requirement to grade\n\n([^\n]+)/.exec(req.messages[1]?.content ?? '')?.[1] ?? '?';

async function until<T>(what: string, f: () => T | undefined, child: ChildProcess, err: () => string) {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    assert.equal(child.exitCode, null, `the CLI exited while waiting for ${what}: ${err()}`);
    assert.ok(Date.now() - t0 < 240_000, `timed out waiting for ${what}: ${err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts the CLI; returns the child, its stderr so far, and its end. */
function start(args: string[]) {
  let child!: ChildProcess;
  const done = runCli(args, {
    onChild: (c) => {
      child = c;
    },
    killAfterMs: 300_000,
  });
  let stderr = '';
  child.stderr!.on('data', (b) => {
    stderr += b;
  });
  return { child, stderr: () => stderr, done };
}

describe('Ctrl-C and kill -9 during the final run and during grading', { skip }, () => {
  test('resume runs reproduce.sh again only when its result was not recorded; judge answers are not asked again', {
    timeout: 15 * 60_000,
  }, async () => {
    let gate = true;
    const judged = new Map<string, number>();
    let endTaskCalls = 0;
    const server = await cleanup.modelServer(
      (req: ChatBody) => {
        if (!req.tools?.length) {
          const r = requirementOf(req);
          judged.set(r, (judged.get(r) ?? 0) + 1);
          if (gate && r.startsWith('SLOW')) return new Promise<never>(() => {}) as never;
          return reply(`{"score": 1, "explanation": "scripted judge: ${r.slice(0, 20)}"}`);
        }
        const done = new Set(req.messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id));
        if (!done.has('c_sh'))
          return tools(call('write_file', { path: 'reproduce.sh', content: REPRODUCE_SH }, 'c_sh'));
        endTaskCalls++;
        return tools(call('end_task', { summary: 'mean reproduced' }, 'c_end'));
      },
      { apiKey: 'sk-test' },
    );
    const session = cleanup.session('final');
    const { stateDir, sessionId } = session;
    const dir = join(stateDir, sessionId);
    const fresh = `klong.fresh-of=${sessionId}`;
    cleanup.removeLabel(fresh);
    const rubric = join(cleanup.temp('klong-final-rubric-'), 'rubric.json');
    writeFileSync(rubric, JSON.stringify(RUBRIC));
    const events = () => (existsSync(join(dir, 'events.jsonl')) ? sessionEvents(stateDir, sessionId) : []);
    const count = (type: string) => events().filter((e) => e.type === type).length;
    const resume = resumeArgs(session, server.url);

    // 0. Ctrl-C while reproduce.sh runs: the run is cut short and its container removed; the session
    // stops resumable (no result recorded, no end).
    const zeroth = start(reproduceArgs(session, server.url, { rubric }));
    await until(
      'the final run',
      () => zeroth.stderr().includes(`reproduce.sh: ${MARKER}`),
      zeroth.child,
      zeroth.stderr,
    );
    zeroth.child.kill('SIGINT');
    const z = await zeroth.done;
    assert.equal(z.code, 130, z.stderr);
    assert.match(z.stderr, /saved\. Resume with/);
    assert.deepEqual(containerIds(fresh), [], 'an interrupted final run removes its container');
    assert.equal(count('final_run_started'), 1);
    assert.equal(count('final_run'), 0);
    assert.equal(count('end'), 0);

    // 1. Resumed, and killed while reproduce.sh runs again: its container is left behind, its result
    // is not in the log.
    const first = start(resume);
    await until(
      'the final run',
      () => first.stderr().includes(`reproduce.sh: ${MARKER}`),
      first.child,
      first.stderr,
    );
    assert.match(first.stderr(), /last run of reproduce\.sh was interrupted; running it again/);
    first.child.kill('SIGKILL');
    await first.done;
    assert.equal(count('final_run_started'), 2);
    assert.equal(count('final_run'), 0);
    const leftover = containerIds(fresh);
    assert.ok(
      leftover.length >= 1,
      'the killed run left its final-run container (labelled with the session)',
    );

    // 2. Resumed: the leftover is removed, reproduce.sh runs again exactly once (its earlier run had
    // not ended), grading starts; killed once the FAST verdicts are recorded and the SLOW ones hang.
    const second = start(resume);
    await until(
      'the FAST verdicts',
      () => events().filter((e) => e.type === 'grade_leaf').length === 2,
      second.child,
      second.stderr,
    );
    assert.match(second.stderr(), /Removed \d+ final-run container\(s\) left by an interrupted run/);
    assert.match(second.stderr(), /last run of reproduce\.sh was interrupted; running it again/);
    assert.equal(
      second.stderr().split(`reproduce.sh: ${MARKER}`).length - 1,
      1,
      'reproduce.sh ran once on resume',
    );
    assert.deepEqual(
      containerIds(fresh).filter((id) => leftover.includes(id)),
      [],
      'the leftover container is gone',
    );
    assert.deepEqual(containerIds(fresh), [], 'the finished final run removed its container');
    await until(
      'the SLOW judge requests',
      () => (judged.get(RUBRIC.sub_tasks[3]!.requirements) ?? 0) >= 1,
      second.child,
      second.stderr,
    );
    second.child.kill('SIGKILL');
    await second.done;
    assert.equal(count('final_run_started'), 3);
    assert.equal(count('final_run'), 1);
    const recordedLog = readFileSync(join(dir, 'final-run.log'), 'utf8');
    assert.match(recordedLog, /tick 6\nmean=0\.497 run /);

    // 3. Resumed with the judge answering: reproduce.sh is not run again, FAST leaves are not asked again.
    gate = false;
    const third = start(resume);
    const r = await third.done;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, new RegExp(MARKER), 'reproduce.sh did not run on the second resume');
    assert.match(r.stderr, /reproduce\.sh already ran before the interruption; using its result/);
    assert.match(r.stderr, /Grade: 100\.0% of the rubric/);
    assert.equal(count('final_run_started'), 3);
    assert.equal(count('final_run'), 1);
    assert.deepEqual(Object.fromEntries(judged), {
      [RUBRIC.sub_tasks[0]!.requirements]: 1,
      [RUBRIC.sub_tasks[1]!.requirements]: 1,
      [RUBRIC.sub_tasks[2]!.requirements]: 2,
      [RUBRIC.sub_tasks[3]!.requirements]: 2,
    });

    const ev = events();
    assert.equal(endTaskCalls, 1, 'the model was not asked to end again');
    assert.equal(ev.filter((e) => e.type === 'tool_call' && e.name === 'end_task').length, 1);
    assert.equal(ev.filter((e) => e.type === 'grade').length, 1);
    assert.equal(ev.filter((e) => e.type === 'end').length, 1);
    assert.equal(ev.filter((e) => e.type === 'tool_result' && e.name === 'final_reproduction').length, 1);
    assert.deepEqual(
      ev
        .filter((e) => e.type === 'grade_leaf')
        .map((e) => e.leafId)
        .sort(),
      ['fast-dev', 'fast-exec', 'slow-exec', 'slow-res'],
      'each verdict recorded once',
    );
    assert.equal(
      readFileSync(join(dir, 'final-run.log'), 'utf8'),
      recordedLog,
      'the recorded log was reused',
    );
    assert.match(readFileSync(join(dir, 'REPRODUCTION.md'), 'utf8'), /exit code 0/);
    assert.deepEqual(containerIds(fresh), [], 'no final-run container of the session remains');
  });
});
