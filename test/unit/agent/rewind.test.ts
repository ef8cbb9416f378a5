/** Rewind semantics on the append-only event log: branches kept, rewind of a rewind, code per step. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContextManager } from '../../../src/agent/context';
import {
  abandonedSteps,
  checkRewind,
  conversationEvents,
  foldHistory,
  pathTo,
  replayHistory,
  rewindNote,
} from '../../../src/agent/rewind';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import { estimateCounter } from '../../../src/llm/tokens';
import { EventLog } from '../../../src/session';
import { SessionModel } from '../../../src/ui/model/session-model';

const usage = { promptTokens: 10, cachedTokens: 0, completionTokens: 5 };

/** One step as the loop logs it: request, response with a tool call, result, and (if files changed) a checkpoint. */
function step(n: number, opts: { commit?: string; say?: string } = {}): AgentEventBody[] {
  const id = `c${n}`;
  return [
    { type: 'model_request', step: n, window: 0, promptTokens: 100, messages: 2 },
    {
      type: 'model_response',
      step: n,
      message: {
        role: 'assistant',
        content: opts.say ?? `step ${n}`,
        toolCalls: [{ id, name: 'bash', arguments: '{"command":"true"}' }],
      },
      usage,
      costUsd: 0.01,
    },
    { type: 'tool_call', step: n, callId: id, name: 'bash', args: '{"command":"true"}' },
    { type: 'tool_result', step: n, callId: id, name: 'bash', ok: true, output: `out ${n}`, durationMs: 1 },
    ...(opts.commit ? [{ type: 'checkpoint' as const, step: n, commit: opts.commit }] : []),
  ];
}

function contentOf(events: AgentEventBody[]): string[] {
  return events.flatMap((e) =>
    e.type === 'model_response' && e.message.role === 'assistant'
      ? [e.message.content ?? '']
      : e.type === 'user_message'
        ? [`user: ${e.text}`]
        : [],
  );
}

