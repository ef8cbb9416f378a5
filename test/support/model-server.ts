/**
 * A scripted OpenAI-compatible server for tests (real HTTP on 127.0.0.1, port 0).
 *
 *   const s = await startModelServer([
 *     reply({ toolCalls: [call('bash', { command: 'ls' })] }),
 *     faults.rateLimit(1),                        // 429 + Retry-After: 1
 *     (req) => reply(`you said ${lastUser(req)}`),
 *   ]);
 *   // point a client at s.url (ends with /v1); afterwards:
 *   s.requests   // every /v1/chat/completions body received, in order (parsed JSON)
 *   s.served     // what each request got: 'reply' | fault kind
 *   await s.close();
 *
 * Each chat request consumes the next script step. A step is a reply, a fault, or a function of
 * the request returning either (sync or async). `script` may also be a function `(req, i) => step`
 * for open-ended sessions. A request after the script is exhausted gets a 400 "script exhausted"
 * and is counted in `s.exhausted`.
 *
 * Usage: prompt tokens are counted with o200k (gpt-tokenizer, test-only) per message plus 4 per
 * message and the tools JSON; `cached_tokens` is the token count of the leading messages identical
 * to the previous request's (and the same tools). If `contextLimit` is set, a request whose prompt
 * is over it gets OpenAI's 400 `context_length_exceeded` automatically and counts in `overLimit`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

export interface ReplyToolCall {
  name: string;
  /** An object is JSON-encoded; a string is sent as is (so it may be malformed on purpose). */
  arguments: string | Record<string, unknown>;
  id?: string;
}

export interface Reply {
  kind: 'reply';
  content?: string;
  toolCalls?: ReplyToolCall[];
  /** Usage override (otherwise computed). */
  completionTokens?: number;
}

export type Fault =
  | { kind: 'rate_limit'; retryAfterSeconds: number }
  | { kind: 'server_error' }
  /** Streaming: headers and one role chunk are sent, then nothing until the client gives up. */
  | { kind: 'stall' }
  | { kind: 'context_length' }
  | { kind: 'unauthorized' }
  | { kind: 'forbidden' }
  | { kind: 'model_not_found' }
  /** 400 invalid_request_error with this message (e.g. an unsupported parameter). */
  | { kind: 'bad_request'; message: string; param?: string };

/**
 * A response written by hand in a provider's documented shape (see test/support/dialect-shapes.ts):
 * `json` answers a non-streamed request, `sse` a streamed one (each item one `data:` line; a string
 * is sent as is, e.g. "[DONE]").
 */
export interface Recorded {
  kind: 'recorded';
  json?: unknown;
  sse?: (string | Record<string, unknown>)[];
}

export type StepResult = Reply | Fault | Recorded;
export type ScriptStep = StepResult | ((req: ChatBody, index: number) => StepResult | Promise<StepResult>);
export type Script = ScriptStep[] | ((req: ChatBody, index: number) => ScriptStep);

/** The request body as the server parsed it (OpenAI wire format). */
export interface ChatBody {
  model: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: { type: 'function'; function: { name: string; description?: string; parameters?: unknown } }[];
  messages: WireMessage[];
  [k: string]: unknown;
}

export interface WireMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** Text parts instead when the client marks a prompt-cache breakpoint (see `textOf`). */
  content: string | null;
  reasoning_content?: string;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

export interface ModelServer {
  /** Base URL including /v1, for the openai client's baseURL. */
  url: string;
  requests: ChatBody[];
  /** Prompt tokens the server counted for each request (same index as `requests`). */
  promptTokens: number[];
  cachedTokens: number[];
  /** Per request: 'reply' or the fault kind, or 'exhausted' / 'over_limit'. */
  served: string[];
  /** Authorization headers seen (to check the key is sent; never log them elsewhere). */
  authHeaders: (string | undefined)[];
  readonly exhausted: number;
  readonly overLimit: number;
  close(): Promise<void>;
}

export interface ModelServerOptions {
  contextLimit?: number;
  /** Model ids listed by /v1/models; a chat request for another model gets 404. Default: any. */
  models?: string[];
  /** More fields of a model's /v1/models entry (e.g. its context window as `context_length`). */
  modelInfo?: Record<string, Record<string, unknown>>;
  /** If set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Characters per streamed content delta (default 16). */
  chunkSize?: number;
  /**
   * false: keep only the last request in `requests` (and the other per-request arrays), for long
   * sessions (benchmarks) whose every request would otherwise stay in memory. Default true.
   */
  keepRequests?: boolean;
}

// ---- builders ----

export function reply(x: string | Omit<Reply, 'kind'>): Reply {
  return typeof x === 'string' ? { kind: 'reply', content: x } : { kind: 'reply', ...x };
}

export function call(name: string, args: Record<string, unknown> | string, id?: string): ReplyToolCall {
  return { name, arguments: args, ...(id ? { id } : {}) };
}

/** A reply made of tool calls only. */
export function tools(...calls: ReplyToolCall[]): Reply {
  return { kind: 'reply', toolCalls: calls };
}

