import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import type { RubricNode } from '../../../../src/paper/types';
import { JOB_TAIL_MAX, progressStateSchema, proposalViewSchema } from '../../../../src/protocol/progress';
import { receive } from '../../../../src/protocol/validate';
import { type ModelChange, SessionModel } from '../../../../src/ui/model/session-model';
import { contextState, statusText } from '../../../../src/ui/model/status-text';
import { detailFor, toolTitle } from '../../../../src/ui/model/timeline-entries';

const T0 = Date.UTC(2026, 0, 1, 9);
function stamp(bodies: AgentEventBody[], dt = 60_000): AgentEvent[] {
  return bodies.map((b, i) => ({ ...b, seq: i, ts: T0 + i * dt }) as AgentEvent);
}

const start: AgentEventBody = {
  type: 'session_started',
  sessionId: 's',
  paperTitle: 'P',
  paperPath: '/p.pdf',
  workspace: '/w',
  model: 'm',
  budgetMs: 3600_000,
};

test('a tool call and its result share one timeline row; details come from both', async () => {
  const m = new SessionModel();
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  m.applyAll(
    stamp([start, { type: 'tool_call', step: 1, callId: 'a', name: 'bash', args: '{"command":"ls -la"}' }]),
  );
  assert.equal(m.timelineLength, 2);
  assert.equal(m.timeline(1, 2)[0]!.state, 'running');
  assert.equal(m.timeline(1, 2)[0]!.title, 'bash: ls -la');
  m.apply({
    type: 'tool_result',
    step: 1,
    callId: 'a',
    name: 'bash',
    ok: false,
    output: 'boom',
    durationMs: 1500,
    seq: 2,
    ts: T0 + 200_000,
  });
  assert.equal(m.timelineLength, 2, 'the result did not add a row');
  const row = m.timeline(1, 2)[0]!;
  assert.equal(row.state, 'failed');
  assert.equal(row.durationMs, 1500);
  assert.deepEqual([...changes.at(-1)!.updated], [1]);
  const d = await m.detail(1);
  assert.deepEqual(
    d.map((s) => s.label),
    ['Command', 'Output (failed, 1.5 s)'],
  );
  assert.equal(d[0]!.text, 'ls -la');
  assert.equal(d[1]!.text, 'boom');
});

test('active time counts running periods only; reminders resync it', () => {
  const m = new SessionModel();
  m.applyAll(
    stamp([
      start, // t0
      { type: 'status', status: 'running' }, // +1 min
      { type: 'status', status: 'paused' }, // +2 min: 1 min active
      { type: 'status', status: 'running' }, // +3 min
    ]),
  );
  const b = m.snapshot.budget;
  assert.equal(b.totalMs, 3600_000);
  assert.equal(b.activeMs, 60_000);
  assert.equal(b.runningSince, T0 + 3 * 60_000);
  m.apply({
    type: 'reminder',
    step: 4,
    text: 'Info: 5m elapsed',
    activeMs: 300_000,
    seq: 4,
    ts: T0 + 10 * 60_000,
  });
  assert.equal(m.snapshot.budget.activeMs, 300_000);
  assert.equal(m.snapshot.budget.runningSince, T0 + 10 * 60_000);
  m.suspendClock(T0 + 12 * 60_000);
  assert.deepEqual(m.snapshot.budget, { totalMs: 3600_000, activeMs: 420_000, runningSince: null });
});

