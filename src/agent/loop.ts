/**
 * The agent loop: request → tool calls → results, until end_task, the hard deadline, a stop or a
 * fatal model error. Every step is an event; state changes only through `applyEvent`, so replaying
 * the log after a snapshot rebuilds the same state (see AgentSession.restore).
 */

import type { AgentEvent, AgentEventBody } from '../events/events';
import type { TokenCounter } from '../llm/tokens';
import {
  type ChatResponse,
  costUsd,
  FatalModelError,
  ModelUnavailableError,
  type ToolSpec,
} from '../llm/types';
import { overSpendCap, type SpendCap, type SpendTotals } from './budget';
import { ContextManager, ContextOverflowError, capText } from './context';
import { summarizeWindow } from './context/window-summary';
import { type LoopJobs, pollJobs, reconcileJobs, stopSessionJobs } from './loop-jobs';
import { type AgentSessionDeps, NUDGE, type RunResult, type SessionState } from './loop-types';
import { type RequestRetries, requestModel } from './model-request';
import { buildProgressNote, emptyProgress } from './progress-note';
import { applyEvent, danglingCalls, emptyTotals, FINAL_CALL_ID, type LoopState } from './replay';
import { needsFullReplay, replayHistory } from './rewind';
import { defaultTools, type Tool, toolSpecs } from './tools';
import { answerDanglingCalls, runStepCalls, type ToolDispatch } from './tools/dispatch';

export type { AfterToolInfo, AgentSessionDeps, RunResult, SessionState } from './loop-types';

export class AgentSession {
  private readonly tools: Tool[];
  private paused = false;
  private resumeGate: (() => void) | undefined;
  private stopMode: 'end' | 'interrupt' | undefined;
  private readonly stopCtrl = new AbortController();
  private requestCtrl: AbortController | undefined;
  private readonly inbox: { text: string; inbox?: string }[] = [];
  private spendCap: SpendCap;

  constructor(
    private readonly deps: AgentSessionDeps,
    readonly context: ContextManager,
    private readonly state: LoopState = {
      step: 0,
      progress: emptyProgress(),
      totals: emptyTotals(),
      lastEstimate: 0,
    },
  ) {
    this.tools = deps.tools ?? defaultTools();
    this.spendCap = deps.spendCap ?? {};
  }

  /** Rebuild a session from its snapshot state (if any) and the events logged after it. */
  static restore(
    deps: AgentSessionDeps,
    from: {
      state?: SessionState;
      freshContext: () => ContextManager;
      tail: (AgentEvent | AgentEventBody)[];
      /** The whole log: read only when the tail holds a rewind of the conversation. */
      history?: () => (AgentEvent | AgentEventBody)[];
    },
    counter: TokenCounter,
  ): AgentSession {
    if (from.history && needsFullReplay(from.tail)) {
      const cm = from.freshContext();
      const s = new AgentSession(deps, cm, replayHistory(from.history(), cm, deps.prices));
      if (from.state?.spendCap) s.spendCap = from.state.spendCap;
      return s;
    }
    const cm = from.state ? ContextManager.restore(from.state.context, counter) : from.freshContext();
    const st: LoopState = from.state
      ? structuredClone(from.state.loop)
      : { step: 0, progress: emptyProgress(), totals: emptyTotals(), lastEstimate: 0 };
    for (const e of from.tail) applyEvent(e, cm, st, deps.prices);
    const s = new AgentSession(deps, cm, st);
    if (from.state?.spendCap) s.spendCap = from.state.spendCap;
    return s;
  }

  get step(): number {
    return this.state.step;
  }
  get totals(): SpendTotals {
    return { ...this.state.totals };
  }
  get plan() {
    return this.state.progress.plan;
  }
  get isPaused(): boolean {
    return this.paused;
  }

  snapshot(): SessionState {
    const { pendingPaths: _, ...loop } = this.state;
    return {
      version: 1,
      context: this.context.snapshot(),
      budget: this.deps.budget.snapshot(),
      loop: structuredClone(loop),
      spendCap: { ...this.spendCap },
    };
  }

