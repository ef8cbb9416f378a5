/**
 * The early-end check on the real CLI (`node dist/cli.js reproduce`, docker, scripted agent and
 * judge over HTTP): an end_task with most of the budget left is graded against the rubric and,
 * while requirements are unmet, refused with them as its answer; the agent goes on. Also: a
 * submission that meets everything ends at once, the limit of refusals holds, --min-budget-use 0
 * ends at once, and a kill -9 during a check resumes without losing count or judge answers.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  type CliSession,
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
} from '../support/cli-run';
import { type ChatBody, call, reply, type StepResult, textOf, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

// Each requirement is met when its file is in the submission; weights 1-4 so the order is checkable.
const FILES = ['model.py', 'data.py', 'train.py', 'evaluate.py'] as const;
const RUBRIC = {
  id: 'root',
  requirements: 'The method is implemented.',
  weight: 1,
  task_category: null,
  finegrained_task_category: null,
  sub_tasks: FILES.map((f, i) => ({
    id: `r-${f}`,
    requirements: `REQ ${f}: the submission has ${f} with its part of the method.`,
    weight: i + 1,
    task_category: 'Code Development',
    finegrained_task_category: null,
    sub_tasks: [],
  })),
};

const requirementOf = (req: ChatBody) =>
  /# Requirement to grade\n\n([^\n]+)/.exec(textOf(req.messages[1]?.content))?.[1] ?? '?';
const isJudge = (req: ChatBody) => !req.tools?.length;
/** The scripted judge: a requirement passes when its file is among the submission files shown. */
function judgeAnswer(req: ChatBody): StepResult {
  const r = requirementOf(req);
  const file = /^REQ (\S+):/.exec(r)?.[1] ?? '?';
  const shown = textOf(req.messages[1]?.content).includes(`\n## ${file}\n`);
  return reply(
    JSON.stringify({
      score: shown ? 1 : 0,
      explanation: shown ? `${file} is there.` : `${file} is missing from the submission.`,
    }),
  );
}
const writeCall = (f: string) =>
  call('write_file', { path: f, content: `# ${f}\nprint("${f}")\n` }, `w-${f}`);
const endCall = (n: number) => call('end_task', { summary: `done (${n})` }, `end-${n}`);
const toolTexts = (req: ChatBody) =>
  req.messages.filter((m) => m.role === 'tool').map((m) => textOf(m.content));
const REFUSED = /end_task was not accepted \(early-end check (\d+) of (\d+)\)/;

function rubricFile(): string {
  const f = join(cleanup.temp('klong-early-rubric-'), 'rubric.json');
  writeFileSync(f, JSON.stringify(RUBRIC));
  return f;
}

function args(s: CliSession, url: string, extra: string[] = [], minBudgetUse = '0.5'): string[] {
  return [...reproduceArgs(s, url, { rubric: rubricFile(), minBudgetUse }), '--no-final-run', ...extra];
}

