/**
 * One reproduction run on the real engine, shared by the CLI and the extension: paper → rubric →
 * session log → devcontainer → agent loop with proposed edits → final reproduce.sh in a fresh
 * container → grade → REPRODUCTION.md proposed as an edit. Front ends supply the hooks (where
 * messages go, how the user's files are written, how the user is asked).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimeBudget } from '../agent/budget';
import { FINAL_CALL_ID, LiveOutput, retryText } from '../agent/live';
import type { AgentSession, RunResult } from '../agent/loop';
import type { EarlyEndCheck } from '../agent/loop-types';
import type { EditQueue } from '../edits';
import type { AgentEventBody } from '../events/events';
import { OpenAIModelClient } from '../llm/openai-client';
import type { ModelClient } from '../llm/types';
import { loadRubric, type ReproductionResult, runReproduction } from '../paper';
import type { Paper, RubricNode } from '../paper/types';
import { checkDocker, type DockerSandbox, removeFreshContainers, runFreshContainer } from '../sandbox';
import type { LiveSession } from '../session';
import { type RunEnd, restoreBudget, wireAgent } from './agent-wiring';
import type { BlacklistWatch } from './blacklist-watch';
import { type EndCheckInfo, earlyEndCheck, lastReproduceRun } from './early-end';
import { eventSink } from './event-sink';
import { type FinishRecord, finishRecord, lineSplitter, loadFinalRun, saveFinalRunLog } from './final-steps';
import { gradeInSandbox, reproductionReport } from './grading';
import { loadPaperInputs } from './paper-inputs';
import type { HistoryKeeper } from './rewind';
import { ensureRubric, openSessionFiles, type SavedRun } from './session-files';
import { openSessionSandbox, restoreHistory } from './session-sandbox';
import type { NewSession, RunHooks, RunSettings } from './settings';

export type { EarlyEndSettings, ModelSettings, NewSession, RunHooks, RunSettings } from './settings';
export { DEFAULT_EARLY_END } from './settings';

export interface RunOutcome {
  result: RunResult;
  score?: number;
  reportPath?: string;
  /** Blacklist findings of the session: any flags the grade for review (PaperBench). */
  findings?: number;
}

/**
 * The session exists on disk but could not start (bad devcontainer.json, Docker down, ...): the
 * reason is in its log, and a resume retries it once the cause is fixed.
 */
