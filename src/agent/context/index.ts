/**
 * KLong-style context: a pinned, byte-stable head + a body that only grows between splits, so
 * consecutive requests share their prefix (prompt caching). When the body passes the high
 * watermark the caller splits: head + progress note + the last K turns (overlap). Tokens are
 * counted before every request; `check()` throws rather than send a request over the limit.
 */

import type { TokenCounter } from '../../llm/tokens';
import type { ChatMessage, ToolSpec } from '../../llm/types';

export interface ContextConfig {
  /** Model context window in tokens. */
  contextLimit: number;
  /** Tokens kept free for the reply (default 8,192). */
  reserveOutput: number;
  /** Fraction of (limit − reserve) at which to split (default 0.8). */
  highWatermark: number;
  /** Turns (assistant message + its tool results) carried into the next window (default 6). */
  keepTurns: number;
  /** The overlap may use at most this fraction of (limit − reserve) (default 0.25). */
  overlapFraction: number;
  /** Characters of a tool result that enter the context (head + tail; default 12,000). */
  toolResultChars: number;
}

export const defaultContextConfig: ContextConfig = {
  contextLimit: 128_000,
  reserveOutput: 8_192,
  highWatermark: 0.8,
  keepTurns: 6,
  overlapFraction: 0.25,
  toolResultChars: 12_000,
};

export interface ContextSnapshot {
  version: 1;
  config: ContextConfig;
  head: ChatMessage[];
  body: ChatMessage[];
  window: number;
  factor: number;
}

export interface SplitResult {
  window: number;
  keptMessages: number;
  droppedMessages: number;
}

export class ContextOverflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContextOverflowError';
  }
}

const PER_MESSAGE = 4;

export class ContextManager {
  readonly config: ContextConfig;
  private readonly headMsgs: ChatMessage[];
  private bodyMsgs: ChatMessage[] = [];
  /** Unscaled estimate per body message (parallel to bodyMsgs). */
  private bodyRaw: number[] = [];
  private readonly headRaw: number;
  private toolsKey = '';
  private toolsRaw = 0;
  /** Estimate × factor ≈ the endpoint's count, plus 5% (see observeUsage). */
  factor = 1.1;
  window = 0;

  constructor(
    head: ChatMessage[],
    private readonly counter: TokenCounter,
    config: Partial<ContextConfig> = {},
  ) {
    this.config = { ...defaultContextConfig, ...config };
    this.headMsgs = head.map((m) => ({ ...m }));
    this.headRaw = this.headMsgs.reduce((a, m) => a + this.raw(m), 0);
  }

  static restore(snap: ContextSnapshot, counter: TokenCounter): ContextManager {
    const cm = new ContextManager(snap.head, counter, snap.config);
    cm.factor = snap.factor;
    cm.window = snap.window;
    for (const m of snap.body) cm.push(m);
    return cm;
  }

  snapshot(): ContextSnapshot {
    return {
      version: 1,
      config: { ...this.config },
      head: this.headMsgs.map((m) => ({ ...m })),
      body: this.bodyMsgs.map((m) => structuredClone(m)),
      window: this.window,
      factor: this.factor,
    };
  }

  get head(): readonly ChatMessage[] {
    return this.headMsgs;
  }

  get body(): readonly ChatMessage[] {
    return this.bodyMsgs;
  }

  /** The request to send: head + body (a fresh array; messages are shared, do not mutate). */
  messages(): ChatMessage[] {
    return [...this.headMsgs, ...this.bodyMsgs];
  }

  /** Tokens the head alone takes (scaled). */
  headTokens(): number {
    return Math.ceil(this.headRaw * this.factor);
  }

  append(m: ChatMessage): void {
    this.push(m);
  }

  /** A tool result enters capped (head + tail + note); the full text belongs in the event log. */
  appendToolResult(toolCallId: string, output: string): void {
    this.push({ role: 'tool', toolCallId, content: capText(output, this.config.toolResultChars) });
  }

  /** Estimated prompt tokens of the next request with these tools. */
  tokens(tools: ToolSpec[] = []): number {
    const body = this.bodyRaw.reduce((a, b) => a + b, 0);
    return Math.ceil((this.headRaw + body + this.toolTokens(tools)) * this.factor);
  }

  /** Tokens a request may use: limit minus the reply reserve. */
  available(): number {
    return this.config.contextLimit - this.config.reserveOutput;
  }

  /** True when the next request passes the high watermark: time to split. */
  needsSplit(tools: ToolSpec[] = []): boolean {
    return this.bodyMsgs.length > 0 && this.tokens(tools) > this.available() * this.config.highWatermark;
  }

  /** Throws unless the next request fits under the limit; returns its estimated size. */
  check(tools: ToolSpec[] = []): number {
    const t = this.tokens(tools);
    if (t > this.available()) {
      throw new ContextOverflowError(
        `The next request would take ~${t} tokens, over the ${this.available()} available (limit ${this.config.contextLimit} − ${this.config.reserveOutput} reserved for the reply).`,
      );
    }
    return t;
  }

