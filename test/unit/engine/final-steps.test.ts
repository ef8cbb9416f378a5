/**
 * The end of a session as recorded steps: the judge cache is keyed on what the judge saw (a real
 * model server counts the calls a regrade makes), the log tells a resume what is already done, and
 * a session that called end_task resumes into its end instead of asking the model again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ContextManager } from '../../../src/agent/context';
import { buildHead } from '../../../src/agent/context/head';
import { emptyProgress } from '../../../src/agent/progress-note';
import { applyEvent, emptyTotals, type LoopState } from '../../../src/agent/replay';
import { finishRecord, lineSplitter } from '../../../src/engine/final-steps';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import { OpenAIModelClient } from '../../../src/llm/openai-client';
import { estimateCounter } from '../../../src/llm/tokens';
import { gradeSubmission, paperFromMarkdown, parseRubric } from '../../../src/paper';
import type { GradeOptions } from '../../../src/paper/grading/grade';
import { buildJudgeMessages, DEFAULT_BUDGETS, judgeCacheKey } from '../../../src/paper/grading/judge';
import { PaperIndex } from '../../../src/paper/search';
import { EventLog } from '../../../src/session';
import { SessionModel } from '../../../src/ui/model/session-model';
import { type ChatBody, reply, startModelServer } from '../../support/model-server';

const root = mkdtempSync(join(tmpdir(), 'klong-final-steps-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(root, `d${n++}`);

const PAPER = paperFromMarkdown(
  '# Bootstrap Paper\n\n## Method\n\nWe resample the data B=200 times with replacement and report the mean.\n\n## Results\n\nThe mean is 0.497.\n',
  'paper.md',
);
const leaf = (id: string, requirements: string, category: string) => ({
  id,
  requirements,
  weight: 1,
  task_category: category,
  finegrained_task_category: null,
  sub_tasks: [],
});
const rubricOf = (leaves: ReturnType<typeof leaf>[]) =>
  parseRubric({
    id: 'root',
    requirements: 'The bootstrap result is reproduced.',
    weight: 1,
    task_category: null,
    finegrained_task_category: null,
    sub_tasks: leaves,
  });
const LEAVES = [
  leaf('dev', 'bootstrap.py resamples the data B=200 times with replacement.', 'Code Development'),
  leaf('exec', 'reproduce.sh runs bootstrap.py and the log shows it finished.', 'Code Execution'),
  leaf('res', 'The reported mean is close to 0.497.', 'Result Analysis'),
];
const BOOT = 'import random\nB = 200\nsamples = [random.choice(data) for _ in range(B)]\n';
const LOG = `${'epoch line\n'.repeat(50)}mean=0.497\n`;

/** The requirement a judge request grades. */
const requirementOf = (req: ChatBody) =>
  /# Requirement to grade\n\n([^\n]+)/.exec(req.messages[1]?.content ?? '')?.[1] ?? '?';

