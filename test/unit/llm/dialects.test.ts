/**
 * The compatibility table's rows (README "Model compatibility"): for each endpoint, the request our
 * client sends and the parse of its documented response shapes, streamed and not, over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { dialectOf } from '../../../src/llm/dialects';
import { OpenAIModelClient } from '../../../src/llm/openai-client';
import type { ChatMessage } from '../../../src/llm/types';
import { dialectCases, streamFields } from '../../support/dialect-shapes';
import { faults, type ModelServer, reply, startModelServer } from '../../support/model-server';

const servers: ModelServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

const head: ChatMessage[] = [
  { role: 'system', content: 'You reproduce research papers with tools.' },
  { role: 'user', content: '# The paper\n\nWe print hello and a number.' },
];
const task: ChatMessage = { role: 'user', content: 'Reproduce the paper.' };
const bashSpec = {
  name: 'bash',
  description: 'Run a command.',
  parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
};

for (const c of dialectCases) {
  for (const stream of [false, true]) {
    test(`${c.row}: ${stream ? 'streamed' : 'non-streamed'} (${c.doc})`, async () => {
      const s = await startModelServer([{ kind: 'recorded', json: c.json, sse: c.sse }, reply('ok')]);
      servers.push(s);
      const client = new OpenAIModelClient({
        baseURL: s.url,
        apiKey: 'sk-test',
        model: c.model,
        stream,
        maxRetries: 0,
        ...c.client,
      });
      const messages = [...head, task];
      const r1 = await client.chat({ messages, tools: [bashSpec], headLength: head.length });

      // What the client parsed.
      const want = { ...c.parsed, ...(stream ? c.parsedStream : {}) };
      assert.equal(r1.message.toolCalls?.length, 1);
      const call = r1.message.toolCalls![0]!;
      assert.equal(call.name, 'bash');
      assert.deepEqual(JSON.parse(call.arguments), { command: 'ls -la' });
      assert.ok(call.id, 'every call has an id to link its result');
      assert.equal(r1.message.content, want.content);
      assert.equal(r1.finishReason, want.finishReason);
      if (c.replaysReasoning) {
        assert.equal(r1.message.reasoning, want.reasoning, 'kept in the message, to be sent back');
        assert.equal(r1.reasoning, undefined);
      } else {
        assert.equal(r1.reasoning, want.reasoning, 'kept for the log');
        assert.equal(r1.message.reasoning, undefined, 'not in the message that goes back');
      }
      if (want.usage === 'estimated') {
        assert.equal(r1.usage.estimated, true);
        assert.ok(r1.usage.promptTokens > 20 && r1.usage.completionTokens > 5, JSON.stringify(r1.usage));
      } else assert.deepEqual(r1.usage, want.usage);

      // What the client sent.
      const q1 = s.requests[0]!;
      assert.equal(q1.model, c.model);
      for (const [k, v] of Object.entries(c.sends)) assert.deepEqual(q1[k], v, `sends ${k}`);
      for (const k of c.omits) assert.equal(k in q1, false, `omits ${k}`);
      if (stream) for (const [k, v] of Object.entries(streamFields)) assert.deepEqual(q1[k], v, `sends ${k}`);
      else assert.equal(q1.stream_options, undefined);

      // The next request: the assistant turn goes back with or without its reasoning; breakpoints.
      const next: ChatMessage[] = [
        ...messages,
        r1.message,
        { role: 'tool', toolCallId: call.id, content: 'a.py' },
      ];
      const r2 = await client.chat({ messages: next, tools: [bashSpec], headLength: head.length });
      assert.equal(r2.message.content, 'ok');
      const q2 = s.requests[1]!;
      const sentBack = (q2.messages[3] as { reasoning_content?: string }).reasoning_content;
      assert.equal(sentBack, c.replaysReasoning ? want.reasoning : undefined);
      assert.equal((q2.messages[3] as { reasoning?: unknown }).reasoning, undefined);
      assert.equal(q2.messages[3]!.tool_calls?.[0]?.id, call.id);
      const marked = q2.messages.flatMap((m, i) => {
        const content = m.content as unknown;
        if (!Array.isArray(content)) return [];
        assert.deepEqual(content.length, 1);
        assert.deepEqual(content[0].cache_control, { type: 'ephemeral' });
        assert.equal(content[0].text, next[i]!.content, 'the text is unchanged');
        return [i];
      });
      assert.deepEqual(marked, c.cacheMarks);
    });
  }
}

test('dialect detection: reasoning models, Anthropic behind gateways, DeepSeek; options override', () => {
  const d = (model: string, url = 'http://127.0.0.1:8000/v1') => dialectOf(model, url);
  for (const m of [
    'o1',
    'o3-mini',
    'o4-mini-2025-04-16',
    'gpt-5',
    'gpt-5-mini',
    'openai/gpt-5.1',
    'openai/o3',
  ])
    assert.equal(d(m).reasoningModel, true, m);
  for (const m of ['gpt-4.1', 'gpt-4o', 'gpt-5-chat-latest', 'olmo-2', 'qwen3:8b', 'llama-3.1-o1-distill'])
    assert.equal(d(m).reasoningModel, false, m);
  assert.equal(d('anthropic/claude-3.7-sonnet').cacheBreakpoints, true);
  assert.equal(d('anthropic/some-future-name', 'https://openrouter.ai/api/v1').cacheBreakpoints, true);
  assert.equal(d('anthropic/some-future-name').cacheBreakpoints, false);
  assert.equal(d('gpt-4.1', 'https://openrouter.ai/api/v1').cacheBreakpoints, false);
  assert.equal(d('deepseek-chat').replayReasoning, true);
  assert.equal(d('anything', 'https://api.deepseek.com').replayReasoning, true);
  assert.equal(d('deepseek-ai/DeepSeek-R1').replayReasoning, false, 'DeepSeek weights on vLLM');
  assert.equal(
    dialectOf('my-claude-finetune', 'http://x/v1', { cacheBreakpoints: false }).cacheBreakpoints,
    false,
  );
});

test('a 400 naming a parameter the endpoint does not take: sent again at once without it', async () => {
  // OpenAI's error for max_tokens on a reasoning model (https://platform.openai.com/docs/guides/reasoning),
  // here under a deployment name we cannot recognise.
  const s = await startModelServer([
    faults.badRequest(
      "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
      'max_tokens',
    ),
    faults.badRequest(
      "Unsupported value: 'temperature' does not support 0.2 with this model. Only the default (1) value is supported.",
      'temperature',
    ),
    faults.badRequest('Unrecognized request argument supplied: stream_options'),
    reply('ok'),
    reply('again'),
    faults.badRequest("Invalid value for 'tool_choice'."),
  ]);
  servers.push(s);
  const retries: string[] = [];
  const slept: number[] = [];
  const client = new OpenAIModelClient({
    baseURL: s.url,
    apiKey: 'sk-test',
    model: 'team-reasoner-prod',
    maxOutputTokens: 4096,
    temperature: 0.2,
    onRetry: (r) => retries.push(r.reason),
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  const r = await client.chat({ messages: [task], tools: [bashSpec] });
  assert.equal(r.message.content, 'ok');
  assert.equal(retries.length, 3);
  assert.match(retries[0]!, /does not take max_tokens/);
  assert.deepEqual(slept, [0, 0, 0]);
  const [a, b, c, d] = s.requests;
  assert.equal(a!.max_tokens, 4096);
  assert.equal(b!.max_completion_tokens, 4096);
  assert.equal('max_tokens' in b!, false);
  assert.equal(b!.temperature, 0.2);
  assert.equal('temperature' in c!, false);
  assert.deepEqual(c!.stream_options, { include_usage: true });
  assert.equal('stream_options' in d!, false);
  assert.equal(d!.max_completion_tokens, 4096);
  // Remembered for the session's later requests; no usage now, so it is estimated.
  const r2 = await client.chat({ messages: [task], tools: [bashSpec] });
  assert.equal(r2.message.content, 'again');
  assert.equal(r2.usage.estimated, true);
  assert.deepEqual(Object.keys(s.requests[4]!).sort(), Object.keys(d!).sort());
  // Any other 400 stays a clear, fatal error.
  await assert.rejects(
    client.chat({ messages: [task], tools: [bashSpec] }),
    /refused the request \(400\).*tool_choice/,
  );
});

test('streamed tool calls without an index, with the name repeated, with object arguments', async () => {
  // Shapes seen from some OpenAI-compatible servers: the OpenAI stream format with `index` left out
  // of tool_calls deltas, the name repeated in every delta, and the arguments as an object.
  const env = { id: 'c1', object: 'chat.completion.chunk', created: 1765000000, model: 'local' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const s = await startModelServer([
    {
      kind: 'recorded',
      sse: [
        chunk({
          role: 'assistant',
          tool_calls: [{ id: 'a', type: 'function', function: { name: 'bash', arguments: '{"command":' } }],
        }),
        chunk({ tool_calls: [{ function: { name: 'bash', arguments: ' "ls"}' } }] }),
        chunk({
          tool_calls: [
            { id: 'b', type: 'function', function: { name: 'bash', arguments: { command: 'pwd' } } },
          ],
        }),
        chunk({}, 'tool_calls'),
        '[DONE]',
      ],
    },
  ]);
  servers.push(s);
  const client = new OpenAIModelClient({ baseURL: s.url, apiKey: 'k', model: 'local', maxRetries: 0 });
  const r = await client.chat({ messages: [task], tools: [bashSpec] });
  assert.deepEqual(
    r.message.toolCalls?.map((c) => [c.id, c.name, JSON.parse(c.arguments)]),
    [
      ['a', 'bash', { command: 'ls' }],
      ['b', 'bash', { command: 'pwd' }],
    ],
  );
});