test('usage, plan, proposals and errors fold into the state', () => {
  const m = new SessionModel({ spendCapUsd: 5, network: 'none' });
  m.applyAll(
    stamp([
      start,
      { type: 'model_request', step: 1, window: 0, promptTokens: 100, messages: 2 },
      {
        type: 'model_response',
        step: 1,
        message: { role: 'assistant', content: 'hi' },
        usage: { promptTokens: 100, cachedTokens: 40, completionTokens: 7 },
        costUsd: 0.25,
      },
      {
        type: 'plan',
        items: [
          { text: 'a', status: 'done' },
          { text: 'b', status: 'todo' },
        ],
      },
      {
        type: 'edit_proposed',
        step: 1,
        proposal: { path: 'x.py', kind: 'modify', additions: 1, deletions: 2 },
      },
      { type: 'edit_proposed', step: 2, proposal: { path: 'y.py', kind: 'add', additions: 3, deletions: 0 } },
      { type: 'edit_decided', path: 'x.py', decision: 'rejected', reason: 'no' },
      { type: 'error', message: 'docker went away', fatal: false },
    ]),
  );
  const s = m.snapshot;
  assert.deepEqual(s.usage, {
    requests: 1,
    promptTokens: 100,
    cachedTokens: 40,
    completionTokens: 7,
    costUsd: 0.25,
    spendCapUsd: 5,
  });
  assert.equal(s.network, 'none');
  assert.equal(s.plan.length, 2);
  assert.deepEqual(
    s.proposals.map((p) => [p.path, p.status, p.reason]),
    [
      ['x.py', 'rejected', 'no'],
      ['y.py', 'pending', undefined],
    ],
  );
  assert.equal(s.lastError, 'docker went away');
  assert.equal(m.timeline(1, 2)[0]!.durationMs, 60_000, 'model row carries the request→response time');
});

test('rubric scores are weighted means of graded children', () => {
  const leaf = (id: string, weight: number): RubricNode => ({
    id,
    requirements: id,
    weight,
    sub_tasks: [],
    task_category: 'Code Development',
    finegrained_task_category: null,
  });
  const root: RubricNode = {
    id: 'root',
    requirements: 'all',
    weight: 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: [
      leaf('a', 3),
      { ...leaf('b', 1), sub_tasks: [leaf('b1', 1), leaf('b2', 1)], task_category: null },
    ],
  };
  const m = new SessionModel();
  m.setRubric(root);
  assert.equal(m.snapshot.rubric?.score, undefined);
  // Keyed by path (child indices), not id: ids may repeat.
  m.setGrades({ '0': { score: 1 }, '1.0': { score: 1, explanation: 'ok' }, '1.1': { score: 0 } });
  const r = m.snapshot.rubric!;
  assert.equal(r.children[1]!.score, 0.5);
  assert.equal(r.score, (3 * 1 + 1 * 0.5) / 4);
  assert.equal(r.children[1]!.children[0]!.explanation, 'ok');
});

test('read_paper calls name the section being read', () => {
  const m = new SessionModel();
  const read: string[] = [];
  m.onReadSection((id) => read.push(id));
  m.applyAll(
    stamp([
      start,
      { type: 'tool_call', step: 1, callId: 'r', name: 'read_paper', args: '{"section":"3.1"}' },
    ]),
  );
  assert.deepEqual(read, ['3.1']);
  assert.equal(m.snapshot.readingSection, '3.1');
});

test('details beyond the memory budget are loaded from the log, or explained', async () => {
  const events = stamp([
    start,
    ...Array.from(
      { length: 50 },
      (_, i): AgentEventBody => ({ type: 'user_message', text: `message ${i} ${'x'.repeat(200)}` }),
    ),
  ]);
  const noLog = new SessionModel({ detailMemoryChars: 2000 });
  noLog.applyAll(events);
  assert.match((await noLog.detail(1))[0]!.text, /no longer kept in memory/);
  assert.match((await noLog.detail(50))[0]!.text, /message 49/);
  const asked: number[][] = [];
  const withLog = new SessionModel({
    detailMemoryChars: 2000,
    loadEvents: (seqs) => {
      asked.push(seqs);
      return seqs.map((s) => events[s]!);
    },
  });
  withLog.applyAll(events);
  assert.match((await withLog.detail(1))[0]!.text, /message 0/);
  assert.deepEqual(asked, [[1]]);
});

