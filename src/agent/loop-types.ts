/** Types of the agent loop's public API (kept apart from loop.ts to keep it small). */

import type { EventSink } from '../events/events';
import type { ModelClient, Prices, ToolCall } from '../llm/types';
import type { Sandbox } from '../sandbox/sandbox';
import type { BudgetSnapshot, SpendCap, SpendTotals, TimeBudget } from './budget';
import type { ContextSnapshot } from './context';
import type { LiveSink } from './live';
import type { LoopState } from './replay';
import type { PaperReader, Tool, ToolOutcome } from './tools';

export type EarlyEndCheck = import('../events/events').EarlyEndCheck;

export interface AfterToolInfo {
  step: number;
  call: ToolCall;
  outcome: ToolOutcome;
  signal: AbortSignal;
  /** Wrap a wait for the user in this so it does not count as active time. */
  whileWaiting<T>(p: Promise<T>): Promise<T>;
}

export interface AgentSessionDeps {
  sandbox: Sandbox;
  model: ModelClient;
  sink: EventSink;
  budget: TimeBudget;
  paper?: PaperReader;
  tools?: Tool[];
  isBlocked?: (command: string) => string | undefined;
  prices?: Prices;
  spendCap?: SpendCap;
  /** The spend cap was reached: return a new cap to go on, or undefined to stop (resumable). */
  onSpendCap?: (reason: string, totals: SpendTotals) => Promise<SpendCap | undefined>;
  /** After every tool call (the edits layer turns sandbox changes into proposals here). */
  afterTool?: (info: AfterToolInfo) => Promise<void>;
  /**
   * Runs reproduce.sh (or similar) when the session ends by end_task or deadline. `signal` aborts on
   * an interrupt (e.g. Ctrl-C): the session stops resumable and a resume goes on with the end.
   */
  finalReproduction?: (
    reason: 'end_task' | 'deadline',
    summary: string,
    signal: AbortSignal,
  ) => Promise<{ ok: boolean; output: string } | undefined>;
  /**
   * end_task came (the early-end check): grade the submission and return the check's event (the
   * loop logs it; `refused` makes its message end_task's answer and the agent goes on), or
   * undefined to end without a check. Not called at the deadline.
   */
  checkEnd?: (info: {
    step: number;
    callId: string;
    summary: string;
    /** Checks made so far in this session (counted from the log). */
    checksDone: number;
    /** Share of the time budget used. */
    budgetUsed: number;
    signal: AbortSignal;
  }) => Promise<EarlyEndCheck | undefined>;
  /** At the end of every step, and with final=true when the loop returns: flush / snapshot here. */
  onStepEnd?: (info: { step: number; final: boolean }) => void | Promise<void>;
  bashTimeoutMs?: number;
  /** Transient progress (a running command's output): never logged, bounded and throttled. */
  onLive?: LiveSink;
  /** Where background jobs keep their folders in the sandbox (default JOBS_DIR; tests on a host folder set it). */
  jobsDir?: string;
  /** Safety net for tests and batch runs. */
  maxSteps?: number;
  /** After the client's own retries fail (outage), wait this long and try again (default 60 s) … */
  outageWaitMs?: number;
  /** … up to this many times before stopping the session, resumable (default 10). */
  outageRetries?: number;
  /** At a split, ask the model to summarise the window into the progress note (one cached request).
   * Default true. */
  summarizeSplits?: boolean;
}

export interface SessionState {
  version: 1;
  context: ContextSnapshot;
  budget: BudgetSnapshot;
  loop: Omit<LoopState, 'pendingPaths'>;
  spendCap?: SpendCap;
}

export type RunResult =
  | { status: 'done'; reason: 'end_task' | 'deadline' | 'stopped'; summary?: string }
  /** Not finished; resumable: interrupted, paused for the spend cap, fatal model error, step limit. */
  | { status: 'stopped'; reason: string; error?: Error };

export const SUMMARY_PROMPT =
  'Your context is about to be condensed: older steps will be replaced by a progress note. Write that note now, as plain text, no tool calls: what you have done and verified, key findings and numbers, the files that matter and what they contain, what failed and why, and the exact next steps. Be specific and brief (at most 400 words).';

export const NUDGE =
  'You did not call a tool. Continue the task with the tools; when the reproduction is complete, call end_task.';
