/**
 * Recorded shapes of the endpoints in the README's compatibility table: what the client must send
 * each one, and the responses (non-streamed and streamed) it must parse. Written by hand from each
 * provider's documentation (named per case); ids and numbers are made up but consistent. Served by
 * test/support/model-server.ts (`kind: 'recorded'`) and checked by test/unit/llm-dialects.test.ts.
 *
 * Every case answers the same first request (system prompt + paper as the pinned head, then the
 * task) with one `bash {"command": "ls -la"}` call, so the assertions are the same shape for all.
 */
import type { Usage } from '../../src/llm/types';

type Sse = (string | Record<string, unknown>)[];

export interface Parsed {
  content: string | null;
  /** Reasoning the client kept (in the response, or in the message when it is sent back). */
  reasoning?: string;
  finishReason: string | null;
  /** Exact usage, or 'estimated' when the endpoint sent none. */
  usage: Usage | 'estimated';
}

export interface DialectCase {
  /** The README row this case backs. */
  row: string;
  /** The documentation the shapes follow. */
  doc: string;
  model: string;
  client: { maxOutputTokens?: number; temperature?: number };
  /** Top-level request fields that must be sent with these values … */
  sends: Record<string, unknown>;
  /** … and fields that must not be sent. */
  omits: string[];
  /** Second request (system, paper, task, assistant, tool): the messages carrying cache_control. */
  cacheMarks: number[];
  /** Second request: the assistant message carries the first reply's reasoning_content. */
  replaysReasoning: boolean;
  json: unknown;
  sse: Sse;
  parsed: Parsed;
  /** Where the streamed parse differs from the non-streamed one. */
  parsedStream?: Partial<Parsed>;
}

const ARGS = '{"command": "ls -la"}';
/** The arguments in the pieces a streaming server sends them in. */
const PIECES = ['{"comm', 'and": "', 'ls -la', '"}'];
const CREATED = 1765000000;

const usage = (promptTokens: number, cachedTokens: number, completionTokens: number): Usage => ({
  promptTokens,
  cachedTokens,
  completionTokens,
});

// ---- OpenAI (https://platform.openai.com/docs/api-reference/chat/object and /chat-streaming) ----

function openai(
  model: string,
  reasoningTokens: number,
  content: string | null,
): Pick<DialectCase, 'json' | 'sse'> {
  const u = {
    prompt_tokens: 2412,
    completion_tokens: 18 + reasoningTokens,
    total_tokens: 2430 + reasoningTokens,
    prompt_tokens_details: { cached_tokens: 2304, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const env = { id: 'chatcmpl-CJ4kqLh0zY1bQ', object: 'chat.completion.chunk', created: CREATED, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    service_tier: 'default',
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage: null, // with include_usage every chunk carries usage: null until the last one
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content,
            refusal: null,
            annotations: [],
            tool_calls: [
              { id: 'call_Qx7dW2', type: 'function', function: { name: 'bash', arguments: ARGS } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: u,
      service_tier: 'default',
      system_fingerprint: null,
    },
    sse: [
      chunk({ role: 'assistant', content: content === null ? null : '', refusal: null }),
      ...(content ? [chunk({ content })] : []),
      chunk({
        tool_calls: [
          { index: 0, id: 'call_Qx7dW2', type: 'function', function: { name: 'bash', arguments: '' } },
        ],
      }),
      ...PIECES.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
      chunk({}, 'tool_calls'),
      { ...env, service_tier: 'default', system_fingerprint: null, choices: [], usage: u },
      '[DONE]',
    ],
  };
}

// ---- OpenRouter, Anthropic upstream (https://openrouter.ai/docs/api-reference/streaming,
// https://openrouter.ai/docs/features/prompt-caching#anthropic-claude) ----

function openrouterClaude(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'anthropic/claude-sonnet-4.5';
  const u = {
    prompt_tokens: 14031,
    completion_tokens: 57,
    total_tokens: 14088,
    prompt_tokens_details: { cached_tokens: 13870 },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
  const env = {
    id: 'gen-1765000000-aBcDeF',
    provider: 'Anthropic',
    model,
    object: 'chat.completion.chunk',
    created: CREATED,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [
      { index: 0, delta, finish_reason: finish, native_finish_reason: finish && 'tool_use', logprobs: null },
    ],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          logprobs: null,
          finish_reason: 'tool_calls',
          native_finish_reason: 'tool_use',
          index: 0,
          message: {
            role: 'assistant',
            content: "I'll look at the workspace first.",
            refusal: null,
            reasoning: null,
            tool_calls: [
              {
                id: 'toolu_01A09q90qw90lq917835',
                index: 0,
                type: 'function',
                function: { name: 'bash', arguments: ARGS },
              },
            ],
          },
        },
      ],
      usage: u,
    },
    sse: [
      ': OPENROUTER PROCESSING',
      chunk({ role: 'assistant', content: "I'll look", reasoning: null }),
      chunk({ role: 'assistant', content: ' at the workspace first.', reasoning: null }),
      chunk({
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            index: 0,
            id: 'toolu_01A09q90qw90lq917835',
            type: 'function',
            function: { name: 'bash', arguments: '' },
          },
        ],
      }),
      ...PIECES.map((a) =>
        chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, function: { arguments: a } }] }),
      ),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      { ...env, choices: [], usage: u },
      '[DONE]',
    ],
  };
}