export const faults = {
  rateLimit: (retryAfterSeconds = 1): Fault => ({ kind: 'rate_limit', retryAfterSeconds }),
  serverError: (): Fault => ({ kind: 'server_error' }),
  stall: (): Fault => ({ kind: 'stall' }),
  contextLength: (): Fault => ({ kind: 'context_length' }),
  unauthorized: (): Fault => ({ kind: 'unauthorized' }),
  forbidden: (): Fault => ({ kind: 'forbidden' }),
  modelNotFound: (): Fault => ({ kind: 'model_not_found' }),
  badRequest: (message: string, param?: string): Fault => ({
    kind: 'bad_request',
    message,
    ...(param ? { param } : {}),
  }),
  /** A tool call whose arguments are not valid JSON. */
  malformedArgs: (name = 'write_file'): Reply => tools(call(name, '{"path": "a.py", "content": "x = 1')),
};

/** Text of the last user or tool message of a request (handy in step functions). */
export function lastObservation(req: ChatBody): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'user' || m.role === 'tool') return textOf(m.content);
  }
  return '';
}

// ---- server ----

const tokenCache = new Map<string, number>();
function tokens(text: string): number {
  let n = tokenCache.get(text);
  if (n === undefined) {
    n = countTokens(text);
    if (tokenCache.size > 50_000) tokenCache.clear();
    tokenCache.set(text, n);
  }
  return n;
}

/** A message's text, whether it came as a string or as text parts (cache_control breakpoints). */
export function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';
}

function messageTokens(m: WireMessage): number {
  let n = 4 + tokens(textOf(m.content));
  for (const c of m.tool_calls ?? []) n += 4 + tokens(c.function.name) + tokens(c.function.arguments);
  return n;
}

