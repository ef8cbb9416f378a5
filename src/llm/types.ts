/** The model as the agent sees it: an OpenAI-compatible chat endpoint with tool calls. */

export interface ToolCall {
  id: string;
  name: string;
  /** Raw JSON text as the model produced it; may be malformed. */
  arguments: string;
}

export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | {
      role: 'assistant';
      content: string | null;
      toolCalls?: ToolCall[];
      /**
       * The model's reasoning, only when the provider wants it back in later requests (DeepSeek's
       * thinking mode after tool calls); otherwise it is in ChatResponse.reasoning and the log only.
       */
      reasoning?: string;
    }
  | { role: 'tool'; toolCallId: string; content: string };

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
}

export interface Usage {
  promptTokens: number;
  cachedTokens: number;
  completionTokens: number;
  /** The endpoint reported no usage (Ollama, some vLLM and llama.cpp builds): these are our estimates. */
  estimated?: boolean;
}

export interface Prices {
  /** USD per million tokens. */
  input: number;
  cachedInput: number;
  output: number;
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools: ToolSpec[];
  signal?: AbortSignal;
  /** 'none' asks for text only (tools still sent, so the prompt prefix stays cacheable). */
  toolChoice?: 'auto' | 'none';
  /** Called with each streamed text delta. */
  onDelta?: (text: string) => void;
  /**
   * How many leading messages are the pinned head (system prompt, paper): the end of the head is a
   * prompt-cache breakpoint for providers that need explicit ones (Anthropic through a gateway).
   */
  headLength?: number;
  /**
   * Structured output (OpenAI `response_format`, json_schema). An endpoint that refuses it (a 400
   * naming it) is asked again without it, and the client does not send it again.
   */
  responseFormat?: ResponseFormat;
}

export interface ResponseFormat {
  type: 'json_schema';
  json_schema: { name: string; strict: boolean; schema: Record<string, unknown> };
}

export interface ChatResponse {
  message: Extract<ChatMessage, { role: 'assistant' }>;
  /** Reasoning text the provider returned (reasoning_content / reasoning / <think>) that is not in `message`. */
  reasoning?: string;
  usage: Usage;
  finishReason: string | null;
}

export interface ModelClient {
  readonly model: string;
  chat(req: ChatRequest): Promise<ChatResponse>;
}

/** Errors that must stop the session (it stays resumable): bad key, unknown model, ... */
export class FatalModelError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FatalModelError';
  }
}

/** The prompt was over the model's context window; the caller should split its context and retry. */
export class ContextLengthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextLengthError';
  }
}

/** Transient failures (429, 5xx, timeouts, stalls) that persisted through every retry. Resumable. */
export class ModelUnavailableError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'ModelUnavailableError';
  }
}

/** USD cost of one call's usage. Cached prompt tokens are billed at the cached rate. */
export function costUsd(usage: Usage, prices: Prices): number {
  const uncached = Math.max(0, usage.promptTokens - usage.cachedTokens);
  return (
    (uncached * prices.input +
      usage.cachedTokens * prices.cachedInput +
      usage.completionTokens * prices.output) /
    1e6
  );
}
