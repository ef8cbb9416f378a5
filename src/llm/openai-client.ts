/**
 * ModelClient for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, OpenRouter, ...), on the
 * `openai` package. We do our own retries (the package's are turned off) so that each retry is
 * visible to the caller, Retry-After is honoured with a cap, and a stalled stream counts as a
 * transient failure.
 */
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionMessageParam,
  ChatCompletionTool,
} from 'openai/resources/chat/completions';
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
  attempt: number;
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
  maxOutputTokens?: number;
  temperature?: number;
  onRetry?: (info: RetryInfo) => void;
  /** For tests: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

type Classified =
  | { kind: 'retry'; reason: string; delayMs?: number; status?: number }
  | { kind: 'throw'; error: Error };

class StallError extends Error {}

export class OpenAIModelClient implements ModelClient {
  readonly model: string;
  private readonly client: OpenAI;

  constructor(private readonly opts: OpenAIClientOptions) {
    this.model = opts.model;
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
        const c = this.classify(err, req.signal);
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
        this.opts.onRetry?.({ attempt: attempt + 1, delayMs, reason: c.reason });
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
    const body = {
      model: this.model,
      messages: req.messages.map(toWire),
      ...(req.tools.length ? { tools: req.tools.map(toWireTool) } : {}),
      ...(req.tools.length && req.toolChoice ? { tool_choice: req.toolChoice } : {}),
      ...(this.opts.maxOutputTokens ? { max_completion_tokens: this.opts.maxOutputTokens } : {}),
      ...(this.opts.temperature !== undefined ? { temperature: this.opts.temperature } : {}),
    };
    try {
      if (this.opts.stream === false) {
        const r = await this.client.chat.completions.create(
          { ...body, stream: false },
          { signal: ctrl.signal },
        );
        const choice = r.choices[0];
        const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).flatMap((c) =>
          c.type === 'function' ? [{ id: c.id, name: c.function.name, arguments: c.function.arguments }] : [],
        );
        if (choice?.message.content) req.onDelta?.(choice.message.content);
        return {
          message: assistant(choice?.message.content ?? null, toolCalls),
          usage: usageOf(r.usage),
          finishReason: choice?.finish_reason ?? null,
        };
      }
      const stream = await this.client.chat.completions.create(
        { ...body, stream: true, stream_options: { include_usage: true } },
        { signal: ctrl.signal },
      );
      let content = '';
      let finishReason: string | null = null;
      let usage: Usage = { promptTokens: 0, cachedTokens: 0, completionTokens: 0 };
      const calls: { id: string; name: string; arguments: string }[] = [];
      for await (const chunk of stream as AsyncIterable<ChatCompletionChunk>) {
        arm();
        if (chunk.usage) usage = usageOf(chunk.usage);
        const choice = chunk.choices[0];
        if (!choice) continue;
        if (choice.delta.content) {
          content += choice.delta.content;
          req.onDelta?.(choice.delta.content);
        }
        for (const d of choice.delta.tool_calls ?? []) {
          calls[d.index] ??= { id: '', name: '', arguments: '' };
          const c = calls[d.index]!;
          if (d.id) c.id = d.id;
          if (d.function?.name) c.name += d.function.name;
          if (d.function?.arguments) c.arguments += d.function.arguments;
        }
        if (choice.finish_reason) finishReason = choice.finish_reason;
      }
      // An aborted stream may just end: check why it ended before trusting what arrived.
      if (stalled) throw new StallError(`no data from the endpoint for ${Math.round(stallMs / 1000)} s`);
      if (req.signal?.aborted) throw abortError(req.signal);
      const toolCalls = calls
        .filter(Boolean)
        .map((c, i) => ({ ...c, id: c.id || `call_${Date.now()}_${i}` }));
      return { message: assistant(content || null, toolCalls), usage, finishReason };
    } catch (err) {
      if (stalled) throw new StallError(`no data from the endpoint for ${Math.round(stallMs / 1000)} s`);
      throw err;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onAbort);
    }
  }

  private classify(err: unknown, signal?: AbortSignal): Classified {
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

function abortError(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error('The request was aborted');
  e.name = 'AbortError';
  return e;
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function usageOf(u: OpenAI.CompletionUsage | undefined | null): Usage {
  return {
    promptTokens: u?.prompt_tokens ?? 0,
    cachedTokens: u?.prompt_tokens_details?.cached_tokens ?? 0,
    completionTokens: u?.completion_tokens ?? 0,
  };
}

function assistant(
  content: string | null,
  toolCalls: ToolCall[],
): Extract<ChatMessage, { role: 'assistant' }> {
  return toolCalls.length ? { role: 'assistant', content, toolCalls } : { role: 'assistant', content };
}

/** A message in OpenAI's wire format (also the chat format of SFT exports). */
export function toWire(m: ChatMessage): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant':
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
          }
        : { role: 'assistant', content: m.content ?? '' };
  }
}

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
