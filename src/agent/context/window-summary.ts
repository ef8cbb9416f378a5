/** The model's own summary of a context window, asked for just before a split. */

import type { AgentEventBody } from '../../events/events';
import { type ChatMessage, costUsd, type ModelClient, type Prices, type ToolSpec } from '../../llm/types';
import { SUMMARY_PROMPT } from '../loop-types';
import type { ContextManager } from './index';

export interface SummaryContext {
  context: ContextManager;
  model: ModelClient;
  specs: ToolSpec[];
  /** The last completed step (the summary is not a step of its own). */
  step: number;
  signal: AbortSignal;
  prices?: Prices;
  emit: (e: AgentEventBody) => void;
}

/**
 * Same prefix as the last request (so it is served from the prompt cache) plus one question, with
 * tool_choice none. Any failure just leaves the structured note; the call is billed through events.
 */
export async function summarizeWindow(c: SummaryContext): Promise<string | undefined> {
  const messages: ChatMessage[] = [...c.context.messages(), { role: 'user', content: SUMMARY_PROMPT }];
  const estimate = c.context.tokens(c.specs) + 200;
  if (estimate > c.context.available()) return undefined;
  c.emit({
    type: 'model_request',
    step: c.step,
    window: c.context.window,
    promptTokens: estimate,
    messages: messages.length,
  });
  try {
    const res = await c.model.chat({
      messages,
      tools: c.specs,
      toolChoice: 'none',
      headLength: c.context.head.length,
      signal: c.signal,
    });
    const cost = c.prices ? costUsd(res.usage, c.prices) : 0;
    c.emit({
      type: 'model_response',
      step: c.step,
      message: res.message,
      usage: res.usage,
      costUsd: cost,
      ...(res.reasoning ? { reasoning: res.reasoning } : {}),
      purpose: 'summary',
    });
    return res.message.content ?? undefined;
  } catch (err) {
    if (c.signal.aborted) return undefined;
    c.emit({
      type: 'error',
      message: `Could not summarise the context window (${err instanceof Error ? err.message : String(err)}); using the structured progress note.`,
      fatal: false,
    });
    return undefined;
  }
}
