/**
 * ModelClient for any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, OpenRouter, ...), on the
 * `openai` package. We do our own retries (the package's are turned off) so that each retry is
 * visible to the caller, Retry-After is honoured with a cap, and a stalled stream counts as a
 * transient failure.
 */
import OpenAI, { APIUserAbortError } from 'openai';
import type { ChatCompletionChunk, ChatCompletionTool } from 'openai/resources/chat/completions';
import { type RawReply, readCompletion, readStream } from './completion-reader';
import { type Dialect, dialectOf, estimateUsage, splitThink, wireMessages } from './dialects';
import { type Classified, classifyError } from './endpoint-errors';
import { abortableSleep, abortError } from './sleep';
import { StallWatch } from './stall-watch';
import {
  type ChatMessage,
  type ChatRequest,
  type ChatResponse,
  type ModelClient,
  ModelUnavailableError,
  type ToolCall,
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
    if (req.signal?.aborted) throw new APIUserAbortError();
    // Without streaming nothing arrives until the whole reply is written: allow for that.
    const stallMs =
      this.opts.stream === false
        ? Math.max(this.opts.stallTimeoutMs ?? 0, 600_000)
        : (this.opts.stallTimeoutMs ?? 120_000);
    const watch = new StallWatch(stallMs, req.signal);
    try {
      const raw = this.opts.stream === false ? await this.whole(req, watch) : await this.streamed(req, watch);
      return this.response(req, raw);
    } catch (err) {
      if (watch.stalled) throw watch.error();
      throw err;
    } finally {
      watch.dispose();
    }
  }

  /** The request body as this endpoint takes it (without the streaming fields). */
  private body(req: ChatRequest) {
    return {
      model: this.model,
      messages: wireMessages(req.messages, this.dialect, req.headLength),
      ...(req.tools.length ? { tools: req.tools.map(toWireTool) } : {}),
      ...(req.tools.length && req.toolChoice ? { tool_choice: req.toolChoice } : {}),
      ...(req.responseFormat && !this.refused.has('response_format')
        ? { response_format: req.responseFormat }
        : {}),
      ...this.limits(),
    };
  }

  private async whole(req: ChatRequest, watch: StallWatch): Promise<RawReply> {
    const r = await this.client.chat.completions.create(
      { ...this.body(req), stream: false },
      { signal: watch.signal },
    );
    return readCompletion(r, req.onDelta);
  }

  private async streamed(req: ChatRequest, watch: StallWatch): Promise<RawReply> {
    const stream = await this.client.chat.completions.create(
      {
        ...this.body(req),
        stream: true,
        ...(this.refused.has('stream_options') ? {} : { stream_options: { include_usage: true } }),
      },
      { signal: watch.signal },
    );
    const raw = await readStream(stream as AsyncIterable<ChatCompletionChunk>, {
      chunk: () => watch.arm(),
      delta: req.onDelta,
    });
    // An aborted stream may just end: check why it ended before trusting what arrived.
    if (watch.stalled) throw watch.error();
    if (req.signal?.aborted) throw abortError(req.signal);
    return raw;
  }

  /** The response as the agent keeps it: reasoning where the provider wants it, usage always. */
  private response(req: ChatRequest, r: RawReply): ChatResponse {
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
    return classifyError(err, {
      baseURL: this.opts.baseURL,
      model: this.model,
      signal,
      adapt: (detail) => this.adapt(detail, req),
    });
  }
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
