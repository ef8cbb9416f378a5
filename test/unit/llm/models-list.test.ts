/** The endpoint's /models as the model picker shows it: ids and the context window where the server says it. */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { describeContext, listModels, parseModelList } from '../../../src/llm/models-list';
import { reply, startModelServer } from '../../support/model-server';

test('context windows from the fields endpoints use; none where the endpoint says nothing', () => {
  const models = parseModelList({
    object: 'list',
    data: [
      { id: 'openrouter/x', context_length: 200_000 },
      { id: 'vllm-model', max_model_len: 32_768 },
      { id: 'groq-model', context_window: 131_072 },
      { id: 'nested', top_provider: { context_length: 64_000 } },
      { id: 'llama.cpp', meta: { n_ctx_train: 8192 } },
      { id: 'gpt-4.1', owned_by: 'openai' },
      { id: 'string-number', context_length: '16384' },
      { id: 'bogus', context_length: -5 },
      { object: 'model' },
    ],
  });
  assert.deepEqual(
    models.map((m) => [m.id, m.contextWindow]),
    [
      ['bogus', undefined],
      ['gpt-4.1', undefined],
      ['groq-model', 131_072],
      ['llama.cpp', 8192],
      ['nested', 64_000],
      ['openrouter/x', 200_000],
      ['string-number', 16_384],
      ['vllm-model', 32_768],
    ],
  );
  assert.deepEqual(parseModelList([{ id: 'bare' }]), [{ id: 'bare' }]);
  assert.throws(() => parseModelList({ error: 'nope' }), /no "data" list/);
  assert.equal(describeContext(131_072), '128k context');
  assert.equal(describeContext(128_000), '128k context');
  assert.equal(describeContext(200_000), '200k context');
  assert.equal(describeContext(1_000_000), '1M context');
  assert.equal(describeContext(1_048_576), '1M context');
  assert.equal(describeContext(32_768), '32k context');
});

test('listModels asks the server with the key and says why when it cannot', async () => {
  const s = await startModelServer(() => reply('OK'), {
    apiKey: 'sk-list',
    models: ['b', 'a'],
    modelInfo: { a: { context_length: 32_768 } },
  });
  try {
    assert.deepEqual(await listModels(s.url, 'sk-list'), [
      { id: 'a', contextWindow: 32_768, ownedBy: 'test' },
      { id: 'b', ownedBy: 'test' },
    ]);
    await assert.rejects(listModels(s.url, 'sk-wrong'), /\/v1\/models answered HTTP 401/);
  } finally {
    await s.close();
  }
  const port = await closedPort();
  await assert.rejects(
    listModels(`http://127.0.0.1:${port}/v1/`, ''),
    new RegExp(`could not reach http://127\\.0\\.0\\.1:${port}/v1/models \\(ECONNREFUSED\\)`),
  );
});

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}
