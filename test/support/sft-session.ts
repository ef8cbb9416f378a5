/**
 * Writes a session directory the way the engine does (real EventLog, LiveSession, snapshot with the
 * context manager's pinned head), with a scripted sequence of steps: tool calls (some failing, some
 * parallel), reminders, a user message, an inference-time split and its summary request. Returns
 * the conversation the agent saw, in OpenAI wire format, for the SFT export tests and bench.
 */
import { ContextManager, capText, defaultContextConfig } from '../../src/agent/context';
import { buildHead } from '../../src/agent/context/head';
import { defaultSystemPrompt, defaultTask } from '../../src/agent/prompt';
import type { AgentEventBody } from '../../src/events/events';
import { toWire } from '../../src/llm/openai-client';
import { estimateCounter } from '../../src/llm/tokens';
import type { ChatMessage } from '../../src/llm/types';
import { createSession } from '../../src/session';
import { tinyPaper } from './agent-harness';

export interface SyntheticSession {
  head: ChatMessage[];
  /** Every body message the agent saw, in order, without the inference-time windows. */
  conversation: ChatMessage[];
  /** The same with failed tool calls (and assistant messages left with none) removed. */
  withoutFailed: ChatMessage[];
  failedCalls: number;
}

const usage = { promptTokens: 1000, cachedTokens: 800, completionTokens: 50 };

/** `steps` agent steps; every 7th has a failing call, every 5th two parallel calls. */
export function writeSyntheticSession(
  dir: string,
  opts: { steps: number; sessionId?: string; outputChars?: number; score?: number },
): SyntheticSession {
  const sessionId = opts.sessionId ?? 'sft-test';
  const head = buildHead(
    {
      systemPrompt: defaultSystemPrompt('/workspace'),
      task: defaultTask({ paperTitle: 'Tiny Paper', budgetMs: 3600_000, rubric: false }),
      paper: tinyPaper(),
    },
    estimateCounter,
  );
  const cm = new ContextManager(head, estimateCounter, {});
  const live = createSession(
    dir,
    {
      sessionId,
      paperTitle: 'Tiny Paper',
      paperPath: '/p.md',
      workspace: '/ws',
      model: 'm',
      budgetMs: 3600_000,
    },
    { durability: 'none', snapshotEvery: 1_000_000 },
  );
  live.snapshotNow({ version: 1, context: cm.snapshot() });
  const conversation: ChatMessage[] = [];
  const withoutFailed: ChatMessage[] = [];
  let failedCalls = 0;
  const both = (m: ChatMessage) => {
    conversation.push(m);
    withoutFailed.push(m);
  };
  const put = (e: AgentEventBody) => live.append(e);
  put({ type: 'status', status: 'running' });
  // Log-like text (words, numbers, punctuation), so token counting costs what it does on real output.
  const logLine = (i: number) =>
    `epoch ${i} | loss=${(1 / (i + 1)).toFixed(4)} acc=0.${(i * 37) % 100} lr 3e-4 [train.py:88]\n`;
  let filler = '';
  for (let i = 0; filler.length < (opts.outputChars ?? 400); i++) filler += logLine(i);
  for (let step = 1; step <= opts.steps; step++) {
    if (step % 4 === 0) {
      const text = `Info: ${step} steps done.`;
      put({ type: 'reminder', step, text, activeMs: step * 1000 });
      both({ role: 'user', content: text });
    }
    if (step === 9) {
      put({ type: 'user_message', text: 'The user rejected your edit to a.py: keep the old API.' });
      both({ role: 'user', content: 'The user rejected your edit to a.py: keep the old API.' });
    }
    if (step % 11 === 0) {
      // An inference-time split with its summary request: neither is part of the trajectory.
      put({
        type: 'model_response',
        step,
        message: { role: 'assistant', content: 'WINDOW-SUMMARY-7f3' },
        usage,
        costUsd: 0,
        purpose: 'summary',
      });
      put({ type: 'split', step, window: 1, note: 'PROGRESS-NOTE-7f3', keptMessages: 3 });
    }
    const parallel = step % 5 === 0;
    const failing = step % 7 === 0;
    const calls = [
      { id: `c${step}a`, name: 'bash', arguments: `{"command":"python train.py --epoch ${step}"}` },
    ];
    if (parallel) calls.push({ id: `c${step}b`, name: 'read_file', arguments: `{"path":"log${step}.txt"}` });
    const msg: ChatMessage = {
      role: 'assistant',
      content: step % 3 ? `Step ${step}: run it.` : null,
      toolCalls: calls,
    };
    put({ type: 'model_request', step, window: 0, promptTokens: 1000, messages: 3 });
    put({ type: 'model_response', step, message: msg, usage, costUsd: 0.01 });
    conversation.push(msg);
    // A failing single call: the whole message goes; a failing call among two: only that call.
    const failedIds = failing ? [calls[calls.length - 1]!.id] : [];
    failedCalls += failedIds.length;
    const kept = calls.filter((c) => !failedIds.includes(c.id));
    if (kept.length) withoutFailed.push({ ...msg, toolCalls: kept });
    for (const c of calls) {
      const ok = !failedIds.includes(c.id);
      const output = `${ok ? 'ok' : 'Error: exit 1'} ${c.id}\n${filler}\n`;
      put({ type: 'tool_call', step, callId: c.id, name: c.name, args: c.arguments });
      put({ type: 'tool_result', step, callId: c.id, name: c.name, ok, output, durationMs: 5 });
      const tool: ChatMessage = {
        role: 'tool',
        toolCallId: c.id,
        content: capText(output, defaultContextConfig.toolResultChars),
      };
      conversation.push(tool);
      if (ok) withoutFailed.push(tool);
    }
    live.endStep(() => ({ version: 1, context: cm.snapshot() }));
  }
  if (opts.score !== undefined) put({ type: 'grade', score: opts.score });
  put({ type: 'end', reason: 'end_task', summary: 'done' });
  live.close();
  return { head, conversation, withoutFailed, failedCalls };
}

export const wire = (ms: ChatMessage[]) => ms.map(toWire);
