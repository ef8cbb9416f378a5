/**
 * ModelClient for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, OpenRouter, ...), on the
 * `openai` package. We do our own retries (the package's are turned off) so that each retry is
 * visible to the caller, Retry-After is honoured with a cap, and a stalled stream counts as a
 * transient failure.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import {
  type Dialect,
  dialectOf,
  estimateUsage,
  reasoningOf,
  splitThink,
  usageOf,
  wireMessages,
} from './dialects';
import { abortableSleep, abortError } from './sleep';
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  ContextLengthError,
  FatalModelError,
  type ModelClient,
  ModelUnavailableError,
  type ToolCall,
  type Usage,
} from './types';

export interface RetryInfo {
  /** The retry that follows the wait (1 = the second attempt). */
  attempt: number;
  /** Retries allowed in all (attempts = maxRetries + 1). */
  maxRetries: number;
  delayMs: number;
  reason: string;
}

export interface OpenAIClientOptions {
  baseURL: string;
  apiKey: string;
  model: string;
  /** Stream responses (default true). Some local servers only do non-streaming. */
  stream?: boolean;
  /** Retries after the first attempt for 429/5xx/timeouts/stalls (default 6). */
  maxRetries?: number;
  /** First backoff delay; doubles each retry (default 1000 ms). */
  baseDelayMs?: number;
  /** Upper bound for any single wait, including a server's Retry-After (default 120 s). */
  maxDelayMs?: number;
  /** No byte from the server for this long (before or during the stream) = stalled (default 120 s). */
  stallTimeoutMs?: number;
  /** Sent as max_tokens, or max_completion_tokens for reasoning models. */
  maxOutputTokens?: number;
  /** Not sent to reasoning models (o-series, gpt-5), which refuse it. */
  temperature?: number;
  /** Override what is detected from the model name and base URL (see dialects.ts). */
  dialect?: Partial<Dialect>;
  onRetry?: (info: RetryInfo) => void;
  /** For tests: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const PARAMS = [
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'stream_options',
  'response_format',
] as const;
type Param = (typeof PARAMS)[number];

type Classified =
  | { kind: 'retry'; reason: string; delayMs?: number; status?: number }
  | { kind: 'throw'; error: Error };

class StallError extends Error {}

export class OpenAIModelClient implements ModelClient {
  readonly model: string;
  readonly dialect: Dialect;
  /** Parameters the endpoint refused (a 400 naming them): not sent again. See adapt(). */
  private readonly refused = new Set<Param>();
  private readonly client: OpenAI;

  constructor(private readonly opts: OpenAIClientOptions) {
    this.model = opts.model;
    this.dialect = dialectOf(opts.model, opts.baseURL, opts.dialect);
    // timeout here is only a backstop: the stall timer below is what normally fires.
    this.client = new OpenAI({
      baseURL: opts.baseURL,
      apiKey: opts.apiKey,
      maxRetries: 0,
      timeout: 30 * 60_000,
    });
  }

  /** Model ids the endpoint lists (for "Test connection"); errors are mapped like chat(). */
  async listModels(signal?: AbortSignal): Promise<string[]> {
    try {
      const ids: string[] = [];
      for await (const m of this.client.models.list({ signal })) ids.push(m.id);
      return ids;
    } catch (err) {
      const c = this.classify(err, signal);
      throw c.kind === 'throw' ? c.error : new ModelUnavailableError(c.reason, c.status);
    }
  }