test('tool titles and the status bar text', () => {
  assert.equal(
    toolTitle('bash', '{"command":"pip install -r requirements.txt"}'),
    'bash: pip install -r requirements.txt',
  );
  assert.equal(toolTitle('read_file', '{"path":"src/a.py","start":1}'), 'read_file: src/a.py');
  assert.equal(toolTitle('bash', 'not json'), 'bash: not json');
  const m = new SessionModel();
  m.applyAll(stamp([start, { type: 'status', status: 'running' }, { type: 'stage', stage: 'implement' }]));
  const { text, tooltip } = statusText(m.snapshot, T0 + 61 * 60_000);
  assert.match(text, /KLong: running · implement · 1h00m\/1h00m/);
  assert.match(tooltip, /Paper: P/);
  assert.equal(contextState('starting'), 'running');
  assert.equal(contextState('paused'), 'paused');
  assert.equal(contextState('done'), 'idle');
});

test("the timeline shows a reply's reasoning and marks estimated usage", () => {
  const sections = detailFor([
    {
      type: 'model_response',
      step: 3,
      message: {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'c', name: 'bash', arguments: '{"command":"ls"}' }],
      },
      reasoning: 'List the files first.',
      usage: { promptTokens: 900, cachedTokens: 0, completionTokens: 20, estimated: true },
      costUsd: 0.002,
    },
  ]);
  assert.deepEqual(
    sections.map((s) => s.label),
    ['Reasoning', 'Tool call bash', 'Usage'],
  );
  assert.equal(sections[0]!.text, 'List the files first.');
  assert.match(sections[2]!.text, /^~ \(estimated: the endpoint reported no usage\) prompt 900/);
});

test('a sensitive proposal carries its reason to the progress view and warns in the timeline', () => {
  const m = new SessionModel();
  const reason = 'VS Code config: tasks and launch configs can run on folder open';
  m.applyAll(
    stamp([
      start,
      {
        type: 'edit_proposed',
        step: 1,
        proposal: { path: '.vscode/tasks.json', kind: 'add', additions: 1, deletions: 0, sensitive: reason },
      },
      { type: 'edit_proposed', step: 1, proposal: { path: 'a.py', kind: 'add', additions: 1, deletions: 0 } },
    ]),
  );
  const [tasks, plain] = m.snapshot.proposals;
  assert.equal(tasks?.sensitive, reason);
  assert.equal(plain?.sensitive, undefined);
  // The webview accepts the state with the field (the protocol schema knows it).
  assert.deepEqual(
    receive(proposalViewSchema, tasks, () => undefined, 'test'),
    tasks,
  );
  const rows = m.timeline(0, 10).filter((r) => r.kind === 'edit');
  assert.deepEqual(
    rows.map((r) => [r.title, r.state]),
    [
      [`Proposed add: .vscode/tasks.json (+1 −0) ⚠ sensitive: ${reason}`, 'warn'],
      ['Proposed add: a.py (+1 −0)', 'info'],
    ],
  );
});