// ---- LiteLLM proxy in front of Anthropic (https://docs.litellm.ai/docs/completion/prompt_caching):
// Anthropic's cache counters next to the OpenAI fields ----

function litellmClaude(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'claude-sonnet-4-5';
  const u = {
    prompt_tokens: 14031,
    completion_tokens: 57,
    total_tokens: 14088,
    cache_creation_input_tokens: 161,
    cache_read_input_tokens: 13870,
  };
  const env = {
    id: 'chatcmpl-5e1c0b4f',
    created: CREATED,
    model,
    object: 'chat.completion.chunk',
    system_fingerprint: null,
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          finish_reason: 'tool_calls',
          index: 0,
          message: {
            content: "I'll look at the workspace first.",
            role: 'assistant',
            tool_calls: [
              { index: 0, function: { arguments: ARGS, name: 'bash' }, id: 'toolu_01XyZ', type: 'function' },
            ],
          },
        },
      ],
      usage: u,
    },
    sse: [
      chunk({ content: "I'll look at the workspace first.", role: 'assistant' }),
      chunk({
        tool_calls: [
          { id: 'toolu_01XyZ', function: { arguments: '', name: 'bash' }, type: 'function', index: 0 },
        ],
      }),
      ...PIECES.map((a) =>
        chunk({ tool_calls: [{ function: { arguments: a }, type: 'function', index: 0 }] }),
      ),
      chunk({}, 'tool_calls'),
      { ...env, choices: [{ index: 0, delta: {}, finish_reason: null }], usage: u },
      '[DONE]',
    ],
  };
}

// ---- DeepSeek thinking mode (https://api-docs.deepseek.com/guides/thinking_mode,
// https://api-docs.deepseek.com/api/create-chat-completion: prompt_cache_hit_tokens) ----

const DS_REASONING = 'The user wants the paper reproduced. I should look at the workspace first.';