  async chat(req: ChatRequest): Promise<ChatResponse> {
    const maxRetries = this.opts.maxRetries ?? 6;
    const sleep = this.opts.sleep ?? abortableSleep;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(req);
      } catch (err) {
        const c = this.classify(err, req.signal, req);
        if (c.kind === 'throw') throw c.error;
        if (attempt >= maxRetries) {
          throw new ModelUnavailableError(
            `The model endpoint ${this.opts.baseURL} kept failing (${c.reason}) after ${attempt + 1} attempts. The session is saved; resume it later.`,
            c.status,
          );
        }
        const backoff =
          Math.min((this.opts.baseDelayMs ?? 1000) * 2 ** attempt, 60_000) * (0.8 + 0.4 * Math.random());
        const delayMs = Math.min(c.delayMs ?? backoff, this.opts.maxDelayMs ?? 120_000);
        this.opts.onRetry?.({ attempt: attempt + 1, maxRetries, delayMs, reason: c.reason });
        await sleep(delayMs, req.signal);
      }
    }
  }

  private async once(req: ChatRequest): Promise<ChatResponse> {
    const ctrl = new AbortController();
    const onAbort = () => ctrl.abort(req.signal?.reason);
    if (req.signal?.aborted) throw new APIUserAbortError();
    req.signal?.addEventListener('abort', onAbort, { once: true });
    let stalled = false;
    let timer: NodeJS.Timeout | undefined;
    // Without streaming nothing arrives until the whole reply is written: allow for that.
    const stallMs =
      this.opts.stream === false
        ? Math.max(this.opts.stallTimeoutMs ?? 0, 600_000)
        : (this.opts.stallTimeoutMs ?? 120_000);
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        ctrl.abort(new StallError());
      }, stallMs);
    };
    arm();
    const d = this.dialect;
    const body = {
      model: this.model,
      messages: wireMessages(req.messages, d, req.headLength),
      ...(req.tools.length ? { tools: req.tools.map(toWireTool) } : {}),
      ...(req.tools.length && req.toolChoice ? { tool_choice: req.toolChoice } : {}),
      ...(req.responseFormat && !this.refused.has('response_format')
        ? { response_format: req.responseFormat }
        : {}),
      ...this.limits(),
    };
    try {
      if (this.opts.stream === false) {
        const r = await this.client.chat.completions.create(
          { ...body, stream: false },
          { signal: ctrl.signal },
        );
        const choice = r.choices[0];
        const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).flatMap((c, i) =>
          c.type === 'function'
            ? [
                {
                  id: c.id || callId(i),
                  name: c.function.name,
                  arguments: argumentsText(c.function.arguments),
                },
              ]
            : [],
        );
        if (choice?.message.content) req.onDelta?.(choice.message.content);
        return this.response(req, {
          content: choice?.message.content ?? null,
          reasoning: reasoningOf(choice?.message),
          toolCalls,
          usage: usageOf(r.usage, (r as { timings?: unknown }).timings),
          finishReason: choice?.finish_reason ?? null,
        });
      }
      const stream = await this.client.chat.completions.create(
        {
          ...body,
          stream: true,
          ...(this.refused.has('stream_options') ? {} : { stream_options: { include_usage: true } }),
        },
        { signal: ctrl.signal },
      );
      let content = '';
      let reasoning = '';
      let finishReason: string | null = null;
      let usage: Usage | undefined;
      const calls: { id: string; name: string; arguments: string }[] = [];
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        arm();
        // OpenAI sends usage in a last chunk without choices; llama.cpp with the finish_reason chunk.
        if (chunk.usage) usage = usageOf(chunk.usage, (chunk as { timings?: unknown }).timings) ?? usage;
        const choice = chunk.choices?.[0];
        if (!choice?.delta) continue;
        if (choice.delta.content) {
          content += choice.delta.content;
          req.onDelta?.(choice.delta.content);
        }
        reasoning += reasoningOf(choice.delta) ?? '';
        for (const d of choice.delta.tool_calls ?? []) {
          // Without an index (some servers): a new id starts a call, anything else continues the last.
          const last = calls.length - 1;
          const at =
            typeof d.index === 'number'
              ? d.index
              : d.id && calls[last]?.id !== d.id
                ? last + 1
                : Math.max(0, last);
          calls[at] ??= { id: '', name: '', arguments: '' };
          const c = calls[at]!;
          if (d.id) c.id = d.id;
          // A name sent whole in every chunk is not repeated.
          if (d.function?.name && c.name !== d.function.name) c.name += d.function.name;
          if (d.function?.arguments) c.arguments += argumentsText(d.function.arguments);
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      // An aborted stream may just end: check why it ended before trusting what arrived.
      if (stalled) throw new StallError(`no data from the endpoint for ${Math.round(stallMs / 1000)} s`);
      if (req.signal?.aborted) throw abortError(req.signal);
      const toolCalls = calls.filter(Boolean).map((c, i) => ({ ...c, id: c.id || callId(i) }));
      return this.response(req, {
        content: content || null,
        reasoning: reasoning || undefined,
        toolCalls,
        usage,
        finishReason,
      });
    } catch (err) {
      if (stalled) throw new StallError(`no data from the endpoint for ${Math.round(stallMs / 1000)} s`);
      throw err;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  /** The response as the agent keeps it: reasoning where the provider wants it, usage always. */
  private response(
    req: ChatRequest,
    r: {
      content: string | null;
      reasoning: string | undefined;
      toolCalls: ToolCall[];
      usage: Usage | undefined;
      finishReason: string | null;
    },
  ): ChatResponse {
    const think = splitThink(r.content);
    const reasoning = [r.reasoning, think.reasoning].filter(Boolean).join('\n\n') || undefined;
    const message = assistant(think.content || null, r.toolCalls);
    if (reasoning && this.dialect.replayReasoning) message.reasoning = reasoning;
    return {
      message,
      ...(reasoning && !this.dialect.replayReasoning ? { reasoning } : {}),
      usage:
        r.usage ??
        estimateUsage(req.messages, req.tools, { content: think.content, reasoning, toolCalls: r.toolCalls }),
      finishReason: r.finishReason,
    };
  }

  /** The output limit and temperature as this endpoint takes them. */
  private limits(): { max_tokens?: number; max_completion_tokens?: number; temperature?: number } {
    const out: { max_tokens?: number; max_completion_tokens?: number; temperature?: number } = {};
    const max = this.opts.maxOutputTokens;
    // max_tokens for everyone but reasoning models: Ollama, llama.cpp, older vLLM ignore the other.
    const keys: Param[] = this.dialect.reasoningModel
      ? ['max_completion_tokens', 'max_tokens']
      : ['max_tokens', 'max_completion_tokens'];
    const key = keys.find((k) => !this.refused.has(k));
    if (max && key) out[key as 'max_tokens'] = max;
    const t = this.opts.temperature;
    if (t !== undefined && !this.dialect.reasoningModel && !this.refused.has('temperature'))
      out.temperature = t;
    return out;
  }

  /**
   * A 400 naming a parameter we sent that the endpoint does not take (a reasoning model under a
   * name we do not recognise, a gateway without stream_options): stop sending it and retry at once.
   * The parameter named first is the culprit ("Unsupported parameter: 'max_tokens' … Use
   * 'max_completion_tokens' instead."). Each parameter is given up at most once.
   */
  private adapt(detail: string, req?: ChatRequest): string | undefined {
    // Structured output is refused in other words too ("json_schema is not supported").
    const mention = (p: Param) =>
      p === 'response_format' ? '\\b(response_format|json_schema)\\b' : `\\b${p}\\b`;
    const first = PARAMS.map((p) => ({ p, at: detail.search(new RegExp(mention(p))) }))
      .filter((x) => x.at >= 0 && !this.refused.has(x.p))
      .sort((a, b) => a.at - b.at)[0];
    if (!first) return undefined;
    const sent =
      first.p === 'stream_options'
        ? this.opts.stream !== false
        : first.p === 'response_format'
          ? req?.responseFormat !== undefined
          : first.p in this.limits();
    if (!sent) return undefined;
    this.refused.add(first.p);
    return `the endpoint does not take ${first.p}: ${detail}; sending the request without it`;
  }

  private classify(err: unknown, signal?: AbortSignal, req?: ChatRequest): Classified {
    if (signal?.aborted) return { kind: 'throw', error: abortError(signal) };
    if (err instanceof StallError) return { kind: 'retry', reason: `stalled stream: ${err.message}` };
    const where = this.opts.baseURL;
    if (err instanceof APIError && err.status !== undefined) {
      const s = err.status;
      const detail = apiMessage(err);
      if (s === 401)
        return {
          kind: 'throw',
          error: new FatalModelError(
            `The endpoint rejected the API key (401) at ${where}. Set a valid key (OPENAI_API_KEY or KLONG_API_KEY for the CLI; "KLong: Set model API key" in VS Code) and resume the session.`,
            s,
          ),
        };
      if (s === 403)
        return {
          kind: 'throw',
          error: new FatalModelError(
            `The endpoint refused access (403) at ${where}: ${detail}. Check the key's permissions for model "${this.model}" and resume the session.`,
            s,
          ),
        };
      if (s === 404)
        return {
          kind: 'throw',
          error: new FatalModelError(
            `Model "${this.model}" not found at ${where} (404): ${detail}. Check the model name and the base URL (it usually ends in /v1).`,
            s,
          ),
        };
      if (isContextLength(err)) return { kind: 'throw', error: new ContextLengthError(detail) };
      const adapted = s === 400 ? this.adapt(detail, req) : undefined;
      if (adapted) return { kind: 'retry', reason: adapted, status: s, delayMs: 0 };
      if (s === 408 || s === 409 || s === 429 || s >= 500) {
        return { kind: 'retry', reason: `${s} ${detail}`, status: s, delayMs: retryAfterMs(err.headers) };
      }
      return {
        kind: 'throw',
        error: new FatalModelError(`The endpoint refused the request (${s}) at ${where}: ${detail}`, s),
      };
    }
    if (err instanceof APIUserAbortError) return { kind: 'retry', reason: 'request aborted' };
    if (err instanceof APIConnectionError)
      return { kind: 'retry', reason: `cannot reach ${this.opts.baseURL}: ${networkCause(err)}` };
    return { kind: 'throw', error: err instanceof Error ? err : new Error(String(err)) };
  }
}