test('judge cache: a regrade asks again only for what changed in what the judge saw', async () => {
  const server = await startModelServer(() => reply('{"score": 1, "explanation": "ok"}'));
  const client = new OpenAIModelClient({ baseURL: server.url, apiKey: 'k', model: 'judge-model' });
  const cacheDir = newDir();
  const asked = () => server.requests.splice(0).map(requirementOf).sort();
  const grade = (more: Partial<GradeOptions> = {}) =>
    gradeSubmission({
      client,
      paper: PAPER,
      rubric: rubricOf(LEAVES),
      files: [{ path: 'bootstrap.py', content: BOOT }],
      reproduceSh: 'python3 bootstrap.py\n',
      reproduceLog: LOG,
      cacheDir,
      budgets: { logChars: 200 },
      ...more,
    });
  try {
    const first = await grade();
    assert.equal(first.score, 1);
    assert.equal(asked().length, 3);

    // The same evidence: every answer from the cache.
    const again = await grade();
    assert.deepEqual(asked(), []);
    assert.equal(again.cachedLeaves, 3);

    // A big unrelated file the judge is not shown (over the files budget), and a log whose head,
    // beyond what the judge is shown, differs (a timestamp): nothing to ask again.
    await grade({
      files: [
        { path: 'bootstrap.py', content: BOOT },
        { path: 'notes.txt', content: 'unrelated '.repeat(50_000) },
      ],
      reproduceLog: `started at 12:00:0${n}\n${LOG}`,
    });
    assert.deepEqual(asked(), []);

    // A new log tail: only the leaves whose prompt shows the log are asked again.
    await grade({ reproduceLog: `${LOG}mean=0.512\n` });
    assert.deepEqual(asked(), [LEAVES[1]!.requirements, LEAVES[2]!.requirements].sort());

    // A shown file changed: every leaf that was shown it.
    await grade({ files: [{ path: 'bootstrap.py', content: BOOT.replace('200', '100') }] });
    assert.equal(asked().length, 3);

    // One requirement reworded: that leaf only.
    const reworded = LEAVES.map((l) =>
      l.id === 'res' ? { ...l, requirements: 'The reported mean is within 0.01 of 0.497.' } : l,
    );
    await grade({ rubric: rubricOf(reworded) });
    assert.deepEqual(asked(), ['The reported mean is within 0.01 of 0.497.']);
  } finally {
    await server.close();
  }
});

test('judgeCacheKey: same evidence same key; the model, the leaf, a file or the shown log change it', () => {
  const index = new PaperIndex(PAPER);
  const input = (o: { log?: string; file?: string; cat?: string; model?: string } = {}) => {
    const [l] = rubricOf([
      leaf('exec', 'reproduce.sh runs bootstrap.py.', o.cat ?? 'Code Execution'),
    ]).sub_tasks;
    const built = buildJudgeMessages({
      paperTitle: PAPER.title,
      index,
      leaf: l!,
      ancestors: [],
      files: [{ path: 'bootstrap.py', content: o.file ?? BOOT }],
      reproduceSh: 'python3 bootstrap.py\n',
      reproduceLog: o.log ?? LOG,
      budgets: DEFAULT_BUDGETS,
    });
    return judgeCacheKey(o.model ?? 'm', built.evidence);
  };
  assert.equal(input(), input());
  assert.match(input(), /^[0-9a-f]{64}$/);
  assert.notEqual(input({ model: 'other' }), input());
  assert.notEqual(input({ log: 'mean=0.1\n' }), input());
  assert.notEqual(input({ file: 'B = 100\n' }), input());
  // A Code Development leaf is not shown the log: its key does not depend on it.
  assert.equal(input({ cat: 'Code Development', log: 'x' }), input({ cat: 'Code Development' }));
});

function logWith(events: AgentEventBody[]): EventLog {
  const dir = newDir();
  mkdirSync(dir);
  const log = EventLog.open(dir, { mode: 'write', create: { sessionId: 's' }, durability: 'none' });
  for (const e of events) log.append(e);
  log.flush();
  return log;
}

const response: AgentEventBody = {
  type: 'model_response',
  step: 3,
  message: { role: 'assistant', content: null, toolCalls: [] },
  usage: { promptTokens: 1, cachedTokens: 0, completionTokens: 1 },
  costUsd: 0,
};
const started: AgentEventBody = { type: 'final_run_started', timeoutMs: 1000 };
const ran: AgentEventBody = {
  type: 'final_run',
  ran: true,
  exitCode: 0,
  timedOut: false,
  durationMs: 5,
  logFile: 'final-run.log',
};
const graded = (leafId: string, done: number): AgentEventBody => ({
  type: 'grade_leaf',
  leafId,
  score: 1,
  valid: true,
  cached: false,
  done,
  total: 3,
});

