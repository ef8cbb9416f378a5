import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReproduceArgs } from '../../../src/cli/main';
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

test('argument parsing: defaults, env key, durations, labels', () => {
  const o = parseReproduceArgs(
    ['p.md', '--workspace', 'w', '--budget', '90m', '--label', 'a=b', '--label', 'klong.test=1'],
    {
      OPENAI_API_KEY: 'k1',
    },
  );
  assert.ok(o !== 'help');
  assert.equal(o.apiKey, 'k1');
  assert.equal(o.budgetMs, 90 * 60_000);
  assert.equal(o.approval, undefined); // decided at run time: auto-accept in an empty workspace, else review
  assert.equal(o.network, 'bridge');
  assert.equal(o.contextLimit, 128_000);
  assert.deepEqual(o.labels, { a: 'b', 'klong.test': '1' });
  assert.equal(o.finalRun, true);
  assert.equal(o.generateRubric, true, 'without --rubric one is generated');
  const nr = parseReproduceArgs(['p.md', '--no-rubric'], { OPENAI_API_KEY: 'k1' });
  assert.ok(nr !== 'help');
  assert.equal(nr.generateRubric, false);
  const given = parseReproduceArgs(['p.md', '--rubric', 'r.json'], { OPENAI_API_KEY: 'k1' });
  assert.ok(given !== 'help');
  assert.equal(given.generateRubric, false);
  assert.throws(
    () => parseReproduceArgs(['p.md', '--rubric', 'r.json', '--no-rubric'], { OPENAI_API_KEY: 'k1' }),
    /--rubric and --no-rubric contradict/,
  );
  const k = parseReproduceArgs(['p.md', '--no-final-run'], {
    OPENAI_API_KEY: 'k1',
    KLONG_API_KEY: 'k2',
    KLONG_MODEL: 'm',
  });
  assert.ok(k !== 'help');
  assert.equal(k.apiKey, 'k2', 'KLONG_API_KEY wins');
  assert.equal(k.model, 'm');
  assert.equal(k.finalRun, false);
  assert.throws(() => parseReproduceArgs(['p.md'], {}), /no API key/);
  assert.throws(
    () => parseReproduceArgs(['p.md', '--max-steps', '0'], { OPENAI_API_KEY: 'x' }),
    /--max-steps must be a positive whole number/,
  );
  assert.throws(() => parseReproduceArgs(['p.md', '--label', 'nokey'], { OPENAI_API_KEY: 'x' }), /KEY=VALUE/);
  assert.equal(parseReproduceArgs(['--help'], {}), 'help');
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

test('klong reproduce: the early-end options are checked and only the given ones are kept', () => {
  const env = { KLONG_API_KEY: 'k' };
  const o = parseReproduceArgs(
    ['p.md', '--workspace', 'w', '--min-budget-use', '0.25', '--early-end-checks', '5'],
    env,
  );
  assert.ok(o !== 'help');
  assert.deepEqual(o.earlyEnd, { minBudgetUse: 0.25, checks: 5 });
  const none = parseReproduceArgs(['p.md', '--workspace', 'w'], env);
  assert.ok(none !== 'help');
  assert.equal(none.earlyEnd, undefined);
  assert.throws(
    () => parseReproduceArgs(['p.md', '--min-budget-use', '50'], env),
    /--min-budget-use must be a share between 0 and 1/,
  );
  assert.throws(
    () => parseReproduceArgs(['p.md', '--early-end-target', '-1'], env),
    /--early-end-target must be a number ≥ 0/,
  );
  assert.throws(
    () => parseReproduceArgs(['p.md', '--early-end-checks', '1.5'], env),
    /--early-end-checks must be a whole number ≥ 0/,
  );
});
