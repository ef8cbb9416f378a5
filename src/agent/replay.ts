/**
 * Session state that is not the context manager itself, and how events rebuild it on resume:
 * snapshot + the events after it (or every event, without a snapshot) → the same state.
 */

import type { AgentEvent, AgentEventBody } from '../events/events';
import { costUsd, type Prices, type ToolCall } from '../llm/types';
import type { SpendTotals } from './budget';
import type { ContextManager } from './context';
import type { JobRecord } from './jobs';
import { FINAL_CALL_ID } from './live';
import { noteCommand, noteFile, noteFinding, noteProblem, type ProgressState } from './progress-note';
import { parseArgumentsText } from './tools/args';

export interface LoopState {
  step: number;
  progress: ProgressState;
  totals: SpendTotals;
  /** Estimate of the last request (to calibrate against its usage). */
  lastEstimate: number;
  /** Set once the session has ended (end event). */
  ended?: { reason: string; summary?: string };
  /** end_task succeeded but the session has not ended yet: a resume goes on with the end (final run, grade). */
  ending?: { summary: string };
  /** Background jobs by id (job_started / job_ended); absent in snapshots of older versions. */
  jobs?: Record<string, JobRecord>;
  /** Early-end checks made (early_end_check events): after the limit, end_task is accepted. */
  endChecks?: number;
  /** A refused end_task whose answer is not logged yet (a crash between the check and the answer). */
  refusedEnd?: { callId: string; message: string };
  /** Paths of write/edit calls awaiting their result (not persisted: rebuilt from the tail). */
  pendingPaths?: Record<string, string[]>;
}

export function emptyTotals(): SpendTotals {
  return { usd: 0, promptTokens: 0, cachedTokens: 0, completionTokens: 0 };
}

export const CONTEXT_LENGTH_PREFIX = 'Context length exceeded';

/** Paths a write/edit call touched, from its arguments (best effort; malformed args → none). */
export function pathsOf(call: { name: string; arguments: string }): string[] {
  if (call.name !== 'write_file' && call.name !== 'edit_file') return [];
  const path = argOf(call.arguments, 'path');
  return path === undefined ? [] : [path];
}

export function commandOf(call: { name: string; arguments: string }): string | undefined {
  return call.name === 'bash' || call.name === 'job_start' ? argOf(call.arguments, 'command') : undefined;
}

/** A string argument, read as leniently as the tools read it (fenced, double-encoded, …). */
function argOf(text: string, key: string): string | undefined {
  const r = parseArgumentsText(text);
  const v =
    r.ok && typeof r.value === 'object' && r.value ? (r.value as Record<string, unknown>)[key] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/** Apply one event to the context and loop state. The live loop goes through here too, so a resume rebuilds exactly the same state. */
export function applyEvent(e: AgentEventBody, cm: ContextManager, st: LoopState, prices?: Prices): void {
  switch (e.type) {
    case 'model_request':
      // The step counts once it has a response (a failed request is redone under the same number).
      st.lastEstimate = e.promptTokens;
      break;
    case 'model_response': {
      // Our own estimate (no usage from the endpoint) says nothing about how far off we count.
      if (!e.usage.estimated) cm.observeUsage(st.lastEstimate, e.usage.promptTokens);
      addUsage(st, e.usage, e.costUsd || (prices ? costUsd(e.usage, prices) : 0));
      if (e.purpose === 'summary') break;
      st.step = Math.max(st.step, e.step);
      cm.append(e.message);
      if (e.message.role === 'assistant' && e.message.content) noteFinding(st.progress, e.message.content);
      break;
    }
    case 'tool_call': {
      const cmd = commandOf({ name: e.name, arguments: e.args });
      if (cmd) noteCommand(st.progress, cmd);
      const paths = pathsOf({ name: e.name, arguments: e.args });
      if (paths.length) {
        st.pendingPaths ??= {};
        st.pendingPaths[e.callId] = paths;
      }
      break;
    }
    case 'tool_result': {
      if (e.callId === FINAL_CALL_ID) break;
      if (st.refusedEnd?.callId === e.callId) delete st.refusedEnd;
      cm.appendToolResult(e.callId, e.output);
      if (e.name === 'end_task' && e.ok) st.ending = { summary: endSummary(cm, e.callId) };
      const paths = st.pendingPaths?.[e.callId] ?? [];
      if (st.pendingPaths) delete st.pendingPaths[e.callId];
      if (e.ok) for (const p of paths) noteFile(st.progress, p);
      else noteProblem(st.progress, `${e.name}: ${e.output.slice(0, 300)}`);
      break;
    }
    case 'early_end_check':
      st.endChecks = (st.endChecks ?? 0) + 1;
      if (e.refused && e.message) st.refusedEnd = { callId: e.callId, message: e.message };
      break;
    case 'user_message':
      cm.append({ role: 'user', content: e.text });
      break;
    case 'reminder':
      cm.append({ role: 'user', content: e.text });
      break;
    case 'plan':
      st.progress.plan = e.items.map((i) => ({ ...i }));
      break;
    case 'split':
      cm.applySplit(e.note, e.keptMessages);
      break;
    case 'error':
      if (e.message.startsWith(CONTEXT_LENGTH_PREFIX)) cm.onContextLengthError();
      break;
    case 'job_started':
      st.jobs ??= {};
      st.jobs[e.jobId] = {
        id: e.jobId,
        name: e.name,
        command: e.command,
        step: e.step,
        startedAt: (e as Partial<AgentEvent>).ts ?? Date.now(),
      };
      break;
    case 'job_ended': {
      const j = st.jobs?.[e.jobId];
      if (j)
        j.ended = { state: e.state, exitCode: e.exitCode, at: (e as Partial<AgentEvent>).ts ?? Date.now() };
      break;
    }
    case 'end':
      st.ended = { reason: e.reason, ...(e.summary ? { summary: e.summary } : {}) };
      delete st.ending;
      break;
    default:
      break;
  }
}

export { FINAL_CALL_ID };

/** The summary argument of the end_task call `callId` (from the assistant message that made it). */
function endSummary(cm: ContextManager, callId: string): string {
  const body = cm.body;
  for (let i = body.length - 1; i >= 0; i--) {
    const m = body[i]!;
    const call = m.role === 'assistant' ? m.toolCalls?.find((c) => c.id === callId) : undefined;
    if (!call) continue;
    try {
      const s = (JSON.parse(call.arguments) as { summary?: unknown }).summary;
      return typeof s === 'string' ? s : '';
    } catch {
      return '';
    }
  }
  return '';
}

export function addUsage(
  st: LoopState,
  u: { promptTokens: number; cachedTokens: number; completionTokens: number },
  usd: number,
): void {
  st.totals.promptTokens += u.promptTokens;
  st.totals.cachedTokens += u.cachedTokens;
  st.totals.completionTokens += u.completionTokens;
  st.totals.usd += usd;
}

/** Tool calls of the last assistant message that have no result yet (a crash mid-step). */
export function danglingCalls(cm: ContextManager): ToolCall[] {
  const body = cm.body;
  for (let i = body.length - 1; i >= 0; i--) {
    const m = body[i]!;
    if (m.role === 'assistant') {
      const answered = new Set(body.slice(i + 1).flatMap((x) => (x.role === 'tool' ? [x.toolCallId] : [])));
      return (m.toolCalls ?? []).filter((c) => !answered.has(c.id));
    }
  }
  return [];
}
