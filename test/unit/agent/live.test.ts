import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  displayLines,
  LIVE_TAIL_CHARS,
  LIVE_TAIL_LINES,
  type LiveMessage,
  LiveOutput,
  LiveTail,
  lastLine,
  retryText,
  type ThrottleClock,
} from '../../../src/agent/live';
import { ProgressLine } from '../../../src/cli/progress';

/** A clock the test moves by hand; `later` callbacks run when it passes their time. */
function manualClock() {
  let t = 1000;
  let timers: { at: number; f: () => void; live: boolean }[] = [];
  const clock: ThrottleClock = {
    now: () => t,
    later: (f, ms) => {
      const timer = { at: t + ms, f, live: true };
      timers.push(timer);
      return () => {
        timer.live = false;
      };
    },
  };
  const advance = (ms: number) => {
    t += ms;
    const due = timers.filter((x) => x.live && x.at <= t);
    timers = timers.filter((x) => !due.includes(x));
    for (const x of due) x.f();
  };
  return { clock, advance, pending: () => timers.filter((x) => x.live).length };
}

type Output = Extract<LiveMessage, { kind: 'output' }>;

test('tail: keeps the last lines and characters; offsets place it in the whole output', () => {
  const t = new LiveTail(100, 3);
  for (let i = 1; i <= 10; i++) t.push(`line ${i}\n`);
  assert.equal(t.text, 'line 8\nline 9\nline 10\n');
  assert.equal(t.total, 'line 1\n'.length * 9 + 'line 10\n'.length);
  assert.equal(t.start, t.total - t.text.length);
  t.push('partial');
  assert.equal(t.text, 'line 9\nline 10\npartial', 'a partial last line counts as a line');
  t.push('x'.repeat(500));
  const cut: string = t.text;
  assert.equal(cut.length, 100, 'one long line is cut to the character cap');
  assert.ok(cut.endsWith('x'));
});

test('tail: 50 MB pushed in 64 KiB chunks keeps at most the caps', () => {
  const t = new LiveTail();
  const chunk = `${'y'.repeat(99)}\n`.repeat(655);
  let pushed = 0;
  while (pushed < 50e6) {
    t.push(chunk);
    pushed += chunk.length;
    assert.ok(t.text.length <= LIVE_TAIL_CHARS);
  }
  assert.equal(t.total, pushed);
  assert.equal(t.text.split('\n').length - 1, LIVE_TAIL_LINES);
});

test('output: the first chunk goes out at once, then at most one update per interval with the latest tail', () => {
  const { clock, advance, pending } = manualClock();
  const sent: Output[] = [];
  const live = new LiveOutput({ callId: 'c1', step: 3 }, (m) => sent.push(m as Output), {
    clock,
    intervalMs: 250,
  });
  live.push('a\n');
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0], {
    kind: 'output',
    callId: 'c1',
    step: 3,
    text: 'a\n',
    start: 0,
    end: 2,
    done: false,
  });
  for (let i = 0; i < 100; i++) live.push('b\n'); // a burst within the interval
  assert.equal(sent.length, 1, 'nothing more before the interval');
  assert.equal(pending(), 1, 'one update scheduled, not one per chunk');
  advance(250);
  assert.equal(sent.length, 2);
  assert.equal(sent[1]!.end, 2 + 200);
  assert.ok(sent[1]!.text.endsWith('b\n'));
  advance(1000);
  assert.equal(sent.length, 2, 'no update when nothing new came');
  live.push('c');
  assert.equal(sent.length, 3, 'after a quiet interval the next chunk goes out at once');
  live.push('d');
  live.end();
  assert.equal(pending(), 0, 'the scheduled update is cancelled by the end');
  assert.equal(sent.length, 4);
  assert.equal(sent[3]!.done, true);
  assert.ok(sent[3]!.text.endsWith('b\ncd'));
  live.push('late');
  live.end();
  assert.equal(sent.length, 4, 'nothing after the end');
});

test('output: a command that prints nothing sends nothing', () => {
  const sent: LiveMessage[] = [];
  const live = new LiveOutput({ callId: 'c', step: 1 }, (m) => sent.push(m));
  live.end();
  assert.deepEqual(sent, []);
});