  /**
   * Start a new window: body = progress note + the last K turns. A cut is only made before a
   * non-tool message, so an assistant tool call always keeps its results. `keepTurns` overrides
   * the configured K (0 = note only, for a retry after a context-length error).
   */
  split(note: string, tools: ToolSpec[] = [], keepTurns = this.config.keepTurns): SplitResult {
    const kept = this.planSplit(note, tools, keepTurns);
    const dropped = this.bodyMsgs.length - kept;
    this.applySplit(note, kept);
    return { window: this.window, keptMessages: kept, droppedMessages: dropped };
  }

  /** How many trailing body messages a split with this note would keep (no change made). */
  planSplit(note: string, tools: ToolSpec[] = [], keepTurns = this.config.keepTurns): number {
    const noteRaw = this.raw(this.noteMessage(note));
    const fixed = this.headRaw + this.toolTokens(tools) + noteRaw;
    const overlapCap = Math.min(
      (this.available() * this.config.overlapFraction) / this.factor,
      (this.available() * this.config.highWatermark) / this.factor - fixed,
    );
    let cut = this.bodyMsgs.length;
    let turns = 0;
    let size = 0;
    for (let i = this.bodyMsgs.length - 1; i >= 0; i--) {
      const m = this.bodyMsgs[i]!;
      size += this.bodyRaw[i]!;
      if (size > overlapCap) break;
      if (m.role === 'assistant') {
        if (turns >= keepTurns) break;
        turns++;
      }
      if (m.role !== 'tool' && turns > 0) cut = i;
    }
    return this.bodyMsgs.length - cut;
  }

  /** Redo a split recorded in the log (resume): the same note, keeping exactly the last `kept` messages. */
  applySplit(note: string, kept: number): void {
    const noteMsg = this.noteMessage(note);
    const from = Math.max(0, this.bodyMsgs.length - kept);
    this.bodyMsgs = [noteMsg, ...this.bodyMsgs.slice(from)];
    this.bodyRaw = [this.raw(noteMsg), ...this.bodyRaw.slice(from)];
    this.window++;
  }

  private noteMessage(note: string): ChatMessage {
    return {
      role: 'user',
      content: `[Context window ${this.window + 2}. Earlier steps were condensed into this progress note; the paper and task above are unchanged.]\n\n${note.trim()}`,
    };
  }

  /** Calibrate against the endpoint's prompt_tokens for a request we estimated at `estimated`. */
  observeUsage(estimated: number, actualPromptTokens: number): void {
    if (estimated <= 0 || actualPromptTokens <= 0) return;
    // Up at once (under-counting fails requests); down slowly (over-counting only wastes room).
    const needed = (actualPromptTokens / estimated) * this.factor * 1.05;
    this.factor = needed > this.factor ? Math.min(needed, 4) : Math.max(needed, this.factor * 0.98, 0.5);
  }

  /** The endpoint said the prompt was too long although we estimated it fits: count higher. */
  onContextLengthError(): void {
    this.factor = Math.min(this.factor * 1.25, 4);
  }

  private push(m: ChatMessage): void {
    this.bodyMsgs.push(m);
    this.bodyRaw.push(this.raw(m));
  }

  private raw(m: ChatMessage): number {
    return messageTokens(m, this.counter);
  }

  private toolTokens(tools: ToolSpec[]): number {
    if (tools.length === 0) return 0;
    const key = tools.map((t) => t.name).join(',');
    if (key !== this.toolsKey) {
      this.toolsKey = key;
      this.toolsRaw = this.counter.count(JSON.stringify(tools));
    }
    return this.toolsRaw;
  }
}

/** Unscaled token estimate of one message as the context manager counts it (content + tool calls). */
export function messageTokens(m: ChatMessage, counter: TokenCounter): number {
  let n = PER_MESSAGE + counter.count(m.content ?? '');
  if (m.role === 'assistant') {
    n += counter.count(m.reasoning ?? ''); // only present when it is sent back
    for (const c of m.toolCalls ?? []) n += PER_MESSAGE + counter.count(c.name) + counter.count(c.arguments);
  }
  return n;
}

/** Keep the first and last part of a long text with a note in between saying what was cut. */
export function capText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const headLen = Math.floor(maxChars * 0.4);
  const tailLen = maxChars - headLen;
  const omitted = text.slice(headLen, text.length - tailLen);
  const lines = omitted.split('\n').length - 1;
  return `${text.slice(0, headLen)}\n\n[… ${omitted.length} characters (${lines} lines) omitted from the middle. The full output is kept in the session log. To see it, write it to a file (e.g. \`cmd > out.log 2>&1\`) and page it with read_file using start_line/end_line, or narrow it with grep.]\n\n${text.slice(text.length - tailLen)}`;
}
