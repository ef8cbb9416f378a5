/**
 * `klong reproduce`: one session on the real engine (docker sandbox, session store, edit queue,
 * paper/rubric/blacklist), with a progress line and Ctrl-C that checkpoints and exits 130.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { systemClock, TimeBudget } from '../agent/budget';
import { ContextManager } from '../agent/context';
import type { EventSink } from '../agent/events';
import { buildHead } from '../agent/head';
import { AgentSession, type SessionState } from '../agent/loop';
import { defaultSystemPrompt, defaultTask } from '../agent/prompt';
import { estimateCounter } from '../agent/tokens';
import { type ApprovalMode, DirUserFiles, EditQueue } from '../edits';
import { OpenAIModelClient } from '../llm/openai-client';
import { FatalModelError, type Prices } from '../llm/types';
import { createPaperReader, loadBlacklist, loadPaper, loadRubric, runReproduction } from '../paper';
import type { Paper, RubricNode } from '../paper/types';
import { type DockerSandbox, openSandbox, removeSandbox, runFreshContainer } from '../sandbox';
import { type LiveSession, SessionLockedError, SessionStore } from '../session';
import { ProgressLine } from './progress';

export interface ReproduceOptions {
  paper?: string;
  workspace?: string;
  rubric?: string;
  blacklist?: string;
  model: string;
  baseUrl: string;
  apiKey: string;
  budgetMs?: number;
  stateDir: string;
  resume?: string;
  sessionId?: string;
  approval: Extract<ApprovalMode, 'auto-accept' | 'review'>;
  spendCapUsd?: number;
  contextLimit: number;
  network: string;
  image?: string;
  maxSteps?: number;
  /** A model response silent this long is abandoned and retried (default 120 s). */
  stallTimeoutMs?: number;
  finalRun: boolean;
  finalTimeoutMs: number;
  keepContainer: boolean;
  labels: Record<string, string>;
  prices: Prices;
}

export interface CliIO {
  out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  err: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean; columns?: number };
  /** Registers the Ctrl-C handler; returns an unregister function. */
  onInterrupt(handler: () => void): () => void;
}

