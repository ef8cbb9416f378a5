/** The options `klong reproduce` and `klong batch` share: one parser, the same defaults and errors. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { batchCommand } from '../../../src/cli/batch';
import { CliError, type CliIO } from '../../../src/cli/reproduce';
import { parseReproduceArgs } from '../../../src/cli/reproduce-args';
import { runOptions } from '../../../src/cli/run-options';

const io: CliIO = {
  out: { write: () => true },
  err: { write: () => true },
  onInterrupt: () => () => undefined,
};

test('defaults: the model and endpoint from the environment, 128k context, bridge, README limits, final run', () => {
  const o = runOptions({}, { KLONG_MODEL: 'm-env', OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' });
  assert.deepEqual(o, {
    model: 'm-env',
    baseUrl: 'http://127.0.0.1:9/v1',
    contextLimit: 128_000,
    network: 'bridge',
    finalRun: true,
    finalTimeoutMs: 2 * 3600_000,
    labels: {},
    limits: { memory: '8g', cpus: 2, pids: 4096 },
  });
  const given = runOptions(
    { model: 'x', 'no-final-run': true, 'spend-cap': '5', 'max-steps': '3', gpus: 'all', image: 'img' },
    { KLONG_MODEL: 'm-env' },
  );
  assert.equal(given.model, 'x', 'the option wins over the environment');
  assert.equal(given.finalRun, false);
  assert.equal(given.spendCapUsd, 5);
  assert.equal(given.maxSteps, 3);
  assert.equal(given.image, 'img');
  assert.ok(given.gpus);
});

test('klong reproduce and klong batch refuse a bad shared option with the same message, before anything starts', async () => {
  const env = { KLONG_API_KEY: 'k' };
  for (const [opt, value, message] of [
    ['--network', 'host', /--network must be bridge or none, got "host"/],
    ['--context-limit', '1.5', /--context-limit must be a positive whole number/],
    ['--label', 'nokey', /--label must be KEY=VALUE/],
    ['--price', 'cheap', /--price: Not a price: "cheap"/],
  ] as const) {
    assert.throws(() => parseReproduceArgs(['p.md', opt, value], env), message);
    await assert.rejects(
      batchCommand(['papers.json', opt, value], io, env),
      (e: unknown) => e instanceof CliError && message.test(e.message) && e.exitCode === 2,
    );
  }
});
