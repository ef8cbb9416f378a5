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
  | { role: 'assistant'; content: string | null; toolCalls?: ToolCall[] }
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
  /** Called with each streamed text delta. */
  onDelta?: (text: string) => void;
}

export interface ChatResponse {
  message: Extract<ChatMessage, { role: 'assistant' }>;
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
