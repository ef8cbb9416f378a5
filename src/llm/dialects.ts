/**
 * What differs between OpenAI-compatible endpoints, and how the client bridges it: reasoning models'
 * parameters, Anthropic's explicit prompt-cache breakpoints behind gateways, reasoning text that a
 * provider wants back (or not), the many shapes of `usage`, and no usage at all. Decided from the
 * model name and the base URL; each can be forced with the client's options.
 */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { estimateTokens } from './tokens';
import type { ChatMessage, ToolCall, ToolSpec, Usage } from './types';

export interface Dialect {
  /** o-series and gpt-5: `max_completion_tokens` (it includes the hidden reasoning), no `temperature`. */
  reasoningModel: boolean;
  /** Anthropic models through an OpenAI-compatible gateway: `cache_control` breakpoints, or no caching. */
  cacheBreakpoints: boolean;
  /**
   * Send the reasoning back as `reasoning_content` on assistant messages. DeepSeek's thinking mode
   * requires it after tool calls (https://api-docs.deepseek.com/guides/thinking_mode) and ignores it
   * otherwise; every other provider gets none (Qwen's template drops it, gateways may refuse it).
   */
  replayReasoning: boolean;
}

export function dialectOf(model: string, baseURL: string, force: Partial<Dialect> = {}): Dialect {
  const id = model.toLowerCase();
  const bare = id.slice(id.lastIndexOf('/') + 1);
  let host = '';
  try {
    host = new URL(baseURL).hostname;
  } catch {
    // a bad URL fails at the first request with a clearer message
  }
  return {
    reasoningModel:
      force.reasoningModel ??
      (/^o\d+(-|$)/.test(bare) || (bare.startsWith('gpt-5') && !bare.includes('chat'))),
    cacheBreakpoints:
      force.cacheBreakpoints ??
      (id.includes('claude') || (host.endsWith('openrouter.ai') && id.startsWith('anthropic/'))),
    // DeepSeek's own API (its model ids have no org prefix; "deepseek-ai/..." on vLLM is not it).
    replayReasoning: force.replayReasoning ?? (host === 'api.deepseek.com' || /^deepseek-[^/]*$/.test(id)),
  };
}

/** A message in OpenAI's wire format (also the chat format of SFT exports: no reasoning there). */
export function toWire(m: ChatMessage): ChatCompletionMessageParam {
  return wireMessage(m, false);
}

function wireMessage(m: ChatMessage, withReasoning: boolean): ChatCompletionMessageParam {
  switch (m.role) {
    case 'system':
    case 'user':
      return { role: m.role, content: m.content };
    case 'tool':
      return { role: 'tool', tool_call_id: m.toolCallId, content: m.content };
    case 'assistant': {
      const reasoning = withReasoning && m.reasoning ? { reasoning_content: m.reasoning } : {};
      return m.toolCalls?.length
        ? {
            role: 'assistant',
            content: m.content,
            tool_calls: m.toolCalls.map((c) => ({
              id: c.id,
              type: 'function' as const,
              function: { name: c.name, arguments: c.arguments },
            })),
            ...reasoning,
          }
        : { role: 'assistant', content: m.content ?? '', ...reasoning };
    }
  }
}

/**
 * The request's messages. With cache breakpoints, the last head message (system prompt + paper)
 * and the last message carry `cache_control`: the head is cached once per window, and each request
 * reads the previous one's prefix (Anthropic looks back from a breakpoint for the longest cached
 * prefix). The content becomes one text part, the form gateways pass through to Anthropic.
 */
export function wireMessages(
  messages: ChatMessage[],
  d: Dialect,
  headLength?: number,
): ChatCompletionMessageParam[] {
  const wire = messages.map((m) => wireMessage(m, d.replayReasoning));
  if (!d.cacheBreakpoints) return wire;
  const marks = new Set<number>();
  if (headLength && headLength > 0)
    marks.add(lastWithText(messages, Math.min(headLength, messages.length) - 1));
  marks.add(lastWithText(messages, messages.length - 1));
  for (const i of marks) {
    if (i < 0) continue;
    const w = wire[i] as { content: string };
    const parts = [{ type: 'text', text: w.content, cache_control: { type: 'ephemeral' } }];
    wire[i] = { ...w, content: parts } as unknown as ChatCompletionMessageParam;
  }
  return wire;
}