/** Writes the events through a real EventLog and reads them back, as a resume would. */
function roundTrip(events: AgentEventBody[]) {
  const dir = mkdtempSync(join(tmpdir(), 'klong-rewind-'));
  try {
    const [first, ...rest] = events;
    const log = EventLog.open(dir, {
      mode: 'write',
      create: {
        sessionId: 's1',
        first: first ?? { type: 'status', status: 'running' },
      },
    });
    for (const e of rest) log.append(e);
    log.close();
    const read = EventLog.open(dir, { mode: 'read' });
    try {
      return [...read.iterate(0, read.durableCount)];
    } finally {
      read.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const start: AgentEventBody = { type: 'status', status: 'running' };

test('a conversation rewind keeps the later steps as an abandoned branch; the next step follows the target', () => {
  const events = roundTrip([
    start,
    ...step(1, { commit: 'a1' }),
    ...step(2),
    ...step(3, { commit: 'a3' }),
    ...step(4, { commit: 'a4' }),
    { type: 'rewind', toStep: 2, mode: 'both', fromStep: 4, commit: 'a1' },
    { type: 'user_message', text: rewindNote(2, 'both') },
    ...step(5, { say: 'after rewind' }),
  ]);
  // Nothing was removed from the log.
  assert.equal(events.filter((e) => e.type === 'model_request').length, 5);
  const h = foldHistory(events);
  assert.equal(h.head, 5);
  assert.equal(h.maxStep, 5);
  assert.deepEqual(pathTo(h, 5), [0, 1, 2, 5]);
  assert.deepEqual([...abandonedSteps(h)].sort(), [3, 4]);
  // The abandoned steps are still readable, with their own code.
  assert.equal(h.steps.get(4)?.code, 'a4');
  assert.match(JSON.stringify(h.steps.get(3)?.events), /out 3/);
  // The conversation is steps 1, 2, the note and step 5; nothing of 3 and 4.
  assert.deepEqual(contentOf(conversationEvents(h)), [
    'step 1',
    'step 2',
    `user: ${rewindNote(2, 'both')}`,
    'after rewind',
  ]);
  // Step 2 changed no files: its code is step 1's; step 5 starts from it.
  assert.equal(h.steps.get(2)?.code, 'a1');
  assert.equal(h.steps.get(5)?.code, 'a1');
  assert.equal(h.code, 'a1');
});

test('rewind of a rewind: back to a step of the abandoned branch', () => {
  const h = foldHistory(
    roundTrip([
      start,
      ...step(1, { commit: 'a1' }),
      ...step(2, { commit: 'a2' }),
      ...step(3, { commit: 'a3' }),
      { type: 'rewind', toStep: 1, mode: 'both', fromStep: 3, commit: 'a1' },
      ...step(4, { commit: 'b4' }),
      // Regretted: go back to the end of the first branch.
      { type: 'rewind', toStep: 3, mode: 'both', fromStep: 4, commit: 'a3' },
      ...step(5, { say: 'continues branch one' }),
    ]),
  );
  assert.deepEqual(pathTo(h, h.head), [0, 1, 2, 3, 5]);
  assert.deepEqual([...abandonedSteps(h)], [4]);
  assert.deepEqual(contentOf(conversationEvents(h)), ['step 1', 'step 2', 'step 3', 'continues branch one']);
  assert.equal(h.code, 'a3');
});

test('code-only and conversation-only rewinds move only their own half', () => {
  const base = [start, ...step(1, { commit: 'a1' }), ...step(2, { commit: 'a2' }), ...step(3)];
  const code = foldHistory(
    roundTrip([...base, { type: 'rewind', toStep: 1, mode: 'code', fromStep: 3, commit: 'a1' }, ...step(4)]),
  );
  assert.deepEqual(pathTo(code, code.head), [0, 1, 2, 3, 4], 'the conversation goes on');
  assert.equal(code.steps.get(4)?.code, 'a1', 'from the rewound files');
  assert.equal(abandonedSteps(code).size, 0);

  const conv = foldHistory(
    roundTrip([...base, { type: 'rewind', toStep: 1, mode: 'conversation', fromStep: 3 }, ...step(4)]),
  );
  assert.deepEqual(pathTo(conv, conv.head), [0, 1, 4]);
  assert.equal(conv.steps.get(4)?.code, 'a2', 'the files stay as they were');
});

test('a rewind drops what was said after the target (the end of a finished session too)', () => {
  const h = foldHistory(
    roundTrip([
      start,
      ...step(1),
      ...step(2),
      { type: 'user_message', text: 'said during step 3 preamble' },
      ...step(3),
      { type: 'end', reason: 'end_task', summary: 'done' },
      { type: 'rewind', toStep: 1, mode: 'conversation', fromStep: 3 },
    ]),
  );
  const conv = conversationEvents(h);
  assert.deepEqual(contentOf(conv), ['step 1']);
  assert.ok(!conv.some((e) => e.type === 'end'), 'the session is no longer ended');
});

test('rewind requests are checked against the log with clear errors', () => {
  const h = foldHistory([start, ...step(1), ...step(2)]);
  assert.throws(() => checkRewind(h, 7, 'both'), /Step 7 is not in this session \(steps 0–2\)/);
  assert.throws(() => checkRewind(h, -1, 'code'), /step number/);
  assert.throws(() => checkRewind(h, 2, 'conversation'), /already at step 2/);
  assert.equal(checkRewind(h, 0, 'both').step, 0);
  assert.equal(checkRewind(h, 2, 'code').step, 2);
});

test('the timeline marks the abandoned branch, updates rows in place, and a rewind of a rewind revives it', () => {
  const m = new SessionModel();
  const updates: number[][] = [];
  m.onChange((c) => updates.push([...c.updated]));
  let seq = 0;
  const stamp = (bodies: AgentEventBody[]) =>
    bodies.map((b) => ({ ...b, seq: seq++, ts: Date.UTC(2026, 0, 1) + seq * 1000 }) as AgentEvent);
  m.applyAll(stamp([start, ...step(1), ...step(2), ...step(3)]));
  const rowsOf = (n: number) => m.timeline(0, m.timelineLength).filter((r) => r.step === n);
  assert.ok(rowsOf(3).length > 0 && rowsOf(3).every((r) => !r.abandoned));
  m.apply(stamp([{ type: 'rewind', toStep: 1, mode: 'both', fromStep: 3 }])[0]!);
  assert.ok(
    [...rowsOf(2), ...rowsOf(3)].every((r) => r.abandoned),
    'steps 2 and 3 are abandoned',
  );
  assert.ok(rowsOf(1).every((r) => !r.abandoned));
  assert.deepEqual(updates.at(-1)!.sort(), [...rowsOf(2), ...rowsOf(3)].map((r) => r.index).sort());
  const rewindRow = m.timeline(0, m.timelineLength).find((r) => r.kind === 'rewind');
  assert.equal(rewindRow?.title, 'Rewound code and conversation to step 1 (from step 3)');
  m.applyAll(stamp(step(4)));
  assert.ok(rowsOf(4).every((r) => !r.abandoned));
  assert.deepEqual(m.liveSteps(), [4, 1]);
  // Back to step 3: 2 and 3 live again, 4 abandoned.
  m.apply(stamp([{ type: 'rewind', toStep: 3, mode: 'conversation', fromStep: 4 }])[0]!);
  assert.ok([...rowsOf(2), ...rowsOf(3)].every((r) => !r.abandoned));
  assert.ok(rowsOf(4).every((r) => r.abandoned));
  // A code-only rewind abandons nothing.
  m.apply(stamp([{ type: 'rewind', toStep: 1, mode: 'code', fromStep: 3 }])[0]!);
  assert.deepEqual(m.liveSteps(), [3, 2, 1]);
});

test('the view drops a proposal the agent withdrew, and pending proposals at a code rewind', () => {
  const m = new SessionModel();
  let seq = 0;
  const ev = (b: AgentEventBody) => ({ ...b, seq: seq++, ts: Date.UTC(2026, 0, 1) + seq }) as AgentEvent;
  const proposal = (path: string) =>
    ev({ type: 'edit_proposed', step: 1, proposal: { path, kind: 'add', additions: 1, deletions: 0 } });
  m.applyAll([ev(start), proposal('a.txt'), proposal('b.txt')]);
  m.apply(ev({ type: 'edit_withdrawn', step: 2, path: 'a.txt' }));
  assert.deepEqual(
    m.snapshot.proposals.map((p) => p.path),
    ['b.txt'],
  );
  m.apply(ev({ type: 'rewind', toStep: 0, mode: 'code', fromStep: 2, commit: 'c0' }));
  assert.deepEqual(m.snapshot.proposals, [], 'recomputed from the container on resume');
});

test('a conversation rewind past a job_start keeps the job: it is a process, not part of the conversation', () => {
  const events = roundTrip([
    start,
    ...step(1),
    ...step(2),
    { type: 'job_started', step: 2, jobId: 'j1', name: 'train', command: 'python train.py' },
    ...step(3),
    { type: 'job_started', step: 3, jobId: 'j2', name: 'eval', command: 'python eval.py' },
    { type: 'job_ended', jobId: 'j2', name: 'eval', state: 'exited', exitCode: 0 },
    { type: 'rewind', toStep: 1, mode: 'both', fromStep: 3 },
  ]);
  const cm = new ContextManager([{ role: 'system', content: 'head' }], estimateCounter);
  const st = replayHistory(events, cm);
  assert.deepEqual(
    Object.values(st.jobs ?? {}).map((j) => [j.id, j.ended?.state ?? 'running']),
    [
      ['j1', 'running'],
      ['j2', 'exited'],
    ],
  );
  // The conversation itself is the target step's.
  assert.equal(cm.body.filter((m) => m.role === 'assistant').length, 1);
});