test('jobs: started and ended events make the Jobs list; live tails update it; the state stays valid for the view', () => {
  const m = new SessionModel();
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  m.applyAll(
    stamp([
      start,
      { type: 'job_started', step: 1, jobId: 'j1', name: 'train', command: 'python train.py' },
      { type: 'job_started', step: 2, jobId: 'j2', name: 'eval', command: 'python eval.py' },
      {
        type: 'job_ended',
        jobId: 'j2',
        name: 'eval',
        state: 'exited',
        exitCode: 1,
        durationMs: 60_000,
        tail: 'Traceback\nValueError',
      },
    ]),
  );
  const jobs = m.snapshot.jobs;
  assert.deepEqual(
    jobs.map((j) => [j.id, j.state, j.exitCode, j.endedTs === null ? null : j.endedTs - j.startedTs]),
    [
      ['j1', 'running', null, null],
      ['j2', 'exited', 1, 60_000],
    ],
  );
  assert.equal(jobs[1]!.tail, 'Traceback\nValueError');
  assert.deepEqual(
    m.timeline(1, 4).map((r) => [r.title, r.state]),
    [
      ['Job j1 (train) started: python train.py', 'info'],
      ['Job j2 (eval) started: python eval.py', 'info'],
      ['Job j2 (eval) exited with code 1', 'failed'],
    ],
  );
  changes.length = 0;
  m.setJobTail('j1', `${'x'.repeat(10_000)}\nepoch 3 loss 0.2\n`, 123);
  assert.ok(changes.some((c) => c.keys.has('jobs')));
  const j1 = m.snapshot.jobs[0]!;
  assert.ok(j1.tail.endsWith('epoch 3 loss 0.2\n') && j1.tail.length <= JOB_TAIL_MAX, 'capped, end kept');
  assert.equal(j1.size, 123);
  // The same tail again changes nothing.
  changes.length = 0;
  m.setJobTail('j1', `${'x'.repeat(10_000)}\nepoch 3 loss 0.2\n`, 123);
  assert.equal(changes.length, 0);
  const logged: string[] = [];
  assert.ok(
    receive(progressStateSchema, m.snapshot, (x) => logged.push(x), 'test'),
    logged.join('\n'),
  );
});

test('early-end checks: score over time and per top-level requirement, a timeline row, leaves not judged', () => {
  const check = (n: number, score: number, refused: boolean): AgentEventBody => ({
    type: 'early_end_check',
    step: 2 * n,
    callId: `end-${n}`,
    check: n,
    limit: 3,
    budgetUsed: 0.1 * n,
    score,
    target: 1,
    refused,
    ...(refused ? { message: `end_task was not accepted (early-end check ${n} of 3)` } : {}),
    leaves: 4,
    unmet: refused ? 2 : 0,
    invalid: 0,
    judged: 4,
    tops: [
      { id: 'a', requirements: 'Model', weight: 3, score: score > 0.5 ? 1 : 0.5 },
      { id: 'b', requirements: 'Data', weight: 1, score },
    ],
    durationMs: 1200,
  });
  const m = new SessionModel();
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  m.applyAll(stamp([start, check(1, 0.3, true), check(2, 1, false)]));
  const checks = m.snapshot.endChecks;
  assert.deepEqual(
    checks.map((c) => [c.check, c.score, c.refused, c.tops.map((t) => t.score)]),
    [
      [1, 0.3, true, [0.5, 0.3]],
      [2, 1, false, [1, 1]],
    ],
  );
  assert.ok(changes.at(-1)!.keys.has('endChecks'));
  const rows = m.timeline(1, 3);
  assert.deepEqual(
    rows.map((r) => [r.kind, r.state, r.title]),
    [
      ['check', 'warn', 'Early-end check 1/3: 30.0% of the rubric (target 100%) — end refused, 2 unmet'],
      ['check', 'ok', 'Early-end check 2/3: 100.0% of the rubric (target 100%) — end accepted'],
    ],
  );
  const detail = detailFor([check(1, 0.3, true)]);
  assert.match(detail[0]!.text, / 50% {2}Model \(weight 3\)\n 30% {2}Data \(weight 1\)/);
  assert.match(detail[1]!.text, /not accepted/);

  // A leaf the judge could not grade shows as not judged, not as a failure.
  m.setRubric({
    id: 'r',
    requirements: 'all',
    weight: 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: [
      {
        id: 'x',
        requirements: 'x',
        weight: 1,
        sub_tasks: [],
        task_category: 'Code Development',
        finegrained_task_category: null,
      },
    ],
  });
  m.setGrades({ '': { score: 0 }, '0': { score: 0, valid: false, explanation: 'judge answer unparseable' } });
  assert.equal(m.snapshot.rubric!.children[0]!.invalid, true);
  assert.equal(m.snapshot.rubric!.invalid, undefined);
});