export class SessionStartError extends Error {
  constructor(
    readonly sessionId: string,
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** What a Reproduction is made of (see `assemble`); the session id is the log's. */
interface ReproductionParts {
  live: LiveSession;
  paper: Paper;
  rubric: RubricNode | undefined;
  rubricFile: string | undefined;
  sandbox: DockerSandbox;
  queue: EditQueue;
  agent: AgentSession;
  model: ModelClient;
  budget: TimeBudget;
  settings: RunSettings;
  hooks: RunHooks;
  emit: (e: AgentEventBody) => void;
  watch: BlacklistWatch;
  keeper: HistoryKeeper;
}

export class Reproduction {
  private finalRun: ReproductionResult | undefined;
  private outcome: { score?: number; reportPath?: string; findings?: number } = {};
  /** The session's early-end check (run.json); undefined: none. */
  earlyEnd: SavedRun['earlyEnd'];
  private disposed = false;

  readonly sessionId: string;
  readonly live: LiveSession;
  readonly paper: Paper;
  rubric: RubricNode | undefined;
  /** The rubric's JSON file (the user's, or the generated one in the session folder). */
  readonly rubricFile: string | undefined;
  readonly sandbox: DockerSandbox;
  readonly queue: EditQueue;
  readonly agent: AgentSession;
  readonly model: ModelClient;
  readonly budget: TimeBudget;
  /** The step history on the host (history.git in the session folder). */
  readonly keeper: HistoryKeeper;
  private readonly settings: RunSettings;
  private readonly hooks: RunHooks;
  private readonly emit: (e: AgentEventBody) => void;
  private readonly watch: BlacklistWatch;

  private constructor(parts: ReproductionParts) {
    this.sessionId = parts.live.sessionId;
    this.live = parts.live;
    this.paper = parts.paper;
    this.rubric = parts.rubric;
    this.rubricFile = parts.rubricFile;
    this.sandbox = parts.sandbox;
    this.queue = parts.queue;
    this.agent = parts.agent;
    this.model = parts.model;
    this.budget = parts.budget;
    this.keeper = parts.keeper;
    this.settings = parts.settings;
    this.hooks = parts.hooks;
    this.emit = parts.emit;
    this.watch = parts.watch;
  }

  get workspace(): string {
    return this.live.summary.workspace;
  }

  /** Start a new session, or resume one by id (`from` is then the session id). */
  static async open(
    settings: RunSettings,
    from: NewSession | string,
    hooks: RunHooks,
  ): Promise<Reproduction> {
    const model = new OpenAIModelClient({
      baseURL: settings.model.baseUrl,
      apiKey: settings.model.apiKey,
      model: settings.model.name,
      ...(settings.model.stallTimeoutMs ? { stallTimeoutMs: settings.model.stallTimeoutMs } : {}),
      onRetry: (r) => {
        const m = {
          kind: 'retry' as const,
          attempt: r.attempt + 1,
          of: r.maxRetries + 1,
          reason: r.reason,
          delayMs: r.delayMs,
          until: Date.now() + r.delayMs,
        };
        if (hooks.onLive) hooks.onLive(m);
        else hooks.say(`Model request failed: ${retryText(m, Date.now())}.`);
      },
    });

    const { live, saved, paper } = await openSessionFiles(settings, from, hooks);

    try {
      await hooks.onSessionOpened?.(live);
      // The engine first: a rubric is written with the model only when the sandbox can start.
      await checkDocker(settings.dockerHost);
      await ensureRubric(live, saved, paper, model, hooks);
      // Under the session's lock (no other process drives it): a final run a crash left running.
      if (typeof from === 'string') {
        const n = await removeFreshContainers(live.sessionId, settings.dockerHost).catch(() => 0);
        if (n) hooks.say(`Removed ${n} final-run container(s) left by an interrupted run.`);
      }
      return await Reproduction.assemble(
        settings,
        hooks,
        live,
        saved,
        paper,
        model,
        typeof from === 'string',
      );
    } catch (err) {
      // Why, in the log; the status stays unfinished, so that it is offered for resume (VS Code) and
      // the caller prints how to resume it (CLI).
      try {
        live.append({
          type: 'error',
          message: `Could not start: ${err instanceof Error ? err.message : String(err)}`.slice(0, 2000),
          fatal: true,
        });
      } catch {
        // The log itself failed: nothing more to record.
      }
      live.close();
      throw new SessionStartError(live.sessionId, err);
    }
  }

  /** The parts of a run around its open session folder: inputs, container, history, agent. */
  private static async assemble(
    settings: RunSettings,
    hooks: RunHooks,
    live: LiveSession,
    saved: SavedRun,
    paper: Paper,
    model: ModelClient,
    resumed: boolean,
  ): Promise<Reproduction> {
    const { rubric, blacklist } = await loadPaperInputs(saved, paper);
    const { emit, watch } = eventSink(live, blacklist, hooks);
    const sandbox = await openSessionSandbox({ settings, hooks, live, saved, watch });
    const keeper = await restoreHistory({ live, sandbox, hooks, emit, resumed });
    const budget = restoreBudget(live, settings);
    let run!: Reproduction;
    const end: RunEnd = {
      finish: (summary, signal) => run.finish(summary, signal),
      checkEnd: (info) => run.checkEnd(info),
    };
    const parts = { settings, hooks, live, paper, rubric, model, sandbox, budget, emit, watch, keeper };
    const { agent, queue } = wireAgent({ ...parts, saved, blacklist, end });
    if (!resumed) live.snapshotNow(agent.snapshot()); // the pinned head is in every snapshot from the start
    run = new Reproduction({ ...parts, rubricFile: saved.rubric, agent, queue });
    run.earlyEnd = saved.earlyEnd;
    // Proposals the session had before a reload come back from the container's changes; in
    // auto-accept mode the ones the crash left undecided are accepted now, as they would have been.
    // (afterTool: the same rules as after a tool call, conflicts reported the same way).
    if (resumed) {
      if (queue.mode === 'auto-accept') await queue.afterTool(agent.step);
      else await queue.refresh(agent.step);
    }
    return run;
  }

  /**
   * Sends the last steps to the host history; true when the host holds everything the container
   * recorded (so the container may be removed without losing anything).
   */
  async saveHistory(): Promise<boolean> {
    if (!this.keeper.upToDate || this.sandbox.baselineMoved) await this.keeper.mirror(this.sandbox);
    return this.keeper.upToDate;
  }

  /**
   * reproduce.sh in a fresh container from the session's image; its log becomes reproduce.log. A
   * step like any other: its result is recorded (final_run, the log in the session folder) and a
   * resume after a crash uses it instead of running reproduce.sh again.
   */
  private async runFinal(done: FinishRecord, signal?: AbortSignal): Promise<ReproductionResult> {
    const sb = this.sandbox;
    const recorded = done.finalRun && (await loadFinalRun(this.live.dir, done.finalRun));
    if (recorded) {
      this.hooks.say(
        'Final reproduction: reproduce.sh already ran before the interruption; using its result.',
      );
      await sb.writeFile('reproduce.log', recorded.log);
      return recorded;
    }
    await this.removeLeftoverRuns();
    this.hooks.say(
      done.finalRunInterrupted
        ? 'Final reproduction: the last run of reproduce.sh was interrupted; running it again in a fresh container…'
        : 'Final reproduction: running reproduce.sh in a fresh container…',
    );
    const timeoutMs = this.settings.finalTimeoutMs ?? 3600_000;
    this.emit({ type: 'final_run_started', timeoutMs });
    this.live.flush();
    const labels = this.settings.labels ?? {};
    const onLive = this.hooks.onLive;
    // Its output streams like a command's (a throttled tail), as the tool call of the final step.
    const live = onLive
      ? new LiveOutput({ callId: FINAL_CALL_ID, step: this.agent.step }, onLive)
      : undefined;
    const r = await runReproduction(
      {
        run: (command, ms, onOutput) =>
          runFreshContainer({
            image: sb.info.image,
            source: sb,
            command,
            timeoutMs: ms,
            network: sb.info.network,
            labels,
            freshOf: this.sessionId,
            ...(sb.info.gpus ? { gpus: sb.info.gpus } : {}),
            ...(onOutput ? { onOutput } : {}),
            ...(signal ? { signal } : {}),
            ...(this.settings.dockerHost ? { dockerHost: this.settings.dockerHost } : {}),
            ...(this.settings.limits ? { limits: this.settings.limits } : {}),
            ...(this.watch.gitGuard ? { gitGuard: this.watch.gitGuard } : {}),
          }),
      },
      {
        timeoutMs,
        onOutput: live ? live.push : lineSplitter((line) => this.hooks.say(`reproduce.sh: ${line}`)),
      },
    ).finally(() => live?.end());
    signal?.throwIfAborted(); // cut short: not a result (a resume runs it again)
    const logFile = saveFinalRunLog(this.live.dir, r.log);
    this.emit({
      type: 'final_run',
      ran: r.ran,
      exitCode: r.exitCode,
      timedOut: r.timedOut,
      durationMs: r.durationMs,
      logFile,
    });
    this.live.flush();
    if (r.ran) await sb.writeFile('reproduce.log', r.log);
    return r;
  }

  /** Final-run containers of this session that a crash left behind (kill -9 skips their removal). */
  private async removeLeftoverRuns(): Promise<void> {
    const n = await removeFreshContainers(this.sessionId, this.settings.dockerHost).catch((err: unknown) => {
      this.hooks.onWarning?.(
        `Could not remove the final-run containers left by an interrupted run: ${err instanceof Error ? err.message : String(err)}`,
      );
      return 0;
    });
    if (n) this.hooks.say(`Removed ${n} final-run container(s) left by an interrupted run.`);
  }

  /** Run the agent to its end (the final run, grade and report happen before it ends). */
  async run(): Promise<RunOutcome> {
    const result = await this.agent.run();
    return { result, ...this.outcome };
  }

  /** The user may have edited the rubric's JSON during the session; an invalid edit keeps the old one. */
  private async reloadRubric(): Promise<void> {
    if (!this.rubricFile) return;
    try {
      this.rubric = await loadRubric(this.rubricFile);
    } catch (err) {
      this.hooks.onWarning?.(
        `The edited rubric could not be read, grading with the one the session started with: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** end_task came: the early-end check against the rubric (see early-end.ts), when one is due. */
  private async checkEnd(info: EndCheckInfo): Promise<EarlyEndCheck | undefined> {
    if (!this.rubric || this.settings.grade === false) return undefined;
    this.live.flush(); // the step so far is on disk before the grading (a resume answers the call)
    const ran = lastReproduceRun(this.live.log);
    return earlyEndCheck(
      info,
      this.earlyEnd,
      async (signal) => {
        await this.reloadRubric();
        return gradeInSandbox({
          client: this.model,
          sandbox: this.sandbox,
          paper: this.paper,
          rubric: this.rubric!,
          workspaceEvidence: true,
          ...(ran ? { reproduceLog: ran.output } : {}),
          cacheDir: join(this.live.dir, 'judge-cache'),
          concurrency: 8,
          signal,
        });
      },
      (m) => this.hooks.say(m),
    );
  }

  /**
   * When the agent ends (end_task or deadline): reproduce.sh in a fresh container, the grade, and
   * REPRODUCTION.md proposed like any other edit. Inside the loop's final hook, so that a crash here
   * resumes into it again (judge answers are cached) rather than into a finished session.
   */
  private async finish(
    summary: string,
    signal?: AbortSignal,
  ): Promise<{ ok: boolean; output: string } | undefined> {
    this.live.flush(); // end_task's result is on disk before the long steps below
    const done = finishRecord(this.live.log);
    const final = this.settings.finalRun === false ? undefined : await this.runFinal(done, signal);
    this.finalRun = final;
    const findings = this.watch.beforeGrading(
      this.live.log.iterate(0),
      final?.ran ? { step: this.agent.step, log: final.log } : undefined,
    );
    let grade: Awaited<ReturnType<typeof gradeInSandbox>> | undefined;
    if (this.rubric && this.settings.grade !== false) {
      await this.reloadRubric();
      this.hooks.say('Grading the reproduction against the rubric…');
      try {
        grade = await gradeInSandbox({
          client: this.model,
          sandbox: this.sandbox,
          paper: this.paper,
          rubric: this.rubric,
          ...(this.finalRun?.ran ? { reproduceLog: this.finalRun.log } : {}),
          ...(this.finalRun ? { finalRun: this.finalRun } : {}),
          blacklistHits: findings,
          cacheDir: join(this.live.dir, 'judge-cache'),
          ...(signal ? { signal } : {}),
          onLeaf: (p) => {
            // Each verdict is a recorded step (a resume finds it in the judge cache).
            if (!done.gradedLeaves.has(p.leafPath)) {
              this.emit({ type: 'grade_leaf', ...p });
              this.live.flush();
            }
            if (this.hooks.onLive) this.hooks.onLive({ kind: 'grading', done: p.done, total: p.total });
            else if (p.done === 1 || p.done % 10 === 0 || p.done === p.total)
              this.hooks.say(`Grading ${p.done} of ${p.total} leaves`);
          },
        });
        mkdirSync(this.live.dir, { recursive: true });
        writeFileSync(join(this.live.dir, 'grade.json'), `${JSON.stringify(grade.root, null, 2)}\n`);
        if (grade.invalid)
          this.hooks.onWarning?.(
            `${grade.invalid} requirement(s) could not be judged (no usable answer from the judge): they are left out of the score (valid_score false in grade.json); see REPRODUCTION.md.`,
          );
        this.hooks.onGrade?.(grade);
      } catch (err) {
        if (signal?.aborted) throw err; // interrupted: the verdicts so far are cached for the resume
        this.hooks.onWarning?.(`Grading failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const report = reproductionReport({
      paper: this.paper,
      ...(grade ? { grade } : {}),
      ...(summary ? { summary } : {}),
      ...(this.finalRun ? { reproduction: this.finalRun } : {}),
      findings,
    });
    writeFileSync(join(this.live.dir, 'REPRODUCTION.md'), report);
    await this.sandbox.writeFile('REPRODUCTION.md', report);
    // Once per end: a crash after it regrades from the cache without logging the grade again.
    if (grade && !done.graded)
      this.emit({
        type: 'grade',
        score: grade.score,
        reportPath: 'REPRODUCTION.md',
        ...(findings.length ? { flagged: true } : {}),
      });
    await this.queue.afterTool(this.agent.step); // the approval mode applies to the report too
    this.outcome = {
      ...(grade ? { score: grade.score } : {}),
      reportPath: join(this.live.dir, 'REPRODUCTION.md'),
      findings: findings.length,
    };
    return final ? { ok: final.ran && final.exitCode === 0, output: final.log } : undefined;
  }

  pause(): void {
    this.agent.pause();
  }
  resume(): void {
    this.agent.resume();
  }
  stop(mode: 'end' | 'interrupt' = 'interrupt'): void {
    this.agent.stop(mode);
  }

  /** Close the log and the connection to the container (the container stays for a resume). */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.sandbox.dispose().catch(() => undefined);
    this.live.close();
  }
}