test('finishRecord: what the log holds for the current end, and nothing from an earlier one', () => {
  const none = finishRecord(logWith([response, { type: 'status', status: 'running' }]));
  assert.equal(none.finalRun, undefined);
  assert.equal(none.finalRunInterrupted, false);

  const interrupted = finishRecord(logWith([response, started, { type: 'status', status: 'running' }]));
  assert.equal(interrupted.finalRun, undefined);
  assert.equal(interrupted.finalRunInterrupted, true);

  // Paged backwards (page of 2) across a long grading: the run and every graded leaf are found.
  const mid = finishRecord(
    logWith([response, started, ran, graded('a', 1), graded('b', 2), { type: 'status', status: 'running' }]),
    2,
  );
  assert.equal(mid.finalRun?.exitCode, 0);
  assert.equal(mid.finalRunInterrupted, false);
  assert.deepEqual([...mid.gradedLeaves].sort(), ['a', 'b']);
  assert.equal(mid.graded, false);

  const done = finishRecord(logWith([response, started, ran, graded('a', 1), { type: 'grade', score: 1 }]));
  assert.equal(done.graded, true);

  // After a rewind the session went on: its earlier end is not this one's.
  const rewound = finishRecord(
    logWith([
      started,
      ran,
      { type: 'grade', score: 1 },
      { type: 'end', reason: 'end_task' },
      { type: 'rewind', toStep: 2, mode: 'both', fromStep: 3 },
      response,
    ]),
  );
  assert.equal(rewound.finalRun, undefined);
  assert.equal(rewound.graded, false);
  assert.equal(rewound.gradedLeaves.size, 0);
});

test('replay: a successful end_task leaves the session ending (with its summary) until the end event', () => {
  const cm = new ContextManager(
    buildHead({ systemPrompt: 's', task: 't', paper: PAPER, blacklist: [] }, estimateCounter),
    estimateCounter,
    { contextLimit: 100_000 },
  );
  const st: LoopState = { step: 0, progress: emptyProgress(), totals: emptyTotals(), lastEstimate: 0 };
  const events: AgentEventBody[] = [
    {
      ...response,
      step: 1,
      message: {
        role: 'assistant',
        content: null,
        toolCalls: [{ id: 'c1', name: 'end_task', arguments: '{"summary":"all reproduced"}' }],
      },
    },
    { type: 'tool_call', step: 1, callId: 'c1', name: 'end_task', args: '{"summary":"all reproduced"}' },
    {
      type: 'tool_result',
      step: 1,
      callId: 'c1',
      name: 'end_task',
      ok: true,
      output: 'Session ended.',
      durationMs: 0,
    },
  ];
  for (const e of events) applyEvent(e, cm, st);
  assert.deepEqual(st.ending, { summary: 'all reproduced' });
  applyEvent({ type: 'end', reason: 'end_task', summary: 'all reproduced' }, cm, st);
  assert.equal(st.ending, undefined);
  assert.equal(st.ended?.reason, 'end_task');
});

test('lineSplitter: complete lines once, \\r progress updates as lines, long lines capped', () => {
  const lines: string[] = [];
  const feed = lineSplitter((l) => lines.push(l), 10);
  feed('epoch 1\nepo');
  feed('ch 2\r\n10%\r20%\r');
  feed(`${'x'.repeat(30)}\n\n`);
  assert.deepEqual(lines, ['epoch 1', 'epoch 2', '10%', '20%', `${'x'.repeat(10)}…`]);
});

test('the VS Code timeline shows the final run as it starts and ends', () => {
  const m = new SessionModel();
  const bodies: AgentEventBody[] = [started, { ...ran, exitCode: 2, durationMs: 61_000 }, graded('a', 1)];
  m.applyAll(bodies.map((b, i) => ({ ...b, seq: i, ts: 1000 + i }) as AgentEvent));
  const rows = m.timeline(0, m.timelineLength);
  assert.deepEqual(
    rows.map((r) => [r.title, r.state]),
    [
      ['Final run: reproduce.sh in a fresh container…', 'info'],
      ['Final run: reproduce.sh exited with code 2', 'failed'],
    ],
  );
  assert.equal(rows[1]!.durationMs, 61_000);
});
