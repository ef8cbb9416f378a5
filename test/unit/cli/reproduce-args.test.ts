/** `klong reproduce`'s options: defaults, the environment, and a clear error for each bad value. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReproduceArgs } from '../../../src/cli/reproduce-args';

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