function deepseek(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'deepseek-reasoner';
  const u = {
    prompt_tokens: 2412,
    completion_tokens: 140,
    total_tokens: 2552,
    prompt_cache_hit_tokens: 2304,
    prompt_cache_miss_tokens: 108,
    completion_tokens_details: { reasoning_tokens: 120 },
  };
  const env = {
    id: '930c60df-bf64-41c9-a88e-3ec75f81e00e',
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    system_fingerprint: 'fp_7e0991cad4',
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: '',
            reasoning_content: DS_REASONING,
            tool_calls: [
              { index: 0, id: 'call_00_kX3', type: 'function', function: { name: 'bash', arguments: ARGS } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: u,
    },
    sse: [
      chunk({ role: 'assistant', content: null, reasoning_content: '' }),
      chunk({ content: null, reasoning_content: DS_REASONING.slice(0, 30) }),
      chunk({ content: null, reasoning_content: DS_REASONING.slice(30) }),
      chunk({
        content: null,
        reasoning_content: null,
        tool_calls: [
          { index: 0, id: 'call_00_kX3', type: 'function', function: { name: 'bash', arguments: '' } },
        ],
      }),
      ...PIECES.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
      chunk({ content: '', reasoning_content: null }, 'tool_calls'),
      { ...env, choices: [], usage: u },
      '[DONE]',
    ],
  };
}

// ---- vLLM with a reasoning parser and a tool parser, e.g. Qwen3 (`--reasoning-parser qwen3
// --tool-call-parser hermes`; https://docs.vllm.ai/en/latest/features/reasoning_outputs.html,
// https://docs.vllm.ai/en/latest/features/tool_calling.html). Newer builds name the field `reasoning`. ----

function vllm(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'Qwen/Qwen3-32B';
  const u = { prompt_tokens: 2412, total_tokens: 2530, completion_tokens: 118, prompt_tokens_details: null };
  const env = { id: 'chatcmpl-9f1c2d3e4f', object: 'chat.completion.chunk', created: CREATED, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, stop_reason: null }],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            reasoning_content: 'I should list the files.',
            content: null,
            tool_calls: [
              { id: 'chatcmpl-tool-5a4b3c', type: 'function', function: { name: 'bash', arguments: ARGS } },
            ],
          },
          logprobs: null,
          finish_reason: 'tool_calls',
          stop_reason: null,
        },
      ],
      usage: u,
      prompt_logprobs: null,
    },
    sse: [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'I should list' }),
      chunk({ reasoning_content: ' the files.' }),
      chunk({
        tool_calls: [{ id: 'chatcmpl-tool-5a4b3c', type: 'function', index: 0, function: { name: 'bash' } }],
      }),
      ...PIECES.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
      chunk({ content: '' }, 'tool_calls'),
      { ...env, choices: [], usage: u },
      '[DONE]',
    ],
  };
}

// ---- Ollama's OpenAI compatibility (https://docs.ollama.com/api/openai-compatibility): the whole
// tool call in one chunk, `reasoning` for thinking models; older servers send no usage when streaming. ----

function ollama(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'qwen3:8b';
  const env = {
    id: 'chatcmpl-123',
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    system_fingerprint: 'fp_ollama',
  };
  const call = {
    id: 'call_v7sb2ckd',
    index: 0,
    type: 'function',
    function: { name: 'bash', arguments: '{"command":"ls -la"}' },
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: '',
            reasoning: 'I need to list the files.',
            tool_calls: [call],
          },
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 2390, completion_tokens: 61, total_tokens: 2451 },
    },
    sse: [
      chunk({ role: 'assistant', content: '', reasoning: 'I need to list' }),
      chunk({ role: 'assistant', content: '', reasoning: ' the files.' }),
      chunk({ role: 'assistant', content: '', tool_calls: [call] }),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      '[DONE]',
    ],
  };
}

// ---- llama.cpp server (tools/server/README.md; usage and timings ride on the finish_reason chunk,
// ggml-org/llama.cpp#15443; `timings.cache_n` = prompt tokens reused from the KV cache;
// reasoning_content with the default --reasoning-format). It answers with its own model name. ----

