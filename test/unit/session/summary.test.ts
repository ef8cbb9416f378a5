import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import { emptySummary, foldSummary } from '../../../src/session';

const MIN = 60_000;

function fold(events: [number, AgentEventBody][]) {
  const s = emptySummary('s', 0);
  events.forEach(([ts, body], seq) => {
    foldSummary(s, { ...body, seq, ts } as AgentEvent);
  });
  return s;
}

test('active time counts gaps while running, not while paused, and not the downtime before a resume', () => {
  const s = fold([
    [
      0,
      {
        type: 'session_started',
        sessionId: 's',
        paperTitle: 'P',
        paperPath: '/p',
        workspace: '/w',
        model: 'm',
        budgetMs: 600 * MIN,
      },
    ],
    [1 * MIN, { type: 'status', status: 'running' }],
    [11 * MIN, { type: 'tool_call', step: 1, callId: 'a', name: 'bash', args: '{}' }], // +10 running
    [
      41 * MIN,
      { type: 'tool_result', step: 1, callId: 'a', name: 'bash', ok: true, output: '', durationMs: 1 },
    ], // +30
    [42 * MIN, { type: 'status', status: 'paused' }], // +1
    [100 * MIN, { type: 'status', status: 'running' }], // paused: +0
    [105 * MIN, { type: 'model_request', step: 2, window: 0, promptTokens: 1, messages: 1 }], // +5
    // crash here; resumed a day later: the resume's status 'running' does not count the downtime
    [1_545 * MIN, { type: 'status', status: 'running' }],
    [1_547 * MIN, { type: 'grade', score: 0.25 }], // +2
  ]);
  assert.equal(s.activeMs, 48 * MIN);
  assert.equal(s.status, 'running');
  assert.equal(s.steps, 2);
  assert.equal(s.lastScore, 0.25);
  assert.equal(s.paperTitle, 'P');
  assert.equal(s.budgetMs, 600 * MIN);
  assert.equal(s.seq, 8);
  assert.equal(s.updatedAt, 1_547 * MIN);
});

test("the agent's reminders correct the active time upwards; end sets the final status; re-folding is idempotent", () => {
  const s = fold([
    [0, { type: 'status', status: 'running' }],
    [MIN, { type: 'reminder', step: 3, text: 'Info: 2h elapsed', activeMs: 120 * MIN }],
    [2 * MIN, { type: 'end', reason: 'deadline' }], // +1
  ]);
  assert.equal(s.activeMs, 121 * MIN);
  assert.equal(s.status, 'done');
  assert.equal(s.endReason, 'deadline');
  const before = JSON.stringify(s);
  foldSummary(s, { type: 'grade', score: 1, seq: 1, ts: 5 * MIN } as AgentEvent);
  assert.equal(JSON.stringify(s), before, 'events already folded are ignored');
  foldSummary(s, { type: 'end', reason: 'error', seq: 3, ts: 6 * MIN } as AgentEvent);
  assert.equal(s.status, 'failed');
});

test('tokens add up over the model responses (what `klong attach` starts from), estimated when any was', () => {
  const usage = (p: number, c: number, estimated = false) => ({
    promptTokens: p,
    cachedTokens: c,
    completionTokens: 10,
    ...(estimated ? { estimated } : {}),
  });
  const s = fold([
    [
      0,
      {
        type: 'model_response',
        step: 1,
        usage: usage(1000, 0),
        costUsd: 0.01,
        message: { role: 'assistant', content: 'a' },
      },
    ],
    [
      1,
      {
        type: 'model_response',
        step: 2,
        usage: usage(1500, 900, true),
        costUsd: 0.02,
        message: { role: 'assistant', content: 'b' },
      },
    ],
  ]);
  assert.deepEqual(s.tokens, { prompt: 2500, cached: 900, completion: 20, estimated: true });
  assert.equal(Math.round(s.costUsd * 100), 3);
});