function lastWithText(messages: ChatMessage[], from: number): number {
  for (let i = from; i >= 0; i--) if (messages[i]?.content) return i;
  return -1;
}

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/**
 * Usage in any provider's shape, or undefined when there is none (or it is all zeros). Cached
 * prompt tokens: OpenAI and OpenRouter `prompt_tokens_details.cached_tokens`; Anthropic-style
 * gateways `cache_read_input_tokens`; DeepSeek `prompt_cache_hit_tokens`; Moonshot `cached_tokens`;
 * llama.cpp `timings.cache_n` (the prompt tokens its KV cache reused).
 */
export function usageOf(u: unknown, timings?: unknown): Usage | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const r = u as Record<string, unknown>;
  const details = (k: string) => (r[k] as Record<string, unknown> | undefined)?.cached_tokens;
  let prompt = num(r.prompt_tokens) ?? num(r.input_tokens) ?? 0;
  const completion = num(r.completion_tokens) ?? num(r.output_tokens) ?? 0;
  if (prompt === 0 && completion === 0) return undefined;
  const cacheRead = num(r.cache_read_input_tokens) ?? 0;
  const cached = Math.max(
    num(details('prompt_tokens_details')) ?? 0,
    num(details('input_tokens_details')) ?? 0,
    cacheRead,
    num(r.prompt_cache_hit_tokens) ?? 0,
    num(r.cached_tokens) ?? 0,
    num((timings as Record<string, unknown> | undefined)?.cache_n) ?? 0,
  );
  // Anthropic's input_tokens leave out the cache reads and writes; OpenAI's prompt_tokens include them.
  if (num(r.prompt_tokens) === undefined && num(r.input_tokens) !== undefined)
    prompt += cacheRead + (num(r.cache_creation_input_tokens) ?? 0);
  else if (cached > prompt) prompt += cached;
  return { promptTokens: prompt, cachedTokens: cached, completionTokens: completion };
}

/** Our estimate when the endpoint reports no usage; flagged so the display can say "~". */
export function estimateUsage(
  messages: ChatMessage[],
  tools: ToolSpec[],
  reply: { content: string | null; reasoning?: string; toolCalls: ToolCall[] },
): Usage {
  const calls = (cs: ToolCall[]) =>
    cs.reduce((a, c) => a + 4 + estimateTokens(c.name) + estimateTokens(c.arguments), 0);
  let prompt = tools.length ? estimateTokens(JSON.stringify(tools)) : 0;
  for (const m of messages) {
    prompt += 4 + estimateTokens(m.content ?? '');
    if (m.role === 'assistant') prompt += calls(m.toolCalls ?? []) + estimateTokens(m.reasoning ?? '');
  }
  const completion =
    estimateTokens(reply.content ?? '') + estimateTokens(reply.reasoning ?? '') + calls(reply.toolCalls);
  return { promptTokens: prompt, cachedTokens: 0, completionTokens: completion, estimated: true };
}

/** Reasoning text in a message or delta: `reasoning_content` (DeepSeek, vLLM, llama.cpp) or `reasoning` (OpenRouter, Ollama, newer vLLM, LM Studio). */
export function reasoningOf(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null) return undefined;
  const r = x as Record<string, unknown>;
  if (typeof r.reasoning_content === 'string' && r.reasoning_content) return r.reasoning_content;
  if (typeof r.reasoning === 'string' && r.reasoning) return r.reasoning;
  return undefined;
}

/** Servers without a reasoning parser leave `<think>…</think>` at the start of the content. */
export function splitThink(content: string | null): { content: string | null; reasoning?: string } {
  const m = content ? /^\s*<think>([\s\S]*?)<\/think>\s*/.exec(content) : null;
  if (!m || content === null) return { content };
  const rest = content.slice(m[0].length);
  return { content: rest || null, reasoning: m[1]!.trim() };
}
