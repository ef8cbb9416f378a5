import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, overSpendCap, parseDuration, TimeBudget } from '../../../src/agent/budget';

function fakeClock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test('active time excludes pauses and survives a snapshot', () => {
  const c = fakeClock();
  const b = new TimeBudget({ totalMs: 12 * 3600_000 }, c);
  b.start();
  c.advance(3600_000);
  b.pause();
  c.advance(5 * 3600_000); // paused: not counted
  b.start();
  c.advance(70 * 60_000);
  assert.equal(b.activeMs(), 130 * 60_000);
  assert.equal(b.describe(), '2h 10m elapsed out of 12h');
  const again = new TimeBudget({ totalMs: 12 * 3600_000 }, c, b.snapshot());
  assert.equal(again.activeMs(), 130 * 60_000);
  assert.equal(again.running, false);
});

test('reminders every N steps name the stage and its goal; stages advance with time', () => {
  const c = fakeClock();
  const b = new TimeBudget({ totalMs: 100 * 60_000, reminderEverySteps: 5 }, c);
  b.start();
  assert.equal(b.reminder(3), undefined);
  assert.match(
    b.reminder(5)!,
    /^Info: 0s elapsed out of 1h 40m\. Stage: understand\. Goal now: Read the paper/,
  );
  assert.equal(b.stageChange(), undefined);
  c.advance(7 * 60_000);
  assert.equal(b.stageChange()?.stage, 'plan');
  assert.equal(b.stageChange(), undefined, 'reported once');
  c.advance(50 * 60_000);
  assert.equal(b.stageChange()?.stage, 'implement');
  c.advance(30 * 60_000);
  assert.equal(b.stageChange()?.stage, 'reproduce');
  assert.match(b.reminder(10)!, /reproduce\.sh/);
});

test('soft deadline warns once; hard deadline passes at the total', () => {
  const c = fakeClock();
  const b = new TimeBudget({ totalMs: 600_000, softFraction: 0.9 }, c);
  b.start();
  c.advance(500_000);
  assert.equal(b.wrapUp(), undefined);
  c.advance(50_000);
  assert.match(b.wrapUp()!, /^Warning: only 50s of the time budget left.*end_task/);
  assert.equal(b.wrapUp(), undefined);
  assert.equal(b.hardDeadlinePassed(), false);
  c.advance(50_000);
  assert.equal(b.hardDeadlinePassed(), true);
  assert.equal(b.stageSpec().stage, 'final-check');
});

test('spend cap in USD or tokens', () => {
  const t = { usd: 5.2, promptTokens: 900, cachedTokens: 0, completionTokens: 200 };
  assert.match(overSpendCap(t, { usd: 5 })!, /\$5\.20 of \$5\.00/);
  assert.equal(overSpendCap(t, { usd: 10 }), undefined);
  assert.match(overSpendCap(t, { tokens: 1000 })!, /1100 of 1000 tokens/);
  assert.equal(overSpendCap(t, {}), undefined);
});

test('durations parse and format', () => {
  assert.equal(parseDuration('12h'), 12 * 3600_000);
  assert.equal(parseDuration('90m'), 90 * 60_000);
  assert.equal(parseDuration('1h30m'), 90 * 60_000);
  assert.equal(parseDuration('1.5h'), 90 * 60_000);
  assert.equal(parseDuration('45s'), 45_000);
  assert.throws(() => parseDuration('soon'), /Use e\.g\. 12h/);
  assert.throws(() => parseDuration(''), /Not a duration/);
  assert.equal(formatDuration(90 * 60_000), '1h 30m');
  assert.equal(formatDuration(45 * 60_000), '45m');
});