function llamacpp(): Pick<DialectCase, 'json' | 'sse'> {
  const u = { completion_tokens: 25, prompt_tokens: 2412, total_tokens: 2437 };
  const timings = { cache_n: 2300, prompt_n: 112, prompt_ms: 180.2, predicted_n: 25, predicted_ms: 410.7 };
  const env = {
    created: CREATED,
    id: 'chatcmpl-Zr8mN2',
    model: 'gpt-3.5-turbo',
    system_fingerprint: 'b6210-a094f38',
    object: 'chat.completion.chunk',
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    choices: [{ finish_reason: finish, index: 0, delta }],
    ...env,
  });
  return {
    json: {
      choices: [
        {
          finish_reason: 'tool_calls',
          index: 0,
          message: {
            role: 'assistant',
            content: null,
            reasoning_content: 'List the files first.',
            tool_calls: [
              { type: 'function', function: { name: 'bash', arguments: ARGS }, id: 'kX9bLm2QpR7tYz4W' },
            ],
          },
        },
      ],
      ...env,
      object: 'chat.completion',
      usage: u,
      timings,
    },
    sse: [
      chunk({ role: 'assistant', content: null }),
      chunk({ reasoning_content: 'List the files' }),
      chunk({ reasoning_content: ' first.' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'kX9bLm2QpR7tYz4W', type: 'function', function: { name: 'bash', arguments: '' } },
        ],
      }),
      ...PIECES.map((a) => chunk({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
      { ...chunk({}, 'tool_calls'), usage: u, timings },
      '[DONE]',
    ],
  };
}

// ---- LM Studio (https://lmstudio.ai/docs/app/api/endpoints/openai) with "separate reasoning_content"
// off: the thinking stays in <think> tags at the start of the content. The stream is recorded without
// a usage chunk, the case our estimate covers (a usage chunk would be read like OpenAI's). ----

const LMS_CONTENT = '<think>\nI should list the files.\n</think>\n\nLet me look at the workspace.';

function lmstudio(): Pick<DialectCase, 'json' | 'sse'> {
  const model = 'qwen/qwen3-8b';
  const env = {
    id: 'chatcmpl-lms7x2',
    object: 'chat.completion.chunk',
    created: CREATED,
    model,
    system_fingerprint: 'qwen/qwen3-8b',
  };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  return {
    json: {
      ...env,
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          logprobs: null,
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: LMS_CONTENT,
            tool_calls: [{ id: '365174485', type: 'function', function: { name: 'bash', arguments: ARGS } }],
          },
        },
      ],
      usage: { prompt_tokens: 2405, completion_tokens: 44, total_tokens: 2449 },
      stats: {},
    },
    sse: [
      chunk({ role: 'assistant', content: '<think>' }),
      chunk({ role: 'assistant', content: '\nI should list the files.\n' }),
      chunk({ role: 'assistant', content: '</think>' }),
      chunk({ role: 'assistant', content: '\n\nLet me look at the workspace.' }),
      chunk({
        role: 'assistant',
        tool_calls: [
          { index: 0, id: '365174485', type: 'function', function: { name: 'bash', arguments: '' } },
        ],
      }),
      ...PIECES.map((a) =>
        chunk({
          role: 'assistant',
          tool_calls: [{ index: 0, type: 'function', function: { arguments: a } }],
        }),
      ),
      chunk({}, 'tool_calls'),
      '[DONE]',
    ],
  };
}

const PLAIN = { maxOutputTokens: 4096, temperature: 0.2 };
const STREAM_USAGE = { stream_options: { include_usage: true } };