function jsonError(res: ServerResponse, status: number, error: Record<string, unknown>, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify({ error }));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startModelServer(script: Script, opts: ModelServerOptions = {}): Promise<ModelServer> {
  const requests: ChatBody[] = [];
  const promptTokens: number[] = [];
  const cachedTokens: number[] = [];
  const served: string[] = [];
  const authHeaders: (string | undefined)[] = [];
  let exhausted = 0;
  let overLimit = 0;
  let prev: { tools: string; counts: number[]; messages: string[] } | undefined;
  let ids = 0;
  let seen = 0;

  async function nextStep(body: ChatBody, i: number): Promise<StepResult | undefined> {
    let step: ScriptStep | undefined;
    if (typeof script === 'function') step = script(body, i);
    else step = script[i];
    if (step === undefined) return undefined;
    return typeof step === 'function' ? await step(body, i) : step;
  }

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = JSON.parse(await readBody(req)) as ChatBody;
    if (opts.keepRequests === false)
      for (const a of [requests, promptTokens, cachedTokens, served, authHeaders]) a.length = 0;
    const i = seen++;
    requests.push(body);
    authHeaders.push(req.headers.authorization);

    const toolsJson = JSON.stringify(body.tools ?? []);
    const messages = body.messages.map((m) => JSON.stringify(m));
    const counts = body.messages.map(messageTokens);
    const prompt = counts.reduce((a, b) => a + b, 0) + (body.tools ? tokens(toolsJson) : 0);
    let cached = 0;
    if (prev && prev.tools === toolsJson) {
      cached = body.tools ? tokens(toolsJson) : 0;
      for (let k = 0; k < messages.length && messages[k] === prev.messages[k]; k++) cached += counts[k]!;
    }
    prev = { tools: toolsJson, counts, messages };
    promptTokens.push(prompt);
    cachedTokens.push(cached);

    if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
      served.push('unauthorized');
      return jsonError(res, 401, {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      });
    }
    if (opts.models && !opts.models.includes(body.model)) {
      served.push('model_not_found');
      return jsonError(res, 404, {
        message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
        type: 'invalid_request_error',
        code: 'model_not_found',
      });
    }
    if (opts.contextLimit !== undefined && prompt > opts.contextLimit) {
      overLimit++;
      served.push('over_limit');
      return contextLengthError(res, prompt);
    }

    const step = await nextStep(body, i);
    if (!step) {
      exhausted++;
      served.push('exhausted');
      return jsonError(res, 400, {
        message: `model-server: script exhausted at request ${i}`,
        type: 'invalid_request_error',
      });
    }
    served.push(step.kind === 'reply' || step.kind === 'recorded' ? 'reply' : step.kind);
    switch (step.kind) {
      case 'rate_limit':
        return jsonError(
          res,
          429,
          {
            message: 'Rate limit reached. Please try again later.',
            type: 'requests',
            code: 'rate_limit_exceeded',
          },
          { 'retry-after': String(step.retryAfterSeconds) },
        );
      case 'server_error':
        return jsonError(res, 500, {
          message: 'The server had an error while processing your request.',
          type: 'server_error',
        });
      case 'context_length':
        return contextLengthError(res, prompt);
      case 'unauthorized':
        return jsonError(res, 401, {
          message: 'Incorrect API key provided.',
          type: 'invalid_request_error',
          code: 'invalid_api_key',
        });
      case 'forbidden':
        return jsonError(res, 403, {
          message: 'You are not allowed to use this model.',
          type: 'invalid_request_error',
        });
      case 'model_not_found':
        return jsonError(res, 404, {
          message: `The model \`${body.model}\` does not exist or you do not have access to it.`,
          type: 'invalid_request_error',
          code: 'model_not_found',
        });
      case 'bad_request':
        return jsonError(res, 400, {
          message: step.message,
          type: 'invalid_request_error',
          param: step.param ?? null,
          code: 'unsupported_parameter',
        });
      case 'stall':
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          res.write(
            `data: ${JSON.stringify(chunk(body.model, { role: 'assistant', content: '' }, null))}\n\n`,
          );
        }
        return; // silence until the client disconnects or the server closes
      case 'reply':
        return sendReply(res, body, step, prompt, cached);
      case 'recorded':
        return sendRecorded(res, body, step);
    }
  }

  function contextLengthError(res: ServerResponse, prompt: number): void {
    jsonError(res, 400, {
      message: `This model's maximum context length is ${opts.contextLimit ?? 'N'} tokens. However, your messages resulted in ${prompt} tokens. Please reduce the length of the messages.`,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
  }

  function chunk(
    model: string,
    delta: Record<string, unknown>,
    finish: string | null,
  ): Record<string, unknown> {
    return {
      id: 'chatcmpl-test',
      object: 'chat.completion.chunk',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    };
  }

  function sendRecorded(res: ServerResponse, body: ChatBody, step: Recorded): void {
    if (body.stream) {
      if (!step.sse) {
        jsonError(res, 400, { message: 'model-server: no streamed shape recorded' });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // A string starting with ':' is an SSE comment (OpenRouter's ": OPENROUTER PROCESSING").
      for (const e of step.sse)
        res.write(
          typeof e === 'string' && e.startsWith(':')
            ? `${e}\n\n`
            : `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`,
        );
      res.end();
      return;
    }
    if (step.json === undefined) {
      jsonError(res, 400, { message: 'model-server: no non-streamed shape recorded' });
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(step.json));
  }

  function sendReply(res: ServerResponse, body: ChatBody, step: Reply, prompt: number, cached: number): void {
    const toolCalls = (step.toolCalls ?? []).map((c) => ({
      id: c.id ?? `call_${++ids}`,
      type: 'function' as const,
      function: {
        name: c.name,
        arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments),
      },
    }));
    const content = step.content ?? (toolCalls.length ? null : '');
    const completion =
      step.completionTokens ??
      tokens(content ?? '') + toolCalls.reduce((a, c) => a + tokens(c.function.arguments) + 4, 0);
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: cached },
    };
    const finish = toolCalls.length ? 'tool_calls' : 'stop';
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-test',
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: body.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
              finish_reason: finish,
            },
          ],
          usage,
        }),
      );
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (o: unknown) => res.write(`data: ${JSON.stringify(o)}\n\n`);
    send(chunk(body.model, { role: 'assistant', content: '' }, null));
    const size = opts.chunkSize ?? 16;
    for (let k = 0; k < (content ?? '').length; k += size) {
      send(chunk(body.model, { content: content!.slice(k, k + size) }, null));
    }
    toolCalls.forEach((c, index) => {
      send(
        chunk(
          body.model,
          {
            tool_calls: [
              { index, id: c.id, type: 'function', function: { name: c.function.name, arguments: '' } },
            ],
          },
          null,
        ),
      );
      const a = c.function.arguments;
      for (let k = 0; k < a.length; k += size) {
        send(
          chunk(body.model, { tool_calls: [{ index, function: { arguments: a.slice(k, k + size) } }] }, null),
        );
      }
    });
    send(chunk(body.model, {}, finish));
    if (body.stream_options?.include_usage) {
      send({
        id: 'chatcmpl-test',
        object: 'chat.completion.chunk',
        created: 0,
        model: body.model,
        choices: [],
        usage,
      });
    }
    res.end('data: [DONE]\n\n');
  }

  const server = createServer((req, res) => {
    const url = req.url ?? '';
    if (req.method === 'POST' && url.endsWith('/chat/completions')) {
      chat(req, res).catch((err: unknown) => {
        if (!res.headersSent)
          jsonError(res, 500, { message: `model-server: ${String(err)}`, type: 'server_error' });
        else res.destroy();
      });
    } else if (req.method === 'GET' && url.endsWith('/models')) {
      if (opts.apiKey !== undefined && req.headers.authorization !== `Bearer ${opts.apiKey}`) {
        jsonError(res, 401, { message: 'Incorrect API key provided', type: 'invalid_request_error' });
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      const data = (opts.models ?? ['test-model']).map((id) => ({
        id,
        object: 'model',
        created: 0,
        owned_by: 'test',
        ...opts.modelInfo?.[id],
      }));
      res.end(JSON.stringify({ object: 'list', data }));
    } else jsonError(res, 404, { message: `no route ${req.method} ${url}` });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    promptTokens,
    cachedTokens,
    served,
    authHeaders,
    get exhausted() {
      return exhausted;
    },
    get overLimit() {
      return overLimit;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
