import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { retryAfterMs } from '../../../src/llm/endpoint-errors';
import { OpenAIModelClient, type RetryInfo } from '../../../src/llm/openai-client';
import {
  type ChatMessage,
  ContextLengthError,
  costUsd,
  FatalModelError,
  ModelUnavailableError,
} from '../../../src/llm/types';
import {
  call,
  faults,
  type ModelServer,
  reply,
  type Script,
  startModelServer,
  tools,
} from '../../support/model-server';

const servers: ModelServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function setup(
  script: Script,
  extra: Partial<ConstructorParameters<typeof OpenAIModelClient>[0]> = {},
) {
  const s = await startModelServer(script, { apiKey: 'sk-test', models: ['m1'] });
  servers.push(s);
  const retries: RetryInfo[] = [];
  const slept: number[] = [];
  const client = new OpenAIModelClient({
    baseURL: s.url,
    apiKey: 'sk-test',
    model: 'm1',
    onRetry: (r) => retries.push(r),
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...extra,
  });
  return { s, client, retries, slept };
}

const msgs: ChatMessage[] = [
  { role: 'system', content: 'You are a test.' },
  { role: 'user', content: 'Do the thing.' },
];
const bashSpec = { name: 'bash', description: 'run', parameters: { type: 'object', properties: {} } };

test('streams text and tool calls, with usage and cached tokens from the shared prefix', async () => {
  const { s, client } = await setup([
    reply({
      content: 'Let me look around first, then write the code.',
      toolCalls: [call('bash', { command: 'ls -la' })],
    }),
    reply('done'),
  ]);
  const deltas: string[] = [];
  const r1 = await client.chat({ messages: msgs, tools: [bashSpec], onDelta: (d) => deltas.push(d) });
  assert.equal(r1.message.content, 'Let me look around first, then write the code.');
  assert.ok(deltas.length > 1, 'content arrives in several deltas');
  assert.equal(deltas.join(''), r1.message.content);
  assert.equal(r1.message.toolCalls?.length, 1);
  assert.equal(r1.message.toolCalls?.[0]?.name, 'bash');
  assert.deepEqual(JSON.parse(r1.message.toolCalls![0]!.arguments), { command: 'ls -la' });
  assert.equal(r1.finishReason, 'tool_calls');
  assert.equal(r1.usage.promptTokens, s.promptTokens[0]);
  assert.equal(r1.usage.cachedTokens, 0);
  assert.ok(r1.usage.completionTokens > 0);

  const next: ChatMessage[] = [
    ...msgs,
    r1.message,
    { role: 'tool', toolCallId: r1.message.toolCalls![0]!.id, content: 'a.py\nb.py' },
  ];
  const r2 = await client.chat({ messages: next, tools: [bashSpec] });
  assert.equal(r2.message.content, 'done');
  assert.ok(r2.usage.cachedTokens > 0 && r2.usage.cachedTokens < r2.usage.promptTokens);
  // The wire format the server saw: stream with usage, tool call echoed back, tool result linked.
  assert.equal(s.requests[0]!.stream, true);
  assert.deepEqual(s.requests[0]!.stream_options, { include_usage: true });
  assert.equal(s.requests[1]!.messages[2]!.tool_calls?.[0]?.function.name, 'bash');
  assert.equal(s.requests[1]!.messages[3]!.tool_call_id, r1.message.toolCalls![0]!.id);
  assert.equal(s.authHeaders[0], 'Bearer sk-test');
});

test('non-streaming mode returns the same shape', async () => {
  const { s, client } = await setup([tools(call('bash', { command: 'pwd' }))], { stream: false });
  const r = await client.chat({ messages: msgs, tools: [bashSpec] });
  assert.notEqual(s.requests[0]!.stream, true);
  assert.equal(r.message.toolCalls?.[0]?.arguments, '{"command":"pwd"}');
  assert.equal(r.usage.promptTokens, s.promptTokens[0]);
});

test('429 waits for Retry-After, 500 backs off, then succeeds', async () => {
  const { s, client, retries, slept } = await setup([faults.rateLimit(7), faults.serverError(), reply('ok')]);
  const r = await client.chat({ messages: msgs, tools: [] });
  assert.equal(r.message.content, 'ok');
  assert.deepEqual(s.served, ['rate_limit', 'server_error', 'reply']);
  assert.equal(retries.length, 2);
  assert.match(retries[0]!.reason, /^429/);
  assert.equal(slept[0], 7000, 'Retry-After: 7 → 7 s');
  assert.match(retries[1]!.reason, /^500/);
  assert.ok(slept[1]! >= 1600 && slept[1]! <= 2400, `second backoff ~2 s, got ${slept[1]}`);
});

