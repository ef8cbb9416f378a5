/**
 * The agent loop: request → tool calls → results, until end_task, the hard deadline, a stop or a
 * fatal model error. Every step is an event; state changes only through `applyEvent`, so replaying
 * the log after a snapshot rebuilds the same state (see AgentSession.restore).
 */

import type { AgentEvent, AgentEventBody } from '../events/events';
import { abortableSleep } from '../llm/sleep';
import type { TokenCounter } from '../llm/tokens';
import {
  type ChatResponse,
  ContextLengthError,
  costUsd,
  FatalModelError,
  ModelUnavailableError,
  type ToolSpec,
} from '../llm/types';
import { overSpendCap, type SpendCap, type SpendTotals } from './budget';
import { ContextManager, ContextOverflowError, capText } from './context';
import { summarizeWindow } from './context/window-summary';
import { describeState, endStateOf, type JobStatus, jobStatuses, stopJobs } from './jobs';
import { type AgentSessionDeps, NUDGE, type RunResult, type SessionState } from './loop-types';
import { buildProgressNote, emptyProgress } from './progress-note';
import {
  applyEvent,
  CONTEXT_LENGTH_PREFIX,
  danglingCalls,
  emptyTotals,
  FINAL_CALL_ID,
  type LoopState,
} from './replay';
import { needsFullReplay, replayHistory } from './rewind';
import { defaultTools, type Tool, toolSpecs } from './tools';
import { answerUnrun, runStepCalls, type ToolDispatch } from './tools/dispatch';

export type { AfterToolInfo, AgentSessionDeps, RunResult, SessionState } from './loop-types';

