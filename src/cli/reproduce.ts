/**
 * `klong reproduce`: one session on the real engine (docker sandbox, session store, edit queue,
 * paper/rubric/blacklist), with a progress line and Ctrl-C that checkpoints and exits 130.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTwoFilesPatch } from 'diff';
import type { ApprovalMode } from '../edits';
import { DirUserFiles } from '../edits';
import { type NewSession, Reproduction, type RunSettings } from '../engine/reproduction';
import { FatalModelError, type Prices } from '../llm/types';
import { removeSandbox } from '../sandbox';
import { SessionLockedError, SessionStore } from '../session';
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
  let from: NewSession | string;
  if (o.resume) from = o.resume;
  else {
    if (!o.paper)
      throw new CliError('klong reproduce: give the paper (a PDF or Markdown file, a URL or an arXiv id).');
    if (!o.workspace)
      throw new CliError('klong reproduce: --workspace DIR is required (the folder the agent works in).');
    const workspace = resolve(o.workspace);
    if (!existsSync(workspace) || !statSync(workspace).isDirectory()) {
      throw new CliError(
        `klong reproduce: the workspace ${workspace} is not a folder. Create it first (it may be empty).`,
      );
    }
    const paper =
      /^(https?:|arxiv:)/i.test(o.paper) || /^\d{4}\.\d{4,5}/.test(o.paper) ? o.paper : resolve(o.paper);
    from = {
      paper,
      workspace,
      ...(o.rubric ? { rubric: resolve(o.rubric) } : {}),
      ...(o.blacklist ? { blacklist: resolve(o.blacklist) } : {}),
      ...(o.sessionId ? { sessionId: o.sessionId } : {}),
    };
  }
  const stateDir = resolve(o.stateDir);
  const settings: RunSettings = {
    stateDir,
    model: {
      baseUrl: o.baseUrl,
      apiKey: o.apiKey,
      name: o.model,
      contextLimit: o.contextLimit,
      prices: o.prices,
      ...(o.stallTimeoutMs ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
    },
    budgetMs: o.budgetMs ?? 12 * 3600_000,
    ...(o.spendCapUsd !== undefined ? { spendCapUsd: o.spendCapUsd } : {}),
    approval: o.approval,
    network: o.network,
    ...(o.image ? { image: o.image } : {}),
    finalRun: o.finalRun,
    finalTimeoutMs: o.finalTimeoutMs,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    labels: o.labels,
  };

  let progress: ProgressLine | undefined;
  // Read before Reproduction.open: a resume in auto-accept mode decides on proposals while opening.
  let workspaceDir =
    typeof from === 'string' ? (new SessionStore(stateDir).get(from)?.workspace ?? '') : from.workspace;
  let run: Reproduction;
  try {
    run = await Reproduction.open(settings, from, {
      say: (m) => (progress ? progress.message(m) : say(m)),
      onEvent: (e) => progress?.onEvent(e),
      onWarning: (m) => (progress ? progress.message(`warning: ${m}`) : say(`warning: ${m}`)),
      // Headless: the spend cap stops the session (resumable) and says so.
      onSpendCap: async () => undefined,
      get userFiles() {
        return new DirUserFiles(workspaceDir);
      },
    });
  } catch (err) {
    if (err instanceof SessionLockedError) throw new CliError(`${err.message} Close it there first.`);
    if (err instanceof CliError) throw err;
    throw new CliError(err instanceof Error ? err.message : String(err), 1);
  }
  workspaceDir = run.workspace;
  const sessionId = run.sessionId;
  const resumeHint = `klong reproduce --resume ${sessionId} --state-dir ${o.stateDir}`;
  say(
    `Session ${sessionId}: "${run.paper.title}" in ${workspaceDir} (model ${o.model}, ${run.budget.describe()})`,
  );
  progress = new ProgressLine(io.err, settings.budgetMs, () => run.budget.activeMs(), run.agent.totals);

  let interrupts = 0;
  const unregister = io.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      progress?.message('Interrupted: saving the session (Ctrl-C again to quit at once)…');
      run.stop('interrupt');
    } else {
      run.live.flush();
      process.exit(130);
    }
  });
  let removeContainer = false;
  try {
    const { result, score, reportPath } = await run.run();
    progress.done();
    const pending = run.queue.list();
    if (pending.length) {
      const patch = pending
        .filter((p) => !p.wholeFileOnly)
        .map((p) => createTwoFilesPatch(`a/${p.path}`, `b/${p.path}`, p.before ?? '', p.after ?? ''))
        .join('');
      const patchFile = join(run.live.dir, 'proposals.patch');
      writeFileSync(patchFile, patch);
      say(`${pending.length} proposed edit(s) not applied to ${workspaceDir}:`);
      for (const p of pending)
        say(`  ${p.change.padEnd(8)} ${p.path} (+${p.stats.additions} −${p.stats.deletions})`);
      say(
        `The patch is in ${patchFile} (git apply); \`klong diff ${sessionId}\` shows every change of the session.`,
      );
    }
    if (result.status === 'done') {
      say(`Session ${sessionId} ended (${result.reason})${result.summary ? `: ${result.summary}` : ''}.`);
      if (score !== undefined) say(`Grade: ${(score * 100).toFixed(1)}% of the rubric.`);
      if (reportPath) say(`Report: ${reportPath}`);
      // The container goes once the host holds its history (the pending edits are in the patch).
      if (!o.keepContainer) {
        removeContainer = await run.saveHistory();
        if (!removeContainer)
          say('The container is kept: its step history could not be saved on this machine.');
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
    progress.done();
    await run.dispose();
    if (removeContainer) await removeSandbox(sessionId).catch(() => undefined);
  }
}
