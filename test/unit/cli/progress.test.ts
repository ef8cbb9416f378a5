import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressLine } from '../../../src/cli/progress';

function sink(isTTY: boolean) {
  const out: string[] = [];
  return { out, stream: { isTTY, columns: 60, write: (s: string) => out.push(s) } };
}

test('progress line: step, stage, time/budget, tokens with cache share, cost, current action', () => {
  const { out, stream } = sink(false);
  let active = 130 * 60_000;
  const p = new ProgressLine(stream, 12 * 3600_000, () => active);
  p.onEvent({ type: 'stage', stage: 'implement' });
  p.onEvent({ type: 'model_request', step: 7, window: 0, promptTokens: 1000, messages: 5 });
  p.onEvent({
    type: 'model_response',
    step: 7,
    message: { role: 'assistant', content: null },
    usage: { promptTokens: 10_000, cachedTokens: 8_000, completionTokens: 500 },
    costUsd: 0.0123,
  });
  p.onEvent({
    type: 'tool_call',
    step: 7,
    callId: 'c',
    name: 'bash',
    args: '{"command":"python train.py --epochs 3"}',
  });
  assert.equal(
    out.at(-1),
    'step 7 · implement · 2h 10m / 12h · 10.5k tok (80% cached) · $0.01 · bash: python train.py --epochs 3\n',
  );
  active += 60_000;
  p.onEvent({ type: 'error', message: 'Model request failed (429); retry 1 in 2 s.', fatal: false });
  assert.equal(out.at(-2), 'warning: Model request failed (429); retry 1 in 2 s.\n');
  assert.match(out.at(-1)!, /2h 11m \/ 12h/);
});

test('on a terminal the line is rewritten in place and cut to the width', () => {
  const { out, stream } = sink(true);
  const p = new ProgressLine(stream, 3600_000, () => 0);
  p.onEvent({
    type: 'tool_call',
    step: 1,
    callId: 'c',
    name: 'write_file',
    args: '{"path":"src/a/very/long/path/to/some/file.py"}',
  });
  const last = out.at(-1)!;
  assert.ok(last.startsWith('\r\x1b[2K'));
  assert.ok(last.length <= 5 + 59, `cut to the terminal width: ${last.length}`);
  assert.ok(last.endsWith('…'));
  p.done();
  assert.equal(out.at(-1), '\n');
});

test('an early-end check: the verdict on the progress line, the score per top-level requirement above it', () => {
  const { out, stream } = sink(false);
  const p = new ProgressLine(stream, 3600_000, () => 6 * 60_000);
  p.onEvent({
    type: 'early_end_check',
    step: 4,
    callId: 'e',
    check: 1,
    limit: 3,
    budgetUsed: 0.1,
    score: 0.3,
    target: 1,
    refused: true,
    message: 'end_task was not accepted',
    leaves: 4,
    unmet: 2,
    invalid: 1,
    judged: 4,
    tops: [
      { id: 'a', requirements: 'Model', weight: 1, score: 1 },
      { id: 'b', requirements: 'Training', weight: 3, score: 0 },
    ],
    durationMs: 900,
  });
  assert.equal(
    out.at(-2),
    'early-end check 1/3 at 10% of the budget: score 30% (1 not judged) — 100% Model · 0% Training\n',
  );
  assert.match(out.at(-1)!, /early-end check 1\/3: 30% of the rubric \(target 100%\), 2 unmet, going on\n$/);
});