export class AgentSession {
  private readonly tools: Tool[];
  private paused = false;
  private resumeGate: (() => void) | undefined;
  private stopMode: 'end' | 'interrupt' | undefined;
  private readonly stopCtrl = new AbortController();
  private requestCtrl: AbortController | undefined;
  private readonly inbox: string[] = [];
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
  injectUserMessage(text: string): void {
    this.inbox.push(text);
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
    const { budget } = this.deps;
    const specs = toolSpecs(this.tools);
    if (this.state.ended) return { status: 'done', reason: this.state.ended.reason as 'end_task' };
    const emit = (e: AgentEventBody) => this.emit(e);
    const dispatch: ToolDispatch = {
      deps: this.deps,
      tools: this.tools,
      signal: this.stopCtrl.signal,
      emit,
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
    this.emit({ type: 'status', status: 'running' });
    budget.start();
    // A crash mid-step leaves tool calls without results: answer them so the context is valid.
    for (const c of danglingCalls(this.context)) {
      const refused = this.state.refusedEnd;
      if (refused?.callId === c.id) {
        // The early-end check refused this end_task before the crash: its answer is that refusal.
        emit({
          type: 'tool_result',
          step: this.state.step,
          callId: c.id,
          name: c.name,
          ok: false,
          output: refused.message,
          durationMs: 0,
        });
        continue;
      }
      answerUnrun(
        emit,
        this.state.step,
        c,
        'Interrupted: the session stopped before this tool call finished. Check its effects and run it again if needed.',
      );
    }
    let contextRetries = 0;
    let outages = 0;
    try {
      await this.reconcileJobs();
      // The agent called end_task before a crash: go on with the end, without asking the model again.
      if (this.state.ending) return await this.finish('end_task', this.state.ending.summary);
      for (;;) {
        if (this.paused) await this.waitWhilePaused();
        if (this.stopMode) return await this.finishStopped();
        if (budget.hardDeadlinePassed())
          return await this.finish('deadline', `Time budget used: ${budget.describe()}.`);
        if (this.deps.maxSteps !== undefined && this.state.step >= this.deps.maxSteps) {
          return await this.halt(`step limit (${this.deps.maxSteps}) reached`);
        }
        const capped = overSpendCap(this.state.totals, this.spendCap);
        if (capped) {
          budget.pause();
          this.emit({ type: 'status', status: 'paused', reason: capped });
          const next = await this.deps.onSpendCap?.(capped, this.totals);
          if (!next || overSpendCap(this.state.totals, next)) return await this.halt(capped);
          this.spendCap = next;
          budget.start();
          this.emit({ type: 'status', status: 'running' });
        }

        const step = this.state.step + 1;
        const stage = budget.stageChange();
        if (stage) this.emit({ type: 'stage', stage: stage.stage });
        for (const text of this.inbox.splice(0)) this.emit({ type: 'user_message', text });
        const reminder = budget.wrapUp() ?? budget.reminder(step);
        if (reminder) this.emit({ type: 'reminder', step, text: reminder, activeMs: budget.activeMs() });

        if (this.context.needsSplit(specs)) await this.split(step, specs, { summarize: true });
        let promptTokens: number;
        try {
          promptTokens = this.context.check(specs);
        } catch (err) {
          if (!(err instanceof ContextOverflowError)) throw err;
          await this.split(step, specs, { keepTurns: 0 });
          promptTokens = this.context.check(specs); // still over: the head alone is too big → fatal below
        }
        this.emit({
          type: 'model_request',
          step,
          window: this.context.window,
          promptTokens,
          messages: this.context.messages().length,
        });

        let res: ChatResponse;
        this.requestCtrl = new AbortController();
        try {
          res = await this.deps.model.chat({
            messages: this.context.messages(),
            tools: specs,
            headLength: this.context.head.length,
            signal: AbortSignal.any([this.stopCtrl.signal, this.requestCtrl.signal]),
          });
        } catch (err) {
          if (this.stopMode || this.paused) continue; // redo this step after resume, or stop
          if (err instanceof ContextLengthError && contextRetries < 3) {
            contextRetries++;
            this.emit({
              type: 'error',
              message: `${CONTEXT_LENGTH_PREFIX}: ${err.message} Splitting the context.`,
              fatal: false,
            });
            // Each retry must be smaller than the refused request: keep half the turns, then none.
            const turns = this.context.body.filter((m) => m.role === 'assistant').length;
            await this.split(step, specs, {
              keepTurns:
                contextRetries === 1 ? Math.min(this.context.config.keepTurns, Math.floor(turns / 2)) : 0,
            });
            continue;
          }
          if (err instanceof ContextLengthError) {
            // The endpoint's window is smaller than the limit the context is cut to: only the user can fix that.
            throw new FatalModelError(
              `The model refused the request as too long for its context window even after splitting the context ${contextRetries} times (${err.message}). KLong cuts the context to ${this.context.config.contextLimit} tokens: set the model's real window lower (CLI --context-limit, VS Code setting klong.model.contextLimit), then resume.`,
            );
          }
          // A provider outage outlasting the client's retries: wait (not active time) and try again.
          if (err instanceof ModelUnavailableError && outages < (this.deps.outageRetries ?? 10)) {
            outages++;
            const waitMs = this.deps.outageWaitMs ?? 60_000;
            this.emit({
              type: 'error',
              message: `${err.message.replace(/ The session is saved.*$/, '')} Waiting ${Math.round(waitMs / 1000)} s before trying again (${outages}/${this.deps.outageRetries ?? 10}).`,
              fatal: false,
            });
            budget.pause();
            await abortableSleep(waitMs, this.stopCtrl.signal).catch(() => undefined);
            if (!this.paused) budget.start();
            continue;
          }
          throw err;
        } finally {
          this.requestCtrl = undefined;
        }
        contextRetries = 0;
        outages = 0;
        const cost = this.deps.prices ? costUsd(res.usage, this.deps.prices) : 0;
        this.emit({
          type: 'model_response',
          step,
          message: res.message,
          usage: res.usage,
          costUsd: cost,
          ...(res.reasoning ? { reasoning: res.reasoning } : {}),
        });

        const calls = res.message.role === 'assistant' ? (res.message.toolCalls ?? []) : [];
        if (calls.length === 0)
          this.emit({ type: 'reminder', step, text: NUDGE, activeMs: budget.activeMs() });
        const ended = await runStepCalls(step, calls, dispatch);
        if (ended !== undefined) return await this.finish('end_task', ended);
        await this.pollJobs(step);
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

  private runningJobs(): string[] {
    return Object.values(this.state.jobs ?? {})
      .filter((j) => !j.ended)
      .map((j) => j.id);
  }

  private jobEnded(s: JobStatus): AgentEventBody | undefined {
    const state = endStateOf(s);
    if (!state) return undefined;
    return {
      type: 'job_ended',
      jobId: s.id,
      ...(this.state.jobs?.[s.id] ? { name: this.state.jobs[s.id]!.name } : {}),
      state,
      exitCode: s.exitCode,
      ...(s.end !== null && s.start ? { durationMs: Math.max(0, s.end - s.start) } : {}),
    };
  }

  private jobLabel(id: string): string {
    const name = this.state.jobs?.[id]?.name;
    return name && name !== id ? `${id} (${name})` : id;
  }

  /**
   * At the start of a run (a resume): the jobs the log says are running are looked up in the
   * container. Those still running are reported to the agent; those that ended meanwhile or were
   * lost with the container get their job_ended event and are reported too — never silently.
   */
  private async reconcileJobs(): Promise<void> {
    const ids = this.runningJobs();
    if (ids.length === 0) return;
    let statuses: JobStatus[];
    try {
      statuses = await jobStatuses(this.deps.sandbox, ids, 0, this.deps.jobsDir);
    } catch (err) {
      statuses = ids.map((id) => ({
        id,
        state: 'missing',
        exitCode: null,
        start: 0,
        end: null,
        now: 0,
        size: 0,
        tail: '',
      }));
      this.emit({
        type: 'error',
        message: `Could not look up the background jobs in the container: ${err instanceof Error ? err.message : String(err)}`,
        fatal: false,
      });
    }
    const lines: string[] = [];
    for (const id of ids) {
      const s = statuses.find((x) => x.id === id) ?? {
        id,
        state: 'missing' as const,
        exitCode: null,
        start: 0,
        end: null,
        now: 0,
        size: 0,
        tail: '',
      };
      const ended = this.jobEnded(s);
      if (ended) this.emit(ended);
      lines.push(
        s.state === 'running'
          ? `- ${this.jobLabel(id)} is still running (${describeState(s)}).`
          : s.state === 'missing'
            ? `- ${this.jobLabel(id)} was lost: the container was recreated, so the job and its log are gone. Start it again if you still need it.`
            : s.state === 'lost'
              ? `- ${this.jobLabel(id)} was lost: its process is gone without an exit code (the container was restarted). Its log is still there (job_output). Start it again if you still need it.`
              : `- ${this.jobLabel(id)} ${describeState(s)} while the session was not running. Read its output with job_output.`,
      );
    }
    this.emit({
      type: 'reminder',
      step: this.state.step,
      text: `The session was resumed. Background jobs started before:\n${lines.join('\n')}`,
      activeMs: this.deps.budget.activeMs(),
    });
  }

  /** After a step: jobs that ended meanwhile get their event, and the agent a line about it. */
  private async pollJobs(step: number): Promise<void> {
    const ids = this.runningJobs();
    if (ids.length === 0) return;
    const statuses = await jobStatuses(this.deps.sandbox, ids, 0, this.deps.jobsDir).catch(
      () => [] as JobStatus[],
    );
    const lines: string[] = [];
    for (const s of statuses) {
      const ended = this.jobEnded(s);
      if (!ended) continue;
      this.emit(ended);
      lines.push(
        `Background job ${this.jobLabel(s.id)} ${s.state === 'missing' ? 'was lost' : describeState(s)}.`,
      );
    }
    if (lines.length)
      this.emit({
        type: 'reminder',
        step,
        text: `${lines.join('\n')} Read the output with job_output.`,
        activeMs: this.deps.budget.activeMs(),
      });
  }

  /** The session stops: so do its jobs (a crash leaves them running for a resume to find). */
  private async stopJobs(why: string): Promise<void> {
    const ids = this.runningJobs();
    if (ids.length === 0) return;
    try {
      const stopped = await stopJobs(this.deps.sandbox, ids, this.deps.jobsDir);
      for (const id of ids) {
        const s = stopped.find((x) => x.id === id);
        const e = s ? this.jobEnded(s) : undefined;
        this.emit(
          e ?? {
            type: 'job_ended',
            jobId: id,
            name: this.state.jobs?.[id]?.name,
            state: 'lost',
            exitCode: null,
          },
        );
      }
    } catch (err) {
      this.emit({
        type: 'error',
        message: `Could not stop the background jobs (${ids.join(', ')}) when ${why}: ${err instanceof Error ? err.message : String(err)}`,
        fatal: false,
      });
    }
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
    await this.stopJobs(reason === 'deadline' ? 'the time budget is used up' : 'the agent ended the task');
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
    await this.stopJobs('the session was stopped');
    this.emit({ type: 'end', reason: 'stopped' });
    this.emit({ type: 'status', status: 'stopped', reason: 'stopped by the user' });
    await this.deps.onStepEnd?.({ step: this.state.step, final: true });
    return { status: 'done', reason: 'stopped' };
  }

  /** Stop without ending: the session stays resumable. */
  private async halt(reason: string, error?: Error): Promise<RunResult> {
    this.deps.budget.pause();
    await this.stopJobs(`the session stopped (${reason})`);
    this.emit({ type: 'status', status: 'stopped', reason });
    await this.deps.onStepEnd?.({ step: this.state.step, final: true });
    return { status: 'stopped', reason, ...(error ? { error } : {}) };
  }
}