describe('the early-end check (klong reproduce)', { skip }, () => {
  test('an end_task after half the code is refused with the unmet requirements; the agent goes on and ends once all are met', {
    timeout: 5 * 60_000,
  }, async () => {
    const agentRequests: ChatBody[] = [];
    const server = await cleanup.modelServer((req: ChatBody) => {
      if (isJudge(req)) return judgeAnswer(req);
      agentRequests.push(req);
      const done = toolTexts(req);
      if (!done.length) return tools(writeCall('model.py'), writeCall('data.py'), endCall(1));
      if (done.some((t) => REFUSED.test(t)) && !done.some((t) => t.includes('Session ended')))
        return done.length < 6
          ? tools(writeCall('train.py'), writeCall('evaluate.py'), endCall(2))
          : tools(endCall(3));
      return tools(endCall(9));
    });
    const s = cleanup.session('early-half');
    const r = await runCli(args(s, server.url));
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(s.stateDir, s.sessionId);
    const checks = events.filter((e) => e.type === 'early_end_check');
    assert.equal(checks.length, 2, 'one refused check, one that accepts');
    const [first, second] = checks as unknown as {
      refused: boolean;
      score: number;
      unmet: number;
      judged: number;
      tops: { score: number }[];
      message?: string;
    }[];
    assert.equal(first!.refused, true);
    assert.equal(first!.score, 0.3, 'model.py (1) and data.py (2) of 10');
    assert.equal(first!.unmet, 2);
    assert.equal(first!.tops.length, 4);
    assert.equal(second!.refused, false);
    assert.equal(second!.score, 1);
    // Two new files change what the judge is shown for every leaf of this small submission.
    assert.equal(second!.judged, 4);

    // The request after the refused end_task carries the unmet requirements, highest weight first.
    const after = agentRequests[1]!;
    const answer = toolTexts(after).at(-1)!;
    assert.match(answer, REFUSED);
    assert.match(answer, /scores 30% against the grading rubric \(target 100%\)/);
    const evalAt = answer.indexOf('REQ evaluate.py');
    const trainAt = answer.indexOf('REQ train.py');
    assert.ok(
      evalAt > 0 && trainAt > evalAt,
      `evaluate.py (weight 4) comes before train.py (weight 3):\n${answer}`,
    );
    assert.match(
      answer,
      /\[40%\] REQ evaluate\.py.*Code Development, weight 4\)\. Judge: evaluate\.py is missing/,
    );
    assert.doesNotMatch(answer, /REQ model\.py/, 'met requirements are not listed');
    assert.equal(agentRequests.length, 2, 'the session ended at the second end_task');

    const end = events.find((e) => e.type === 'end');
    assert.equal(end?.reason, 'end_task');
    assert.equal((events.find((e) => e.type === 'grade') as { score?: number } | undefined)?.score, 1);
    // The final grade found every verdict in the judge cache: the judge was asked 4 + 4 times in all.
    assert.equal(server.requests.filter(isJudge).length, 8);
    assert.match(
      r.stderr,
      /Early-end check 1 of 3: score 30\.0% \(target 100\.0%\), 2 requirement\(s\) unmet; the agent goes on\./,
    );
    const run = JSON.parse(readFileSync(join(s.stateDir, s.sessionId, 'run.json'), 'utf8'));
    assert.deepEqual(run.earlyEnd, { minBudgetUse: 0.5, target: 1, checks: 3 });
  });

  test('a submission that meets every requirement ends at the first end_task', {
    timeout: 5 * 60_000,
  }, async () => {
    // One more requirement, of Code Execution: met when the output of the agent's own run of
    // reproduce.sh (the check does not run it) shows the marker.
    const run = {
      ...RUBRIC.sub_tasks[0]!,
      id: 'r-run',
      requirements: 'RUN: reproduce.sh runs and prints RUN-OK.',
      task_category: 'Code Execution',
    };
    const rubric = join(cleanup.temp('klong-early-rubric-'), 'rubric.json');
    writeFileSync(rubric, JSON.stringify({ ...RUBRIC, sub_tasks: [...RUBRIC.sub_tasks, run] }));
    const server = await cleanup.modelServer((req: ChatBody) => {
      if (isJudge(req)) {
        if (!requirementOf(req).startsWith('RUN:')) return judgeAnswer(req);
        const log = /# reproduce\.log[^\n]*\n\n```\n([\s\S]*?)```/.exec(
          textOf(req.messages[1]?.content),
        )?.[1];
        const ok = !!log?.includes('RUN-OK');
        return reply(JSON.stringify({ score: ok ? 1 : 0, explanation: ok ? 'the log shows it' : 'no log' }));
      }
      if (toolTexts(req).length) return tools(endCall(9));
      return tools(
        ...FILES.map(writeCall),
        call('write_file', { path: 'reproduce.sh', content: 'echo RUN-OK\n' }, 'w-sh'),
        call('bash', { command: 'bash reproduce.sh' }, 'run-sh'),
        endCall(1),
      );
    });
    const s = cleanup.session('early-all');
    const r = await runCli([
      ...reproduceArgs(s, server.url, { rubric, minBudgetUse: '0.5' }),
      '--no-final-run',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(s.stateDir, s.sessionId);
    const checks = events.filter((e) => e.type === 'early_end_check');
    assert.equal(checks.length, 1);
    assert.equal(checks[0]!.refused, false);
    assert.equal(checks[0]!.score, 1, 'the run requirement was judged from the agent’s own run');
    assert.equal(server.requests.filter((q) => !isJudge(q)).length, 1, 'no request after the accepted end');
    assert.equal(events.filter((e) => e.type === 'end').length, 1);
  });

  test('after N refusals the end is accepted; --min-budget-use 0 and a session without a rubric end at once', {
    timeout: 6 * 60_000,
  }, async () => {
    let n = 0;
    const quitter = await cleanup.modelServer((req: ChatBody) =>
      isJudge(req) ? judgeAnswer(req) : tools(endCall(++n)),
    );
    const s = cleanup.session('early-limit');
    const r = await runCli(args(s, quitter.url, ['--early-end-checks', '2']));
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(s.stateDir, s.sessionId);
    const checks = events.filter((e) => e.type === 'early_end_check');
    assert.deepEqual(
      checks.map((c) => [c.check, c.limit, c.refused, c.score]),
      [
        [1, 2, true, 0],
        [2, 2, true, 0],
      ],
    );
    assert.equal(n, 3, 'the third end_task is accepted without a check');
    assert.match(r.stderr, /all 2 check\(s\) made; the end is accepted/);
    assert.equal(
      quitter.requests.filter(isJudge).length,
      4,
      'the second check found its verdicts in the cache',
    );
    const last = quitter.requests.filter((q) => !isJudge(q)).at(-1)!;
    assert.match(
      toolTexts(last).at(-1)!,
      /early-end check 2 of 2\).*The next end_task is accepted whatever the score\./s,
    );

    let m = 0;
    const off = await cleanup.modelServer((req: ChatBody) =>
      isJudge(req) ? judgeAnswer(req) : tools(endCall(++m)),
    );
    const s0 = cleanup.session('early-off');
    const r0 = await runCli(args(s0, off.url, [], '0'));
    assert.equal(r0.code, 0, r0.stderr);
    assert.equal(m, 1, '--min-budget-use 0: the first end_task ends the session');
    assert.equal(
      sessionEvents(s0.stateDir, s0.sessionId).filter((e) => e.type === 'early_end_check').length,
      0,
    );
    assert.equal(off.requests.filter(isJudge).length, 4, 'only the final grading asked the judge');

    // Without a rubric there is nothing to check against: the first end_task ends the session.
    let k = 0;
    const bare = await cleanup.modelServer((req: ChatBody) =>
      isJudge(req) ? judgeAnswer(req) : tools(endCall(++k)),
    );
    const sn = cleanup.session('early-norubric');
    const rn = await runCli([...reproduceArgs(sn, bare.url, { minBudgetUse: '0.5' }), '--no-final-run']);
    assert.equal(rn.code, 0, rn.stderr);
    assert.equal(k, 1, 'no rubric: no check');
    assert.equal(bare.requests.filter(isJudge).length, 0);
  });

  test('kill -9 during a check: the resume checks again from the judge cache and the count holds', {
    timeout: 6 * 60_000,
  }, async () => {
    let gate = true;
    const asked = new Map<string, number>();
    let ends = 0;
    const server = await cleanup.modelServer((req: ChatBody) => {
      if (isJudge(req)) {
        const q = requirementOf(req);
        asked.set(q, (asked.get(q) ?? 0) + 1);
        if (gate && q.startsWith('REQ evaluate.py')) return new Promise<never>(() => {}) as never;
        return judgeAnswer(req);
      }
      const done = toolTexts(req);
      if (!done.length) return tools(writeCall('model.py'), endCall(++ends));
      return tools(endCall(++ends));
    });
    const s = cleanup.session('early-kill');
    const rubric = rubricFile();
    let child!: ChildProcess;
    const run = runCli([...reproduceArgs(s, server.url, { rubric, minBudgetUse: '0.5' }), '--no-final-run'], {
      onChild: (c) => {
        child = c;
      },
      killAfterMs: 240_000,
    });
    const cache = join(s.stateDir, s.sessionId, 'judge-cache');
    const cached = () =>
      existsSync(cache) ? readdirSync(cache).filter((f) => f.endsWith('.json')).length : 0;
    const t0 = Date.now();
    // Killed once the three answered verdicts are in the cache and the fourth hangs.
    while ((asked.get(RUBRIC.sub_tasks[3]!.requirements) ?? 0) < 1 || cached() < 3) {
      assert.ok(Date.now() - t0 < 200_000, 'the check reached the judge');
      assert.equal(child.exitCode, null, 'the CLI is still running');
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await run;
    const dir = join(s.stateDir, s.sessionId);
    assert.ok(existsSync(join(dir, 'events.jsonl')));
    assert.equal(
      sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'early_end_check').length,
      0,
    );

    gate = false;
    const r = await runCli([...resumeArgs(s, server.url), '--no-final-run', '--early-end-checks', '1'], {
      killAfterMs: 240_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(s.stateDir, s.sessionId);
    const checks = events.filter((e) => e.type === 'early_end_check');
    assert.equal(checks.length, 1, 'one check completed (the killed one left no event)');
    assert.equal(checks[0]!.limit, 1, '--early-end-checks on the resume applies');
    assert.equal(ends, 3, 'the interrupted end_task, the refused one, the accepted one');
    for (const f of ['model.py', 'data.py', 'train.py'])
      assert.equal(
        asked.get(RUBRIC.sub_tasks[FILES.indexOf(f as never)]!.requirements),
        1,
        `${f}: judged once`,
      );
    const interrupted = events.find((e) => e.type === 'tool_result' && e.callId === 'end-1');
    assert.match(String(interrupted?.output), /Interrupted/);
    const run2 = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    assert.equal(run2.earlyEnd.checks, 1, 'the resume’s option is kept in run.json');
  });
});
