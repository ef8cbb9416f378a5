/**
 * One reproduction run on the real engine, shared by the CLI and the extension: paper → rubric →
 * session log → devcontainer → agent loop with proposed edits → final reproduce.sh in a fresh
 * container → grade → REPRODUCTION.md proposed as an edit. Front ends supply the hooks (where
 * messages go, how the user's files are written, how the user is asked).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, TimeBudget } from '../agent/budget';
import { ContextManager } from '../agent/context';
import type { AgentEventBody } from '../agent/events';
import { buildHead } from '../agent/head';
import { AgentSession, type RunResult, type SessionState } from '../agent/loop';
import { defaultSystemPrompt, defaultTask } from '../agent/prompt';
import { foldHistory } from '../agent/rewind';
import { estimateCounter } from '../agent/tokens';
import { EditQueue } from '../edits';
import { OpenAIModelClient } from '../llm/openai-client';
import type { ModelClient } from '../llm/types';
import {
  type Blacklist,
  createPaperReader,
  loadBlacklist,
  loadRubric,
  type ReproductionResult,
  runReproduction,
} from '../paper';
import type { Paper, RubricNode } from '../paper/types';
import { type DockerSandbox, openSandbox, runFreshContainer, stateLabel } from '../sandbox';
import type { LiveSession } from '../session';
import { gradeInSandbox, reproductionReport } from './grading';
import { HistoryKeeper, recordStep } from './rewind';
import { openSessionFiles, type SavedRun } from './session-files';
import type { NewSession, RunHooks, RunSettings } from './settings';

export type { ModelSettings, NewSession, RunHooks, RunSettings } from './settings';

export interface RunOutcome {
  result: RunResult;
  score?: number;
  reportPath?: string;
}

export class Reproduction {
  private finalRun: ReproductionResult | undefined;
  private outcome: { score?: number; reportPath?: string } = {};
  private disposed = false;

  private constructor(
    readonly sessionId: string,
    readonly live: LiveSession,
    readonly paper: Paper,
    public rubric: RubricNode | undefined,
    /** The rubric's JSON file (the user's, or the generated one in the session folder). */
    readonly rubricFile: string | undefined,
    readonly sandbox: DockerSandbox,
    readonly queue: EditQueue,
    readonly agent: AgentSession,
    readonly model: ModelClient,
    readonly budget: TimeBudget,
    private readonly settings: RunSettings,
    private readonly hooks: RunHooks,
    private readonly emit: (e: AgentEventBody) => void,
    /** The step history on the host (history.git in the session folder). */
    readonly keeper: HistoryKeeper,
  ) {}

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
      onRetry: (r) =>
        hooks.say(
          `Model request failed (${r.reason}); retry ${r.attempt} in ${Math.round(r.delayMs / 1000)} s.`,
        ),
    });

    const { live, saved, paper } = await openSessionFiles(settings, from, hooks, model);

    try {
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
      live.close();
      throw err;
    }
  }

  private static async assemble(
    settings: RunSettings,
    hooks: RunHooks,
    live: LiveSession,
    saved: SavedRun,
    paper: Paper,
    model: ModelClient,
    resumed: boolean,
  ): Promise<Reproduction> {
    const rubric = saved.rubric ? await loadRubric(saved.rubric) : undefined;
    const blacklist: Blacklist = await loadBlacklist({
      paper,
      ...(saved.blacklist ? { file: saved.blacklist } : {}),
    });
    const sessionId = live.sessionId;
    // The state folder's label lets `klong sessions --prune` find this container (and only its own).
    const labels = { ...settings.labels, ...stateLabel(settings.stateDir) };
    const sandbox = await openSandbox({
      workspace: live.summary.workspace,
      sessionId,
      network: saved.network,
      ...(saved.image ? { image: saved.image } : {}),
      ...(settings.defaultImage ? { defaultImage: settings.defaultImage } : {}),
      ...(settings.dockerHost ? { dockerHost: settings.dockerHost } : {}),
      ...(settings.limits ? { limits: settings.limits } : {}),
      labels,
      onProgress: (m) => hooks.say(m),
    });

    const emit = (body: AgentEventBody) => {
      const event = live.append(body);
      hooks.onEvent?.(event);
    };
    const keeper = new HistoryKeeper(live.dir, hooks.onWarning);
    if (resumed && !sandbox.info.reattached) await Reproduction.rebuild(live, sandbox, keeper, hooks, emit);
    // The root (step 0) and anything a crash kept from the host are sent now, not at the first change.
    else await keeper.mirror(sandbox);
    const snapState = live.snapshot?.state as SessionState | undefined;
    const budgetFrom = snapState?.budget
      ? { ...snapState.budget, activeMs: Math.max(snapState.budget.activeMs, live.summary.activeMs) }
      : live.summary.activeMs
        ? { activeMs: live.summary.activeMs, softWarned: false, stage: 'understand' as const }
        : undefined;
    const budgetMs = live.summary.budgetMs || settings.budgetMs;
    const budget = new TimeBudget({ totalMs: budgetMs }, systemClock, budgetFrom);
    const freshContext = () =>
      new ContextManager(
        buildHead(
          {
            systemPrompt: defaultSystemPrompt(sandbox.workdir),
            task: defaultTask({ paperTitle: paper.title, budgetMs, rubric: !!rubric }),
            paper,
            ...(rubric ? { rubric } : {}),
            blacklist: blacklist.patterns(),
          },
          estimateCounter,
        ),
        estimateCounter,
        { contextLimit: saved.contextLimit },
      );

    let agent!: AgentSession;
    const queue = new EditQueue({
      sandbox,
      user: hooks.userFiles,
      emit,
      mode: saved.approval,
      ...(hooks.decide ? { decide: hooks.decide } : {}),
      onFeedback: (t) => agent.injectUserMessage(t),
      onWarning: (m) => hooks.onWarning?.(m),
    });
    let run!: Reproduction;
    agent = AgentSession.restore(
      {
        sandbox,
        model,
        sink: emit,
        budget,
        paper: createPaperReader(paper),
        isBlocked: (c) => blacklist.refusal(c),
        prices: settings.model.prices,
        ...(saved.spendCapUsd ? { spendCap: { usd: saved.spendCapUsd } } : {}),
        onSpendCap: async (reason, totals) => hooks.onSpendCap?.(reason, totals),
        afterTool: queue.hook(),
        finalReproduction: (_reason, summary) => run.finish(summary),
        onStepEnd: async ({ step, final }) => {
          await recordStep(sandbox, step, emit, hooks.onWarning, keeper);
          if (final) live.snapshotNow(agent.snapshot());
          else live.endStep(() => agent.snapshot());
        },
        ...(settings.maxSteps !== undefined ? { maxSteps: settings.maxSteps } : {}),
      },
      {
        ...(snapState ? { state: snapState } : {}),
        tail: live.tail,
        freshContext,
        history: () => [...live.log.iterate(0, live.log.durableCount)],
      },
      estimateCounter,
    );
    if (!resumed) live.snapshotNow(agent.snapshot()); // the pinned head is in every snapshot from the start
    run = new Reproduction(
      sessionId,
      live,
      paper,
      rubric,
      saved.rubric,
      sandbox,
      queue,
      agent,
      model,
      budget,
      settings,
      hooks,
      emit,
      keeper,
    );
    // Proposals the session had before a reload come back from the container's changes; in
    // auto-accept mode the ones a crash left undecided are accepted now.
    if (resumed)
      await (saved.approval === 'auto-accept' ? queue.afterTool(agent.step) : queue.refresh(agent.step));
    return run;
  }

  /**
   * A resumed session whose container is gone got a new one (the user's files as its baseline):
   * the host history goes into it and its workspace is put back to the last recorded step, so the
   * agent finds its files and the proposals are that step against the user's files.
   */
  private static async rebuild(
    live: LiveSession,
    sandbox: DockerSandbox,
    keeper: HistoryKeeper,
    hooks: RunHooks,
    emit: (e: AgentEventBody) => void,
  ): Promise<void> {
    const h = foldHistory(live.log.iterate(0, live.log.durableCount));
    if (h.maxStep === 0) return; // nothing was recorded yet: the new container is the session's start
    let refs: Awaited<ReturnType<DockerSandbox['importHistory']>>;
    try {
      refs = await sandbox.importHistory(keeper.history);
    } catch (err) {
      hooks.onWarning?.(
        `The session's container was gone and its step history could not be restored: ${(err as Error).message}`,
      );
      return;
    }
    if (!refs?.root) {
      const m =
        'The session’s container was gone and this session has no step history on this machine: the new container has your workspace as it is now, without the agent’s earlier files.';
      hooks.onWarning?.(m);
      emit({ type: 'sandbox_recreated', step: h.head, restored: false, message: m });
      return;
    }
    if (!h.code) {
      // The agent had not changed a file yet: the user's files are its workspace as they were.
      const m =
        'The session’s container was gone: created a new one from your workspace (the agent had not changed any file yet).';
      hooks.say(m);
      emit({ type: 'sandbox_recreated', step: 0, restored: true, message: m });
      return;
    }
    // The agent's changes against what the old container had accepted, over the user's files now.
    if (refs.baseline) await sandbox.restoreOnto(refs.baseline, h.code);
    else await sandbox.restoreCommit(h.code);
    let step = 0; // the step whose files these are (the last recorded one, or a rewind's target)
    for (const n of h.steps.values()) if (n.code === h.code && n.step > step) step = n.step;
    const m = `The session’s container was gone: created a new one and restored the agent’s files of step ${step} from the history in the session folder.`;
    hooks.say(m);
    emit({ type: 'sandbox_recreated', step, restored: true, commit: h.code, message: m });
    await keeper.mirror(sandbox);
  }

  /**
   * Sends the last steps to the host history; true when the host holds everything the container
   * recorded (so the container may be removed without losing anything).
   */
  async saveHistory(): Promise<boolean> {
    if (!this.keeper.upToDate || this.sandbox.baselineMoved) await this.keeper.mirror(this.sandbox);
    return this.keeper.upToDate;
  }

  /** reproduce.sh in a fresh container from the session's image; its log becomes reproduce.log. */
  private async runFinal(): Promise<ReproductionResult> {
    this.hooks.say('Final reproduction: running reproduce.sh in a fresh container…');
    const sb = this.sandbox;
    const labels = this.settings.labels ?? {};
    const r = await runReproduction(
      {
        run: (command, timeoutMs) =>
          runFreshContainer({
            image: sb.info.image,
            source: sb,
            command,
            timeoutMs,
            network: sb.info.network,
            labels,
            ...(this.settings.dockerHost ? { dockerHost: this.settings.dockerHost } : {}),
            ...(this.settings.limits ? { limits: this.settings.limits } : {}),
          }),
      },
      { timeoutMs: this.settings.finalTimeoutMs ?? 3600_000 },
    );
    if (r.ran) await sb.writeFile('reproduce.log', r.log);
    return r;
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

  /**
   * When the agent ends (end_task or deadline): reproduce.sh in a fresh container, the grade, and
   * REPRODUCTION.md proposed like any other edit. Inside the loop's final hook, so that a crash here
   * resumes into it again (judge answers are cached) rather than into a finished session.
   */
  private async finish(summary: string): Promise<{ ok: boolean; output: string } | undefined> {
    const final = this.settings.finalRun === false ? undefined : await this.runFinal();
    this.finalRun = final;
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
          cacheDir: join(this.live.dir, 'judge-cache'),
          onLeaf: (done, total) => {
            if (done === total || done % 10 === 0) this.hooks.say(`Grading: ${done}/${total} requirements`);
          },
        });
        mkdirSync(this.live.dir, { recursive: true });
        writeFileSync(join(this.live.dir, 'grade.json'), `${JSON.stringify(grade.root, null, 2)}\n`);
        this.hooks.onGrade?.(grade);
      } catch (err) {
        this.hooks.onWarning?.(`Grading failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const report = reproductionReport({
      paper: this.paper,
      ...(grade ? { grade } : {}),
      ...(summary ? { summary } : {}),
      ...(this.finalRun ? { reproduction: this.finalRun } : {}),
    });
    writeFileSync(join(this.live.dir, 'REPRODUCTION.md'), report);
    await this.sandbox.writeFile('REPRODUCTION.md', report);
    if (grade) this.emit({ type: 'grade', score: grade.score, reportPath: 'REPRODUCTION.md' });
    await this.queue.afterTool(this.agent.step); // the approval mode applies to the report too
    this.outcome = {
      ...(grade ? { score: grade.score } : {}),
      reportPath: join(this.live.dir, 'REPRODUCTION.md'),
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