  /** A message for the agent, delivered before its next request (e.g. "user rejected edit to X: ..."). */
  /** `inbox`: the id of the session folder's inbox line it came from (logged, so it is handed once). */
  injectUserMessage(text: string, inbox?: string): void {
    this.inbox.push(inbox ? { text, inbox } : { text });
  }

  /** Pause at once: an in-flight model request is abandoned and redone after resume(). */
  pause(): void {
    if (this.paused || this.stopMode) return;
    this.paused = true;
    this.requestCtrl?.abort(new Error('paused'));
  }

  resume(): void {
    this.paused = false;
    this.resumeGate?.();
  }

  /** End the session for good (end event 'stopped'), or just interrupt it (resumable, e.g. Ctrl-C). */
  stop(mode: 'end' | 'interrupt' = 'end'): void {
    this.stopMode ??= mode;
    this.stopCtrl.abort(new Error('stopped'));
    this.resumeGate?.();
  }

  private emit(e: AgentEventBody): void {
    this.deps.sink(e);
    applyEvent(e, this.context, this.state, this.deps.prices);
  }

  async run(): Promise<RunResult> {
    if (this.state.ended) return { status: 'done', reason: this.state.ended.reason as 'end_task' };
    const specs = toolSpecs(this.tools);
    const dispatch = this.toolDispatch();
    this.emit({ type: 'status', status: 'running' });
    this.deps.budget.start();
    // A crash mid-step leaves tool calls without results: answer them so the context is valid.
    answerDanglingCalls(
      (e) => this.emit(e),
      this.state.step,
      danglingCalls(this.context),
      this.state.refusedEnd,
    );
    const retries: RequestRetries = { context: 0, outages: 0 };
    try {
      await reconcileJobs(this.loopJobs(), this.state.step);
      // The agent called end_task before a crash: go on with the end, without asking the model again.
      if (this.state.ending) return await this.finish('end_task', this.state.ending.summary);
      for (;;) {
        const over = await this.beforeStep();
        if (over) return over;
        const step = this.state.step + 1;
        this.openStep(step);
        const res = await this.ask(step, specs, retries);
        if (!res) continue; // redo the step: after a pause, a stop, or a recovery
        const calls = res.message.role === 'assistant' ? (res.message.toolCalls ?? []) : [];
        if (calls.length === 0)
          this.emit({ type: 'reminder', step, text: NUDGE, activeMs: this.deps.budget.activeMs() });
        const ended = await runStepCalls(step, calls, dispatch);
        if (ended !== undefined) return await this.finish('end_task', ended);
        await pollJobs(this.loopJobs(), step);
        await this.deps.onStepEnd?.({ step, final: false });
      }
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const fatal =
        e instanceof FatalModelError ||
        e instanceof ModelUnavailableError ||
        e instanceof ContextOverflowError;
      this.emit({ type: 'error', message: e.message, fatal: true });
      return await this.halt(fatal ? e.message : `internal error: ${e.message}`, e);
    }
  }

  /** The step's model request (logged before and after); undefined to redo the step. */
  private async ask(
    step: number,
    specs: ToolSpec[],
    retries: RequestRetries,
  ): Promise<ChatResponse | undefined> {
    const promptTokens = await this.fitContext(step, specs);
    this.emit({
      type: 'model_request',
      step,
      window: this.context.window,
      promptTokens,
      messages: this.context.messages().length,
    });
    this.requestCtrl = new AbortController();
    const res = await requestModel({
      deps: this.deps,
      context: this.context,
      specs,
      retries,
      stopSignal: this.stopCtrl.signal,
      requestSignal: this.requestCtrl.signal,
      interrupted: () => this.stopMode !== undefined || this.paused,
      paused: () => this.paused,
      emit: (e) => this.emit(e),
      split: (keepTurns) => this.split(step, specs, { keepTurns }),
    }).finally(() => {
      this.requestCtrl = undefined;
    });
    if (!res) return undefined;
    retries.context = 0;
    retries.outages = 0;
    this.emit({
      type: 'model_response',
      step,
      message: res.message,
      usage: res.usage,
      costUsd: this.deps.prices ? costUsd(res.usage, this.deps.prices) : 0,
      ...(res.reasoning ? { reasoning: res.reasoning } : {}),
    });
    return res;
  }