/** "ECONNREFUSED 127.0.0.1:9" rather than the client's "Connection error.": the cause at the bottom of the chain. */
function networkCause(err: Error): string {
  let e: unknown = err;
  for (let i = 0; i < 5 && (e as { cause?: unknown }).cause; i++) e = (e as { cause: unknown }).cause;
  const { code, message } = e as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : err.message;
  return typeof code === 'string' && !text.includes(code) ? `${code} ${text}` : text;
}

function apiMessage(err: APIError): string {
  const e = err.error as { message?: unknown } | undefined;
  return typeof e?.message === 'string' ? e.message : err.message;
}

function isContextLength(err: APIError): boolean {
  if (err.code === 'context_length_exceeded') return true;
  return (
    err.status === 400 &&
    /context length|context window|maximum context|too many tokens|prompt is too long/i.test(apiMessage(err))
  );
}

/** Retry-After (seconds or HTTP date) or retry-after-ms, in milliseconds. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers?.get('retry-after');
  if (!ra) return undefined;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Number(ra) * 1000;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

let calls = 0;
/** Some servers (llama.cpp, Ollama) send tool calls without ids; the context needs one to link results. */
function callId(i: number): string {
  return `call_${Date.now().toString(36)}_${++calls}_${i}`;
}

/** Arguments as text: a few servers send the object itself instead of its JSON encoding. */
function argumentsText(a: unknown): string {
  return typeof a === 'string' ? a : a === undefined || a === null ? '' : JSON.stringify(a);
}

function assistant(
  content: string | null,
  toolCalls: ToolCall[],
): Extract<ChatMessage, { role: 'assistant' }> {
  return toolCalls.length ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content };
}

export { toWire } from './dialects';

export function toWireTool(t: {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}): ChatCompletionTool {
  return {
    type: 'function',
    function: { name: t.name, description: t.description, parameters: t.parameters },
  };
}