export const dialectCases: DialectCase[] = [
  {
    row: 'OpenAI (gpt-4.1)',
    doc: 'https://platform.openai.com/docs/api-reference/chat',
    model: 'gpt-4.1',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [],
    replaysReasoning: false,
    ...openai('gpt-4.1-2025-04-14', 0, null),
    parsed: { content: null, finishReason: 'tool_calls', usage: usage(2412, 2304, 18) },
  },
  {
    row: 'OpenAI reasoning (o3, o4-mini, gpt-5)',
    doc: 'https://platform.openai.com/docs/guides/reasoning',
    model: 'o3',
    client: PLAIN,
    sends: { max_completion_tokens: 4096 },
    omits: ['max_tokens', 'temperature'],
    cacheMarks: [],
    replaysReasoning: false,
    ...openai('o3-2025-04-16', 192, 'Listing the workspace.'),
    parsed: { content: 'Listing the workspace.', finishReason: 'tool_calls', usage: usage(2412, 2304, 210) },
  },
  {
    row: 'Anthropic via OpenRouter',
    doc: 'https://openrouter.ai/docs/features/prompt-caching',
    model: 'anthropic/claude-sonnet-4.5',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [1, 4],
    replaysReasoning: false,
    ...openrouterClaude(),
    parsed: {
      content: "I'll look at the workspace first.",
      finishReason: 'tool_calls',
      usage: usage(14031, 13870, 57),
    },
  },
  {
    row: 'Anthropic via LiteLLM',
    doc: 'https://docs.litellm.ai/docs/completion/prompt_caching',
    model: 'claude-sonnet-4-5',
    client: {},
    sends: {},
    omits: ['max_tokens', 'max_completion_tokens', 'temperature'],
    cacheMarks: [1, 4],
    replaysReasoning: false,
    ...litellmClaude(),
    parsed: {
      content: "I'll look at the workspace first.",
      finishReason: 'tool_calls',
      usage: usage(14031, 13870, 57),
    },
  },
  {
    row: 'DeepSeek (thinking mode)',
    doc: 'https://api-docs.deepseek.com/guides/thinking_mode',
    model: 'deepseek-reasoner',
    client: {},
    sends: {},
    omits: ['temperature'],
    cacheMarks: [],
    replaysReasoning: true,
    ...deepseek(),
    parsed: {
      content: null,
      reasoning: DS_REASONING,
      finishReason: 'tool_calls',
      usage: usage(2412, 2304, 140),
    },
  },
  {
    row: 'vLLM',
    doc: 'https://docs.vllm.ai/en/latest/features/reasoning_outputs.html',
    model: 'Qwen/Qwen3-32B',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [],
    replaysReasoning: false,
    ...vllm(),
    parsed: {
      content: null,
      reasoning: 'I should list the files.',
      finishReason: 'tool_calls',
      usage: usage(2412, 0, 118),
    },
  },
  {
    row: 'Ollama',
    doc: 'https://docs.ollama.com/api/openai-compatibility',
    model: 'qwen3:8b',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [],
    replaysReasoning: false,
    ...ollama(),
    parsed: {
      content: null,
      reasoning: 'I need to list the files.',
      finishReason: 'tool_calls',
      usage: usage(2390, 0, 61),
    },
    parsedStream: { usage: 'estimated' },
  },
  {
    row: 'llama.cpp server',
    doc: 'https://github.com/ggml-org/llama.cpp/blob/master/tools/server/README.md',
    model: 'qwen2.5-coder-7b',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [],
    replaysReasoning: false,
    ...llamacpp(),
    parsed: {
      content: null,
      reasoning: 'List the files first.',
      finishReason: 'tool_calls',
      usage: usage(2412, 2300, 25),
    },
  },
  {
    row: 'LM Studio',
    doc: 'https://lmstudio.ai/docs/app/api/endpoints/openai',
    model: 'qwen/qwen3-8b',
    client: PLAIN,
    sends: { max_tokens: 4096, temperature: 0.2 },
    omits: ['max_completion_tokens'],
    cacheMarks: [],
    replaysReasoning: false,
    ...lmstudio(),
    parsed: {
      content: 'Let me look at the workspace.',
      reasoning: 'I should list the files.',
      finishReason: 'tool_calls',
      usage: usage(2405, 0, 44),
    },
    parsedStream: { usage: 'estimated' },
  },
];

/** Request fields every case must send when streaming. */
export const streamFields = { stream: true, ...STREAM_USAGE };