  /** What the tool calls of a step need from the session. */
  private toolDispatch(): ToolDispatch {
    return {
      deps: this.deps,
      tools: this.tools,
      signal: this.stopCtrl.signal,
      emit: (e) => this.emit(e),
      stopped: () => this.stopMode !== undefined,
      paused: () => this.paused,
      hasMessage: () => this.inbox.length > 0,
      jobs: () => this.state.jobs,
      ...(this.deps.checkEnd
        ? {
            checkEnd: (step: number, callId: string, summary: string) => this.checkEnd(step, callId, summary),
          }
        : {}),
    };
  }

  private loopJobs(): LoopJobs {
    return {
      sandbox: this.deps.sandbox,
      jobsDir: this.deps.jobsDir,
      jobs: () => this.state.jobs,
      emit: (e) => this.emit(e),
      activeMs: () => this.deps.budget.activeMs(),
    };
  }

  /** Between steps: wait out a pause, then the reasons not to go on (stop, deadline, limits). */
  private async beforeStep(): Promise<RunResult | undefined> {
    const { budget } = this.deps;
    if (this.paused) await this.waitWhilePaused();
    if (this.stopMode) return await this.finishStopped();
    if (budget.hardDeadlinePassed())
      return await this.finish('deadline', `Time budget used: ${budget.describe()}.`);
    if (this.deps.maxSteps !== undefined && this.state.step >= this.deps.maxSteps) {
      return await this.halt(`step limit (${this.deps.maxSteps}) reached`);
    }
    const capped = overSpendCap(this.state.totals, this.spendCap);
    if (!capped) return undefined;
    budget.pause();
    this.emit({ type: 'status', status: 'paused', reason: capped });
    const next = await this.deps.onSpendCap?.(capped, this.totals);
    if (!next || overSpendCap(this.state.totals, next)) return await this.halt(capped);
    this.spendCap = next;
    budget.start();
    this.emit({ type: 'status', status: 'running' });
    return undefined;
  }

  /** A step's opening events: a new stage, the user's messages, the time reminder. */
  private openStep(step: number): void {
    const { budget } = this.deps;
    const stage = budget.stageChange();
    if (stage) this.emit({ type: 'stage', stage: stage.stage });
    for (const m of this.inbox.splice(0)) this.emit({ type: 'user_message', ...m });
    const reminder = budget.wrapUp() ?? budget.reminder(step);
    if (reminder) this.emit({ type: 'reminder', step, text: reminder, activeMs: budget.activeMs() });
  }

  /** Split the context when it nears the limit; its size in tokens once it fits. */
  private async fitContext(step: number, specs: ToolSpec[]): Promise<number> {
    if (this.context.needsSplit(specs)) await this.split(step, specs, { summarize: true });
    try {
      return this.context.check(specs);
    } catch (err) {
      if (!(err instanceof ContextOverflowError)) throw err;
      await this.split(step, specs, { keepTurns: 0 });
      return this.context.check(specs); // still over: the head alone is too big → fatal in run()
    }
  }

  /** The early-end check of an end_task call: the refusal that answers it, or undefined to end. */
  private async checkEnd(step: number, callId: string, summary: string): Promise<string | undefined> {
    const { budget } = this.deps;
    const budgetUsed = budget.fraction();
    budget.pause(); // grading is not the agent's time
    let check: Awaited<ReturnType<NonNullable<AgentSessionDeps['checkEnd']>>>;
    try {
      check = await this.deps.checkEnd!({
        step,
        callId,
        summary,
        checksDone: this.state.endChecks ?? 0,
        budgetUsed,
        signal: this.stopCtrl.signal,
      });
    } catch (err) {
      if (this.stopMode) throw err; // answered as interrupted; the check runs again after a resume
      this.emit({
        type: 'error',
        message: `Early-end check failed (${err instanceof Error ? err.message : String(err)}); the end is accepted.`,
        fatal: false,
      });
      return undefined;
    } finally {
      if (!this.paused && !this.stopMode) budget.start();
    }
    if (!check) return undefined;
    this.emit(check);
    return check.refused ? (check.message ?? 'The end was refused: continue the task.') : undefined;
  }

