/** Running a step's tool calls: log each, run it in the sandbox, answer it (unrun after a stop or end_task). */

import type { AgentEventBody } from '../../events/events';
import type { ToolCall } from '../../llm/types';
import type { JobRecord } from '../jobs';
import { LiveOutput } from '../live';
import type { AfterToolInfo, AgentSessionDeps } from '../loop-types';
import { runToolCall, type Tool, type ToolContext, type ToolOutcome, toolNameOf } from './index';

/** What the calls need from the session; `stopped` and `paused` are asked again at every call. */
export interface ToolDispatch {
  deps: AgentSessionDeps;
  tools: Tool[];
  /** The session's stop signal: it aborts the running command. */
  signal: AbortSignal;
  emit(e: AgentEventBody): void;
  stopped(): boolean;
  paused(): boolean;
  /** A message from the user waits for the agent's next step. */
  hasMessage?(): boolean;
  /** The session's background jobs (the loop state's, as events made it). */
  jobs?(): Record<string, JobRecord> | undefined;
  /** end_task came: the refusal that answers it instead (the agent goes on), or undefined to end. */
  checkEnd?(step: number, callId: string, summary: string): Promise<string | undefined>;
}

/** Run a step's calls in order; returns end_task's summary when one of them ended the task. */
export async function runStepCalls(
  step: number,
  calls: ToolCall[],
  d: ToolDispatch,
): Promise<string | undefined> {
  let ended: string | undefined;
  for (const raw of calls) {
    // The name as the tools know it ("functions.bash" → "bash"); the context keeps what the model sent.
    const call = { ...raw, name: toolNameOf(raw.name, d.tools) };
    if (d.stopped()) {
      answerUnrun(d.emit, step, call, 'Not run: the session was stopped.');
      continue;
    }
    if (ended !== undefined) {
      answerUnrun(d.emit, step, call, 'Not run: end_task was called earlier in this step.');
      continue;
    }
    const outcome = await runCall(step, call, d);
    if (outcome.end) ended = outcome.end.summary;
    if (d.deps.afterTool) await d.deps.afterTool(afterToolInfo(step, call, outcome, d));
  }
  return ended;
}

/** One call, logged before and answered after; an error in the tool is its (failed) answer. */
async function runCall(step: number, call: ToolCall, d: ToolDispatch): Promise<ToolOutcome> {
  d.emit({ type: 'tool_call', step, callId: call.id, name: call.name, args: call.arguments });
  const t0 = Date.now();
  // Its output streams to live views while it runs (throttled, a bounded tail).
  const live = d.deps.onLive ? new LiveOutput({ callId: call.id, step }, d.deps.onLive) : undefined;
  let outcome: ToolOutcome;
  try {
    outcome = await runToolCall(call, d.tools, toolContext(d, live));
    if (outcome.end && d.checkEnd) {
      const refusal = await d.checkEnd(step, call.id, outcome.end.summary);
      if (refusal !== undefined) outcome = { ok: false, output: refusal };
    }
  } catch (err) {
    outcome = {
      ok: false,
      output: `Interrupted: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  live?.end(); // its last update goes out before the result
  d.emit({
    type: 'tool_result',
    step,
    callId: call.id,
    name: call.name,
    ok: outcome.ok,
    output: outcome.output,
    durationMs: Date.now() - t0,
  });
  if (outcome.plan) d.emit({ type: 'plan', items: outcome.plan });
  for (const e of outcome.events ?? []) d.emit(e.type === 'job_started' ? { ...e, step } : e);
  return outcome;
}

function toolContext(d: ToolDispatch, live: LiveOutput | undefined): ToolContext {
  const { budget } = d.deps;
  return {
    sandbox: d.deps.sandbox,
    signal: d.signal,
    ...(d.deps.paper ? { paper: d.deps.paper } : {}),
    ...(d.deps.isBlocked ? { isBlocked: d.deps.isBlocked } : {}),
    ...(d.deps.bashTimeoutMs ? { bashTimeoutMs: d.deps.bashTimeoutMs } : {}),
    // No command may outlive the time budget.
    maxBashTimeoutMs: Math.max(5_000, budget.config.totalMs - budget.activeMs()),
    ...(live ? { onOutput: live.push } : {}),
    jobs: d.jobs?.() ?? {},
    ...(d.deps.jobsDir ? { jobsDir: d.deps.jobsDir } : {}),
    interrupted: () =>
      d.paused()
        ? 'the user paused the session'
        : d.hasMessage?.()
          ? 'a message from the user arrived'
          : undefined,
  };
}

function afterToolInfo(step: number, call: ToolCall, outcome: ToolOutcome, d: ToolDispatch): AfterToolInfo {
  const { budget } = d.deps;
  return {
    step,
    call,
    outcome,
    signal: d.signal,
    whileWaiting: async (p) => {
      budget.pause();
      try {
        return await p;
      } finally {
        if (!d.paused()) budget.start();
      }
    },
  };
}

/**
 * After a crash mid-step, calls in the context without results: each gets its answer so the context
 * is valid again — the early-end check's refusal when it refused that end_task, else "interrupted".
 */
export function answerDanglingCalls(
  emit: (e: AgentEventBody) => void,
  step: number,
  calls: ToolCall[],
  refusedEnd: { callId: string; message: string } | undefined,
): void {
  for (const c of calls) {
    if (refusedEnd?.callId === c.id) {
      emit({
        type: 'tool_result',
        step,
        callId: c.id,
        name: c.name,
        ok: false,
        output: refusedEnd.message,
        durationMs: 0,
      });
      continue;
    }
    answerUnrun(
      emit,
      step,
      c,
      'Interrupted: the session stopped before this tool call finished. Check its effects and run it again if needed.',
    );
  }
}

/** A failed result for a call that was not run, so every call in the context has its answer. */
export function answerUnrun(
  emit: (e: AgentEventBody) => void,
  step: number,
  call: ToolCall,
  why: string,
): void {
  emit({
    type: 'tool_result',
    step,
    callId: call.id,
    name: call.name,
    ok: false,
    output: why,
    durationMs: 0,
  });
}