/** Options that a resume needs again, kept beside the session's log. */
interface SavedOptions {
  paper: string;
  rubric?: string;
  blacklist?: string;
  approval: ReproduceOptions['approval'];
  network: string;
  image?: string;
  contextLimit: number;
  spendCapUsd?: number;
  baseUrl: string;
}
const SAVED = 'klong-cli.json';

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export async function reproduce(o: ReproduceOptions, io: CliIO): Promise<number> {
  const say = (s: string) => io.err.write(`${s}\n`);
  const store = new SessionStore(resolve(o.stateDir));
  let live: LiveSession;
  let saved: SavedOptions;
  let workspace: string;
  let paper: Paper;
  let budgetMs: number;

  if (o.resume) {
    try {
      live = store.resume(o.resume);
    } catch (err) {
      if (err instanceof SessionLockedError) throw new CliError(`${err.message} Close it there first.`);
      throw new CliError(err instanceof Error ? err.message : String(err));
    }
    const file = join(live.dir, SAVED);
    saved = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as SavedOptions)
      : {
          paper: live.summary.paperPath,
          approval: o.approval,
          network: o.network,
          contextLimit: o.contextLimit,
          baseUrl: o.baseUrl,
        };
    workspace = live.summary.workspace;
    budgetMs = o.budgetMs ?? live.summary.budgetMs;
    paper = await loadPaper(o.paper ?? saved.paper, { cacheDir: join(o.stateDir, 'papers') });
    for (const w of live.warnings) say(`warning: ${w}`);
  } else {
    if (!o.paper)
      throw new CliError('klong reproduce: give the paper (a PDF or Markdown file, a URL or an arXiv id).');
    if (!o.workspace)
      throw new CliError('klong reproduce: --workspace DIR is required (the folder the agent works in).');
    workspace = resolve(o.workspace);
    if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
      throw new CliError(
        `klong reproduce: the workspace ${workspace} is not a folder. Create it first (it may be empty).`,
      );
    }
    const paperArg =
      /^(https?:|arxiv:)/i.test(o.paper) || /^\d{4}\.\d{4,5}/.test(o.paper) ? o.paper : resolve(o.paper);
    paper = await loadPaper(paperArg, { cacheDir: join(o.stateDir, 'papers') });
    budgetMs = o.budgetMs ?? 12 * 3600_000;
    saved = {
      paper: paperArg,
      ...(o.rubric ? { rubric: resolve(o.rubric) } : {}),
      ...(o.blacklist ? { blacklist: resolve(o.blacklist) } : {}),
      approval: o.approval,
      network: o.network,
      ...(o.image ? { image: o.image } : {}),
      contextLimit: o.contextLimit,
      ...(o.spendCapUsd !== undefined ? { spendCapUsd: o.spendCapUsd } : {}),
      baseUrl: o.baseUrl,
    };
    const rubricCheck = saved.rubric ? await loadRubric(saved.rubric) : undefined; // fail before creating anything
    void rubricCheck;
    live = store.create({
      ...(o.sessionId ? { sessionId: o.sessionId } : {}),
      paperTitle: paper.title,
      paperPath: paperArg,
      workspace,
      model: o.model,
      budgetMs,
    });
    writeFileSync(join(live.dir, SAVED), JSON.stringify(saved, null, 2));
  }

  const sessionId = live.sessionId;
  const resumeHint = `klong reproduce --resume ${sessionId} --state-dir ${o.stateDir}`;
  let sandbox: DockerSandbox | undefined;
  let progress: ProgressLine | undefined;
  let unregister = () => {};
  try {
    const rubric: RubricNode | undefined = saved.rubric ? await loadRubric(saved.rubric) : undefined;
    const blacklist = await loadBlacklist({ paper, ...(saved.blacklist ? { file: saved.blacklist } : {}) });
    say(
      `Session ${sessionId}: "${paper.title}" in ${workspace} (model ${o.model}, budget ${Math.round(budgetMs / 60_000)} min)`,
    );
    sandbox = await openSandbox({
      workspace,
      sessionId,
      network: saved.network,
      ...(saved.image ? { image: saved.image } : {}),
      labels: o.labels,
      onProgress: (m) => say(`sandbox: ${m}`),
    });

    const snapState = live.snapshot?.state as SessionState | undefined;
    const budgetFrom = snapState?.budget
      ? { ...snapState.budget, activeMs: Math.max(snapState.budget.activeMs, live.summary.activeMs) }
      : live.summary.activeMs
        ? { activeMs: live.summary.activeMs, softWarned: false, stage: 'understand' as const }
        : undefined;
    const budget = new TimeBudget({ totalMs: budgetMs }, systemClock, budgetFrom);
    progress = new ProgressLine(io.err, budgetMs, () => budget.activeMs(), snapState?.loop.totals);
    const sink: EventSink = (e) => {
      live.sink(e);
      progress?.onEvent(e);
    };
    const model = new OpenAIModelClient({
      baseURL: o.baseUrl,
      apiKey: o.apiKey,
      model: o.model,
      ...(o.stallTimeoutMs ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
      onRetry: (r) =>
        sink({
          type: 'error',
          message: `Model request failed (${r.reason}); retry ${r.attempt} in ${Math.round(r.delayMs / 1000)} s.`,
          fatal: false,
        }),
    });
    const freshContext = () =>
      new ContextManager(
        buildHead(
          {
            systemPrompt: defaultSystemPrompt(sandbox!.workdir),
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
      user: new DirUserFiles(workspace),
      emit: sink,
      mode: saved.approval,
      onFeedback: (t) => agent.injectUserMessage(t),
      onWarning: (m) => progress?.message(`edits: ${m}`),
    });
    const sb = sandbox;
    agent = AgentSession.restore(
      {
        sandbox: sb,
        model,
        sink,
        budget,
        paper: createPaperReader(paper),
        isBlocked: (c) => blacklist.refusal(c),
        prices: o.prices,
        ...(saved.spendCapUsd ? { spendCap: { usd: saved.spendCapUsd } } : {}),
        onSpendCap: async () => undefined, // headless: stop (resumable) and say so
        afterTool: queue.hook(),
        ...(o.finalRun
          ? {
              finalReproduction: async () => {
                progress?.message('Final reproduction: running reproduce.sh in a fresh container…');
                const r = await runReproduction(
                  {
                    run: (command, timeoutMs) =>
                      runFreshContainer({
                        image: sb.info.image,
                        source: sb,
                        command,
                        timeoutMs,
                        network: saved.network,
                        labels: o.labels,
                      }),
                  },
                  { timeoutMs: o.finalTimeoutMs },
                );
                return { ok: r.ran && r.exitCode === 0, output: r.log };
              },
            }
          : {}),
        onStepEnd: ({ final }) => {
          if (final) live.snapshotNow(agent.snapshot());
          else live.endStep(() => agent.snapshot());
        },
        ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
      },
      { ...(snapState ? { state: snapState } : {}), tail: live.tail, freshContext },
      estimateCounter,
    );
    if (!o.resume) live.snapshotNow(agent.snapshot()); // the head is in every snapshot from the start

    let interrupts = 0;
    unregister = io.onInterrupt(() => {
      interrupts++;
      if (interrupts === 1) {
        progress?.message('Interrupted: saving the session (Ctrl-C again to quit at once)…');
        agent.stop('interrupt');
      } else {
        live.flush();
        process.exit(130);
      }
    });

    const result = await agent.run();
    progress.done();
    const pending = queue.list();
    if (pending.length) {
      const patch = pending
        .filter((p) => !p.wholeFileOnly)
        .map((p) => createTwoFilesPatch(`a/${p.path}`, `b/${p.path}`, p.before ?? '', p.after ?? ''))
        .join('');
      const patchFile = join(live.dir, 'proposals.patch');
      writeFileSync(patchFile, patch);
      say(`${pending.length} proposed edit(s) not applied to ${workspace}:`);
      for (const p of pending)
        say(`  ${p.change.padEnd(8)} ${p.path} (+${p.stats.additions} −${p.stats.deletions})`);
      say(`The patch is in ${patchFile} (git apply); the container keeps the changes.`);
    }
    if (result.status === 'done') {
      say(`Session ${sessionId} ended (${result.reason})${result.summary ? `: ${result.summary}` : ''}.`);
      if (!o.keepContainer && !pending.length) {
        await removeSandbox(sessionId).catch(() => undefined);
        sandbox = undefined;
      }
      return 0;
    }
    if (result.reason === 'interrupted') {
      say(`Session ${sessionId} saved. Resume with: ${resumeHint}`);
      return 130;
    }
    say(`Session ${sessionId} stopped: ${result.reason}\nResume with: ${resumeHint}`);
    return result.error instanceof FatalModelError ? 3 : 1;
  } finally {
    unregister();
    progress?.done();
    await sandbox?.dispose().catch(() => undefined);
    live.close();
  }
}
