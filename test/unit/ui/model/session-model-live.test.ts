import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FINAL_CALL_ID, LIVE_TAIL_CHARS, type LiveMessage } from '../../../../src/agent/live';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import { DETAIL_TEXT_MAX, toProgressSchema } from '../../../../src/protocol/progress';
import { type ModelChange, SessionModel } from '../../../../src/ui/model/session-model';
import { statusText } from '../../../../src/ui/model/status-text';

const T0 = Date.UTC(2026, 0, 1, 9);
let seq = 0;
const ev = (b: AgentEventBody): AgentEvent => ({ ...b, seq: seq++, ts: T0 + seq * 1000 }) as AgentEvent;

const started = (): AgentEvent =>
  ev({
    type: 'session_started',
    sessionId: 's',
    paperTitle: 'P',
    paperPath: '/p.pdf',
    workspace: '/w',
    model: 'm',
    budgetMs: 3600_000,
  });

const out = (callId: string, text: string, start = 0, done = false): LiveMessage => ({
  kind: 'output',
  callId,
  step: 1,
  text,
  start,
  end: start + text.length,
  done,
});

test('live output: the running row shows its latest line, its detail the output so far; the result replaces both', async () => {
  const m = new SessionModel();
  const changes: ModelChange[] = [];
  m.onChange((c) => changes.push(c));
  m.applyAll([
    started(),
    ev({ type: 'tool_call', step: 1, callId: 'c1', name: 'bash', args: '{"command":"python train.py"}' }),
  ]);
  m.live(out('c1', 'epoch 1 loss 0.9\nepoch 2 loss 0.5\n\x1b[32m 40%\r 80%'));
  const row = m.timeline(1, 2)[0]!;
  assert.equal(row.state, 'running');
  assert.equal(row.live, '80%', 'the latest line as a terminal shows it (no escapes, last \\r state)');
  assert.deepEqual([...changes.at(-1)!.updated], [1]);
  const d = await m.detail(1);
  assert.deepEqual(
    d.map((s) => s.label),
    ['Command', 'Output so far (live)'],
  );
  assert.equal(d[1]!.text, 'epoch 1 loss 0.9\nepoch 2 loss 0.5\n 80%');
  // The view's message with the row passes the protocol's own validation.
  assert.ok(toProgressSchema.safeParse({ type: 'timeline/entries', total: 2, entries: [row] }).success);

  m.apply(
    ev({
      type: 'tool_result',
      step: 1,
      callId: 'c1',
      name: 'bash',
      ok: true,
      output: 'all of it',
      durationMs: 9,
    }),
  );
  const done = m.timeline(1, 2)[0]!;
  assert.equal(done.state, 'ok');
  assert.equal(done.live, undefined);
  assert.deepEqual(
    (await m.detail(1)).map((s) => s.label),
    ['Command', 'Output (ok, 0.0 s)'],
  );
  m.live(out('c1', 'late\n'));
  assert.equal(m.timeline(1, 2)[0]!.live, undefined, 'an update after the result is ignored');
});

test('live output is bounded in the model whatever the engine sends, and rows of unknown calls are ignored', async () => {
  const m = new SessionModel();
  m.applyAll([
    started(),
    ev({ type: 'tool_call', step: 1, callId: 'c', name: 'bash', args: '{"command":"yes"}' }),
  ]);
  m.live(out('other', 'not ours\n'));
  assert.equal(m.timeline(1, 2)[0]!.live, undefined);
  m.live(out('c', `${'y\n'.repeat(100_000)}${'z'.repeat(1000)}`));
  const d = await m.detail(1);
  assert.ok(d[1]!.text.length <= DETAIL_TEXT_MAX, `${d[1]!.text.length}`);
  assert.ok(d[1]!.text.length <= LIVE_TAIL_CHARS);
  const line = m.timeline(1, 2)[0]!.live!;
  assert.ok(line.length <= 200 && line.endsWith('…'), 'a long last line is cut for the row');
});

test('the final run streams into its row; grading folds from live messages and grade_leaf events', async () => {
  const m = new SessionModel();
  m.applyAll([started(), ev({ type: 'final_run_started', timeoutMs: 3600_000 })]);
  const finalRow = m.timelineLength - 1;
  assert.equal(m.timeline(finalRow, finalRow + 1)[0]!.hasDetail, false);
  m.live(out(FINAL_CALL_ID, 'tick 1\ntick 2\n'));
  const row = m.timeline(finalRow, finalRow + 1)[0]!;
  assert.equal(row.live, 'tick 2');
  assert.equal(row.hasDetail, true, 'the running final run can be expanded');
  assert.deepEqual(await m.detail(finalRow), [{ label: 'Output so far (live)', text: 'tick 1\ntick 2' }]);
  m.apply(
    ev({
      type: 'final_run',
      ran: true,
      exitCode: 0,
      timedOut: false,
      durationMs: 5,
      logFile: 'final-run.log',
    }),
  );
  assert.equal(m.timeline(finalRow, finalRow + 1)[0]!.live, undefined);

  m.live({ kind: 'grading', done: 1, total: 12 });
  assert.deepEqual(m.snapshot.grading, { done: 1, total: 12 });
  assert.match(statusText(m.snapshot, T0).text, /grading 1 of 12 leaves/);
  m.apply(ev({ type: 'grade_leaf', leafId: 'a', score: 1, valid: true, cached: false, done: 2, total: 12 }));
  assert.deepEqual(m.snapshot.grading, { done: 2, total: 12 });
  m.apply(ev({ type: 'grade', score: 0.5, reportPath: 'REPRODUCTION.md' }));
  assert.equal(m.snapshot.grading, null, 'the grade replaces the progress');
});

test('a retry counts down in the status bar until the model answers', () => {
  const m = new SessionModel();
  m.apply(started());
  const until = T0 + 60_000;
  m.live({ kind: 'retry', attempt: 2, of: 7, reason: '429 rate limited', delayMs: 12_000, until });
  assert.deepEqual(m.snapshot.retry, { attempt: 2, of: 7, reason: '429 rate limited', until });
  const { text, tooltip } = statusText(m.snapshot, until - 12_000);
  assert.match(text, /\$\(watch\) retrying in 12 s, attempt 2 of 7/);
  assert.match(tooltip, /Model request failed \(429 rate limited\)/);
  assert.match(statusText(m.snapshot, until - 1_500).text, /retrying in 2 s/);
  assert.doesNotMatch(
    statusText(m.snapshot, until + 1).text,
    /retrying/,
    'no countdown once the wait is over',
  );
  m.apply(
    ev({
      type: 'model_response',
      step: 1,
      message: { role: 'assistant', content: 'hi' },
      usage: { promptTokens: 1, cachedTokens: 0, completionTokens: 1 },
      costUsd: 0,
    }),
  );
  assert.equal(m.snapshot.retry, null);
});