test('display: carriage-return progress bars show their last state; escapes are dropped', () => {
  assert.deepEqual(displayLines('a\n\x1b[31mred\x1b[0m\n 10%\r 50%\r100%\n'), ['a', 'red', '100%']);
  assert.equal(lastLine('epoch 1\nepoch 2\n\n'), 'epoch 2');
  const m = {
    kind: 'retry',
    attempt: 2,
    of: 7,
    reason: '429 rate limited',
    delayMs: 12_000,
    until: 20_000,
  } as const;
  assert.equal(retryText(m, 8_000), 'retrying in 12 s, attempt 2 of 7 (429 rate limited)');
  assert.equal(retryText(m, 19_500), 'retrying in 1 s, attempt 2 of 7 (429 rate limited)');
  assert.equal(retryText(m, 21_000), 'retrying now, attempt 2 of 7 (429 rate limited)');
});

function sink() {
  const out: string[] = [];
  return { out, stream: { isTTY: false, columns: 80, write: (s: string) => out.push(s) } };
}

test('CLI: new whole lines of a running command are printed once, the partial line with the last update', () => {
  const { out, stream } = sink();
  const p = new ProgressLine(stream, 3600_000, () => 0);
  const msg = (text: string, start: number, done = false): Output => ({
    kind: 'output',
    callId: 'c',
    step: 1,
    text,
    start,
    end: start + text.length,
    done,
  });
  p.live(msg('tick 1\ntick', 0));
  assert.equal(out.join(''), '  │ tick 1\n');
  p.live(msg('tick 1\ntick 2\n', 0));
  p.live(msg('tick 1\ntick 2\ntick 3\nbye', 0, true));
  assert.equal(out.join(''), '  │ tick 1\n  │ tick 2\n  │ tick 3\n  │ bye\n');
});

test('CLI: output the tail dropped is said, and an update prints at most CLI_LIVE_LINES lines', () => {
  const { out, stream } = sink();
  const p = new ProgressLine(stream, 3600_000, () => 0);
  const text = Array.from({ length: 100 }, (_, i) => `n${i}\n`).join('');
  p.live({
    kind: 'output',
    callId: 'final-reproduction',
    step: 9,
    text,
    start: 5000,
    end: 5000 + text.length,
    done: false,
  });
  const printed = out.join('').split('\n').filter(Boolean);
  assert.equal(printed[0], 'reproduce.sh: [… earlier output not shown …]');
  assert.equal(printed[1], 'reproduce.sh: [… 60 lines not shown …]');
  assert.equal(printed.length, 2 + 40);
  assert.equal(printed.at(-1), 'reproduce.sh: n99');
});

test('CLI: a retry is said once with its countdown; grading shows n of N leaves', () => {
  const { out, stream } = sink();
  const p = new ProgressLine(stream, 3600_000, () => 0);
  p.live({
    kind: 'retry',
    attempt: 2,
    of: 7,
    reason: '429 slow down',
    delayMs: 9000,
    until: Date.now() + 9000,
  });
  assert.match(out.join(''), /model request failed: retrying in (9|8) s, attempt 2 of 7 \(429 slow down\)\n/);
  p.live({ kind: 'grading', done: 1, total: 12 });
  assert.match(out.at(-1)!, /· grading 1 of 12 leaves\n$/);
  p.done();
});

test('CLI on a terminal: a progress bar redrawn with \\r (no newline yet) shows in the progress line', () => {
  const out: string[] = [];
  const p = new ProgressLine(
    { isTTY: true, columns: 200, write: (s: string) => out.push(s) },
    3600_000,
    () => 0,
  );
  p.onEvent({ type: 'tool_call', step: 2, callId: 'c', name: 'bash', args: '{"command":"python train.py"}' });
  const bar = ' 10%|#         | 1/10\r 50%|#####     | 5/10';
  p.live({ kind: 'output', callId: 'c', step: 2, text: bar, start: 0, end: bar.length, done: false });
  assert.match(out.at(-1)!, /bash: python train\.py › 50%\|##### {5}\| 5\/10$/);
  assert.doesNotMatch(out.join(''), /\n/, 'nothing printed above the line: no whole line yet');
  p.onEvent({
    type: 'tool_result',
    step: 2,
    callId: 'c',
    name: 'bash',
    ok: true,
    output: bar,
    durationMs: 1,
  });
  p.onEvent({ type: 'tool_call', step: 3, callId: 'd', name: 'bash', args: '{"command":"ls"}' });
  assert.match(out.at(-1)!, /bash: ls$/);
  p.done();
});