test('a real Retry-After wait with the default sleep', async () => {
  const { s, client } = await setup([faults.rateLimit(1), reply('after wait')], { sleep: undefined });
  const r = await client.chat({ messages: msgs, tools: [] });
  assert.equal(r.message.content, 'after wait');
  assert.equal(s.requests.length, 2);
});

test('a stalled stream is abandoned and retried', async () => {
  const { s, client, retries } = await setup([faults.stall(), reply('recovered')], { stallTimeoutMs: 300 });
  const r = await client.chat({ messages: msgs, tools: [] });
  assert.equal(r.message.content, 'recovered');
  assert.equal(s.requests.length, 2);
  assert.match(retries[0]!.reason, /stalled stream/);
});

test('401 is fatal at once with an actionable message', async () => {
  const { s, client } = await setup([faults.unauthorized(), reply('never')]);
  await assert.rejects(client.chat({ messages: msgs, tools: [] }), (e: unknown) => {
    assert.ok(e instanceof FatalModelError);
    assert.equal(e.status, 401);
    assert.match(e.message, /rejected the API key \(401\)/);
    assert.match(e.message, /OPENAI_API_KEY/);
    assert.doesNotMatch(e.message, /sk-test/);
    return true;
  });
  assert.equal(s.requests.length, 1, 'no retries on 401');
});

test('a wrong key (server-side check) and an unknown model are fatal with clear messages', async () => {
  const { s } = await setup([]);
  const bad = new OpenAIModelClient({ baseURL: s.url, apiKey: 'sk-wrong', model: 'm1' });
  await assert.rejects(bad.chat({ messages: msgs, tools: [] }), /rejected the API key \(401\)/);
  const unknown = new OpenAIModelClient({ baseURL: s.url, apiKey: 'sk-test', model: 'gpt-nope' });
  await assert.rejects(unknown.chat({ messages: msgs, tools: [] }), (e: unknown) => {
    assert.ok(e instanceof FatalModelError);
    assert.match(
      e.message,
      new RegExp(`Model "gpt-nope" not found at ${s.url.replace(/[.]/g, '\\.')} \\(404\\)`),
    );
    return true;
  });
  assert.deepEqual(
    await new OpenAIModelClient({ baseURL: s.url, apiKey: 'sk-test', model: 'm1' }).listModels(),
    ['m1'],
  );
});

test('context-length errors get their own type', async () => {
  const { client } = await setup([faults.contextLength()]);
  await assert.rejects(client.chat({ messages: msgs, tools: [] }), ContextLengthError);
});

test('retries run out into a resumable ModelUnavailableError', async () => {
  const { s, client } = await setup([faults.serverError(), faults.serverError(), faults.serverError()], {
    maxRetries: 2,
  });
  await assert.rejects(client.chat({ messages: msgs, tools: [] }), (e: unknown) => {
    assert.ok(e instanceof ModelUnavailableError);
    assert.match(e.message, /after 3 attempts/);
    return true;
  });
  assert.equal(s.requests.length, 3);
});

test('a refused connection is retried with the reason from the system, then gives up resumably', async () => {
  const closed = await startModelServer([], { apiKey: 'sk-test' });
  const url = closed.url;
  await closed.close(); // nothing listens on this port any more
  const retries: RetryInfo[] = [];
  const client = new OpenAIModelClient({
    baseURL: url,
    apiKey: 'sk-test',
    model: 'm1',
    maxRetries: 1,
    onRetry: (r) => retries.push(r),
    sleep: async () => {},
  });
  await assert.rejects(client.chat({ messages: msgs, tools: [] }), (e: unknown) => {
    assert.ok(e instanceof ModelUnavailableError);
    assert.match(e.message, /ECONNREFUSED/);
    return true;
  });
  assert.equal(retries.length, 1);
  assert.match(
    retries[0]!.reason,
    new RegExp(`^cannot reach ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*ECONNREFUSED`),
  );
});

test('an abort stops a stalled request without retrying', async () => {
  const ctrl = new AbortController();
  const { s, client } = await setup([
    () => {
      setTimeout(() => ctrl.abort(), 50); // once the server has the request
      return faults.stall();
    },
    reply('x'),
  ]);
  const p = client.chat({ messages: msgs, tools: [], signal: ctrl.signal });
  await assert.rejects(p, /abort/i);
  assert.equal(s.requests.length, 1);
});

test('retryAfterMs reads seconds, dates and retry-after-ms; costUsd bills cached tokens at the cached rate', () => {
  assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
  assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250' })), 250);
  assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000), 6000);
  assert.equal(retryAfterMs(new Headers({})), undefined);
  const c = costUsd(
    { promptTokens: 1_000_000, cachedTokens: 600_000, completionTokens: 100_000 },
    {
      input: 2,
      cachedInput: 0.5,
      output: 8,
    },
  );
  assert.ok(Math.abs(c - 1.9) < 1e-9);
});