  private async split(
    step: number,
    specs: ToolSpec[],
    opts: { keepTurns?: number; summarize?: boolean } = {},
  ): Promise<void> {
    let note = buildProgressNote(this.state.progress, {
      step,
      stage: this.deps.budget.stage,
      time: this.deps.budget.describe(),
    });
    if (opts.summarize && this.deps.summarizeSplits !== false) {
      const summary = await summarizeWindow({
        context: this.context,
        model: this.deps.model,
        specs,
        step: this.state.step,
        signal: this.stopCtrl.signal,
        emit: (e) => this.emit(e),
        ...(this.deps.prices ? { prices: this.deps.prices } : {}),
      });
      if (summary) note += `\n\n## Your own summary of the previous window\n${capText(summary.trim(), 6000)}`;
    }
    const kept = this.context.planSplit(note, specs, opts.keepTurns);
    this.emit({ type: 'split', step, window: this.context.window + 1, note, keptMessages: kept });
  }

  private async waitWhilePaused(): Promise<void> {
    this.deps.budget.pause();
    this.emit({ type: 'status', status: 'paused' });
    await this.deps.onStepEnd?.({ step: this.state.step, final: false });
    while (this.paused && !this.stopMode) {
      await new Promise<void>((r) => {
        this.resumeGate = r;
      });
    }
    this.resumeGate = undefined;
    if (!this.stopMode) {
      this.deps.budget.start();
      this.emit({ type: 'status', status: 'running' });
    }
  }

  private async finish(reason: 'end_task' | 'deadline', summary: string): Promise<RunResult> {
    this.deps.budget.pause();
    await stopSessionJobs(
      this.loopJobs(),
      reason === 'deadline' ? 'the time budget is used up' : 'the agent ended the task',
    );
    const hook = this.deps.finalReproduction;
    if (hook) {
      const t0 = Date.now();
      // Only an interrupt aborts the end (resumable); a stop for good lets it finish.
      const interrupt = new AbortController();
      const onStop = () => {
        if (this.stopMode === 'interrupt') interrupt.abort(new Error('interrupted'));
      };
      if (this.stopCtrl.signal.aborted) onStop();
      if (interrupt.signal.aborted) return this.halt('interrupted');
      this.stopCtrl.signal.addEventListener('abort', onStop, { once: true });
      const r = await hook(reason, summary, interrupt.signal)
        .catch((e: unknown) => ({
          ok: false,
          output: `Final reproduction failed: ${String(e)}`,
        }))
        .finally(() => this.stopCtrl.signal.removeEventListener('abort', onStop));
      if (interrupt.signal.aborted) return this.halt('interrupted');
      if (r) {
        this.emit({
          type: 'tool_result',
          step: this.state.step,
          callId: FINAL_CALL_ID,
          name: 'final_reproduction',
          ok: r.ok,
          output: r.output,
          durationMs: Date.now() - t0,
        });
      }
    }
    this.emit({ type: 'end', reason, summary });
    this.emit({ type: 'status', status: 'done', reason });
    await this.deps.onStepEnd?.({ step: this.state.step, final: true });
    return { status: 'done', reason, summary };
  }

  private async finishStopped(): Promise<RunResult> {
    if (this.stopMode === 'interrupt') return this.halt('interrupted');
    this.deps.budget.pause();
    await stopSessionJobs(this.loopJobs(), 'the session was stopped');
    this.emit({ type: 'end', reason: 'stopped' });
    this.emit({ type: 'status', status: 'stopped', reason: 'stopped by the user' });
    await this.deps.onStepEnd?.({ step: this.state.step, final: true });
    return { status: 'done', reason: 'stopped' };
  }

  /** Stop without ending: the session stays resumable. */
  private async halt(reason: string, error?: Error): Promise<RunResult> {
    this.deps.budget.pause();
    await stopSessionJobs(this.loopJobs(), `the session stopped (${reason})`);
    this.emit({ type: 'status', status: 'stopped', reason });
    await this.deps.onStepEnd?.({ step: this.state.step, final: true });
    return { status: 'stopped', reason, ...(error ? { error } : {}) };
  }
}
