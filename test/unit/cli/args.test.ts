/** `klong reproduce` / `klong batch` options for container limits and model prices. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { limitOptions, priceOption } from '../../../src/cli/args';
import { CliError, type ReproduceOptions } from '../../../src/cli/reproduce';
import { parseReproduceArgs } from '../../../src/cli/reproduce-args';

const env = { KLONG_API_KEY: 'sk-test' };
const parse = (...args: string[]) =>
  parseReproduceArgs(['paper.md', '--workspace', 'ws', ...args], env) as ReproduceOptions;

test('containers get the README defaults unless --memory / --cpus / --pids say otherwise', () => {
  assert.deepEqual(parse().limits, { memory: '8g', cpus: 2, pids: 4096 });
  assert.deepEqual(parse('--memory', '512m', '--cpus', '0.5', '--pids', '256').limits, {
    memory: '512m',
    cpus: 0.5,
    pids: 256,
  });
  assert.throws(
    () => limitOptions({ memory: 'lots' }),
    (e: unknown) => e instanceof CliError && /--memory must be a size/.test(e.message),
  );
  assert.throws(() => limitOptions({ cpus: '0' }), /--cpus must be a positive number/);
  assert.throws(() => limitOptions({ pids: '1.5' }), /--pids must be a positive whole number/);
});

test('--price overrides the list price; without it the engine takes the table price', () => {
  assert.equal(parse().prices, undefined);
  assert.deepEqual(parse('--price', '3,0.3,15').prices, { input: 3, cachedInput: 0.3, output: 15 });
  assert.throws(
    () => priceOption('cheap'),
    (e: unknown) => e instanceof CliError && /--price: Not a price: "cheap"/.test(e.message),
  );
});
