/** Model prices (the dated table, the user's override, `--price`) and the spend cap raised at each approval. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { raiseSpendCap, type SpendTotals } from '../../../src/agent/budget';
import { listPrice, PRICE_TABLE_DATE, parsePrices, pricesFor, validPrices } from '../../../src/llm/prices';
import { costUsd } from '../../../src/llm/types';
import { startHarness } from '../../support/agent-harness';
import { call, reply } from '../../support/model-server';

describe('price table', () => {
  test('common models by their API names, with provider prefixes, dates and dotted versions', () => {
    const cases: [string, number, number, number][] = [
      ['gpt-4.1', 2, 0.5, 8],
      ['gpt-4.1-2025-04-14', 2, 0.5, 8],
      ['openai/gpt-4.1-mini', 0.4, 0.1, 1.6],
      ['gpt-4.1-nano', 0.1, 0.025, 0.4],
      ['gpt-4o', 2.5, 1.25, 10],
      ['gpt-4o-mini-2024-07-18', 0.15, 0.075, 0.6],
      ['o3', 2, 0.5, 8],
      ['o3-mini', 1.1, 0.55, 4.4],
      ['o4-mini-2025-04-16', 1.1, 0.275, 4.4],
      ['gpt-5', 1.25, 0.125, 10],
      ['gpt-5-mini', 0.25, 0.025, 2],
      ['gpt-5-nano', 0.05, 0.005, 0.4],
      ['gpt-5.1', 1.25, 0.125, 10],
      ['gpt-5-codex', 1.25, 0.125, 10],
      ['claude-sonnet-4-5-20250929', 3, 0.3, 15],
      ['anthropic/claude-sonnet-4.5', 3, 0.3, 15],
      ['claude-opus-4-1-20250805', 15, 1.5, 75],
      ['claude-opus-4-5', 5, 0.5, 25],
      ['claude-3-5-haiku-latest', 0.8, 0.08, 4],
      ['claude-haiku-4-5@20251001', 1, 0.1, 5],
      ['gemini-2.5-pro', 1.25, 0.125, 10],
      ['models/gemini-2.5-flash', 0.3, 0.03, 2.5],
      ['gemini-2.5-flash-lite', 0.1, 0.01, 0.4],
      ['deepseek-chat', 0.28, 0.028, 0.42],
      ['deepseek/deepseek-reasoner', 0.28, 0.028, 0.42],
      ['qwen-plus', 0.4, 0.08, 1.2],
      ['qwen3-coder-plus', 1, 0.2, 5],
      ['qwen3-max', 1.2, 0.24, 6],
    ];
    for (const [model, input, cachedInput, output] of cases)
      assert.deepEqual(listPrice(model), { input, cachedInput, output }, model);
    assert.match(PRICE_TABLE_DATE, /^\d{4}-\d{2}/);
  });

  test('unknown and look-alike names get no price instead of a wrong one', () => {
    for (const model of [
      'test-model',
      'llama3.1:8b',
      'qwen3:32b',
      'gpt-4',
      'gpt-40',
      'o35',
      'Meta-Llama-3-70B',
    ])
      assert.equal(listPrice(model), undefined, model);
    assert.deepEqual(pricesFor('llama3.1:8b'), { source: 'unknown' });
  });

  test("the user's prices win over the table", () => {
    const mine = { input: 1, cachedInput: 0, output: 2 };
    assert.deepEqual(pricesFor('gpt-4.1', mine), { prices: mine, source: 'setting' });
    assert.deepEqual(pricesFor('gpt-4.1'), {
      prices: { input: 2, cachedInput: 0.5, output: 8 },
      source: 'table',
    });
  });

  test('--price in,cached,out and the setting are checked', () => {
    assert.deepEqual(parsePrices('2,0.5,8'), { input: 2, cachedInput: 0.5, output: 8 });
    assert.deepEqual(parsePrices(' 3 , 15 '), { input: 3, cachedInput: 3, output: 15 });
    for (const bad of ['', '2', '2,x,8', '2,,8', '-1,0,1', '1,2,3,4'])
      assert.throws(() => parsePrices(bad), /input,cached,output/, bad);
    assert.deepEqual(validPrices({ input: 1, output: 4 }), { input: 1, cachedInput: 1, output: 4 });
    assert.equal(validPrices({ input: 1 }), undefined);
    assert.equal(validPrices({ input: -1, output: 4 }), undefined);
    assert.equal(validPrices(null), undefined);
  });

  test('cost of a request at the table price', () => {
    const usage = { promptTokens: 1_000_000, cachedTokens: 800_000, completionTokens: 100_000 };
    // 200k uncached × $2 + 800k cached × $0.5 + 100k out × $8 (per million) = 0.4 + 0.4 + 0.8
    assert.equal(costUsd(usage, listPrice('gpt-4.1')!).toFixed(2), '1.60');
  });
});

describe('spend cap', () => {
  test('each approval raises the cap from what is spent now', () => {
    const spent: SpendTotals = { usd: 24.5, promptTokens: 0, cachedTokens: 0, completionTokens: 0 };
    assert.deepEqual(raiseSpendCap(spent, 10), { usd: 34.5 });
  });

  test('a session approved twice at the cap goes on both times and ends on its own', async () => {
    const approvals: number[] = [];
    // $1 per completion token and 4 tokens per reply: each step costs $4.
    const h = await startHarness({
      script: (_req, i) =>
        i < 7
          ? reply({ toolCalls: [call('bash', { command: `echo ${i}` })], completionTokens: 4 })
          : reply({ toolCalls: [call('end_task', { summary: 'done' })], completionTokens: 4 }),
      deps: {
        prices: { input: 0, cachedInput: 0, output: 1_000_000 },
        spendCap: { usd: 10 },
        onSpendCap: async (_reason, totals) => {
          approvals.push(totals.usd);
          return raiseSpendCap(totals, 10);
        },
      },
    });
    try {
      const r = await h.session.run();
      assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'done' });
      // Stopped at $12 (cap 10 → 22) and at $24 (cap 22 → 34); a cap of "configured + 10" would
      // have been 20 at the second stop, under what was spent, and ended the session there.
      assert.deepEqual(approvals, [12, 24]);
      assert.equal(h.session.totals.usd, 32);
      const statuses = h.events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
      assert.deepEqual(statuses.slice(0, 5), ['running', 'paused', 'running', 'paused', 'running']);
    } finally {
      await h.close();
    }
  });
});
