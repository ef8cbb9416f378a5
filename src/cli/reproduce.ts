/**
 * `klong reproduce`: one session on the real engine (docker sandbox, session store, edit queue,
 * paper/rubric/blacklist), with a progress line and Ctrl-C that checkpoints and exits 130.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { raiseSpendCap } from '../agent/budget';
import { retryText } from '../agent/live';
import type { ApprovalMode } from '../edits';
import { DirUserFiles, gitQuotePath, proposalsPatch } from '../edits';
import {
  DEFAULT_EARLY_END,
  type EarlyEndSettings,
  type NewSession,
  Reproduction,
  type RunHooks,
  type RunOutcome,
  type RunSettings,
  SessionStartError,
} from '../engine/reproduction';
import { FatalModelError } from '../llm/types';
import { removeSandbox } from '../sandbox';
import { SessionLockedError } from '../session';
import { paint, paintMessage } from './colour';
import { EngineControl } from './engine-control';
import { ProgressLine } from './progress';
import type { RunOptions } from './run-options';

/** `klong reproduce`'s options (reproduce-args.ts); the ones `klong batch` takes too are RunOptions. */
export interface ReproduceOptions extends RunOptions {
  paper?: string;
  workspace?: string;
  rubric?: string;
  /** Without `rubric`: have the model write one from the paper (as the extension does). */
  generateRubric?: boolean;
  blacklist?: string;
  apiKey: string;
  budgetMs?: number;
  stateDir: string;
  resume?: string;
  sessionId?: string;
  /** Absent: auto-accept for a new or empty workspace, review otherwise; a resume keeps its mode. */
  /** ask-each: each proposal is asked of the attached VS Code window; none attached: it waits in review. */
  approval?: ApprovalMode;
  /** Image when the workspace has no devcontainer.json (VS Code's klong.docker.defaultImage). */
  defaultImage?: string;
  /**
   * The engine of a VS Code session: questions (spend cap) wait for a window to attach and answer,
   * instead of stopping the session.
   */
  waitForClient?: boolean;
  /** A model response silent this long is abandoned and retried (default 120 s). */
  stallTimeoutMs?: number;
  keepContainer: boolean;
  /** Run in an engine process of its own (see session-commands.ts). */
  detach?: boolean;
  /** The early-end options given (a new session: over the defaults; a resume: over its own). */
  earlyEnd?: Partial<EarlyEndSettings>;
  /** --json: the final summary as one JSON object on stdout (the messages stay on stderr). */
  json?: boolean;
}

/** What `klong reproduce --json` prints at the end: one object, whatever the outcome. */
export interface ReproduceSummary {
  sessionId: string | null;
  /** done: finished (end_task, deadline, stopped by the user); stopped: resumable; error: did not start. */
  status: 'done' | 'stopped' | 'error';
  reason: string;
  summary: string | null;
  exitCode: number;
  paperTitle: string | null;
  workspace: string | null;
  /** 0..1 of the rubric, when graded. */
  grade: number | null;
  report: string | null;
  blacklistFindings: number;
  /** Edits not applied to the workspace (they are in `patch`). */
  pending: { path: string; change: string; additions?: number; deletions?: number; sensitive?: string }[];
  patch: string | null;
  /** The command that continues the session, when it can be resumed. */
  resume: string | null;
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
  if (!o.json) return reproduceRun(o, io);
  const summary: { value?: ReproduceSummary } = {};
  try {
    const code = await reproduceRun(o, io, summary);
    io.out.write(`${JSON.stringify(summary.value ?? { status: 'error', exitCode: code })}\n`);
    return code;
  } catch (err) {
    const exitCode = err instanceof CliError ? err.exitCode : 1;
    const e: ReproduceSummary = {
      sessionId: (err as { sessionId?: string }).sessionId ?? null,
      status: 'error',
      reason: err instanceof Error ? err.message : String(err),
      summary: null,
      exitCode,
      paperTitle: null,
      workspace: null,
      grade: null,
      report: null,
      blacklistFindings: 0,
      pending: [],
      patch: null,
      resume: null,
    };
    io.out.write(`${JSON.stringify(e)}\n`);
    throw err;
  }
}

type Say = (s: string) => void;

async function reproduceRun(
  o: ReproduceOptions,
  io: CliIO,
  out: { value?: ReproduceSummary } = {},
): Promise<number> {
  const say: Say = (s) => io.err.write(`${paintMessage(io.err, s)}\n`);
  const { from, approval } = sessionToRun(o, say);
  const settings = runSettings(o, approval);
  const view: View = {};
  const control = new EngineControl(settings.budgetMs, (m) => say(`warning: ${m}`), !!o.waitForClient);
  const run = await openReproduction({ o, settings, from, io, say, control, view });
  const workspaceDir = run.workspace;
  const sessionId = run.sessionId;
  const resumeHint = `klong reproduce --resume ${sessionId} --state-dir ${o.stateDir}`;
  say(
    `Session ${sessionId}: "${run.paper.title}" in ${workspaceDir} (model ${o.model}, ${run.budget.describe()})`,
  );
  const progress = new ProgressLine(io.err, settings.budgetMs, () => run.budget.activeMs(), run.agent.totals);
  view.progress = progress;
  control.attach(run);

  let interrupts = 0;
  const unregister = io.onInterrupt(() => {
    interrupts++;
    if (interrupts === 1) {
      progress.message('Interrupted: saving the session (Ctrl-C again to quit at once)…');
      run.stop('interrupt');
    } else {
      run.live.flush();
      process.exit(130);
    }
  });
  let removeContainer = false;
  try {
    const outcome = await run.run();
    progress.done();
    const summary = summaryOf(run, outcome, resumeHint);
    await reportPending(run, summary, say);
    const end = await reportOutcome({ run, outcome, o, io, say, resumeHint });
    removeContainer = end.removeContainer;
    summary.exitCode = end.exitCode;
    out.value = summary;
    return end.exitCode;
  } finally {
    unregister();
    progress.done();
    await control.close();
    await run.dispose();
    if (removeContainer) await removeSandbox(sessionId).catch(() => undefined);
  }
}

/** The --json summary of a run that ended or stopped (the pending edits and the exit code come after). */
function summaryOf(
  run: Reproduction,
  { result, score, reportPath, findings }: RunOutcome,
  resumeHint: string,
): ReproduceSummary {
  const done = result.status === 'done';
  return {
    sessionId: run.sessionId,
    status: result.status,
    reason: result.reason,
    summary: done ? (result.summary ?? null) : null,
    exitCode: 1,
    paperTitle: run.paper.title,
    workspace: run.workspace,
    grade: score ?? null,
    report: reportPath ?? null,
    blacklistFindings: findings ?? 0,
    pending: [],
    patch: null,
    resume: done ? null : resumeHint,
  };
}

interface OutcomeReport {
  run: Reproduction;
  outcome: RunOutcome;
  o: ReproduceOptions;
  io: CliIO;
  say: Say;
  resumeHint: string;
}

/**
 * How the run ended, for the user: the grade, the report and how to run the reproduction, or how to
 * resume. The exit code (0 done, 130 interrupted, 3 a fatal model error, else 1), and whether the
 * container may go (a finished session whose history the host holds).
 */
async function reportOutcome(r: OutcomeReport): Promise<{ exitCode: number; removeContainer: boolean }> {
  const { run, o, io, say, resumeHint } = r;
  const { result, score, reportPath, findings } = r.outcome;
  const sessionId = run.sessionId;
  const workspaceDir = run.workspace;
  if (result.status !== 'done') {
    if (result.reason === 'interrupted') {
      say(`Session ${sessionId} saved. Resume with: ${resumeHint}`);
      return { exitCode: 130, removeContainer: false };
    }
    say(`Session ${sessionId} stopped: ${result.reason}\nResume with: ${resumeHint}`);
    return { exitCode: result.error instanceof FatalModelError ? 3 : 1, removeContainer: false };
  }
  say(`Session ${sessionId} ended (${result.reason})${result.summary ? `: ${result.summary}` : ''}.`);
  if (score !== undefined)
    say(`Grade: ${paint(io.err, 'bold', `${(score * 100).toFixed(1)}%`)} of the rubric.`);
  if (findings)
    say(
      `${paint(io.err, 'yellow', '⚠ Flagged for review')}: the blacklist monitor recorded ${findings} finding(s) of blacklisted repositories (listed in the report).`,
    );
  if (reportPath) say(`Report: ${reportPath}`);
  if (existsSync(join(workspaceDir, 'reproduce.sh')))
    say(`The reproduction is in ${workspaceDir}; run it again with: cd ${workspaceDir} && bash reproduce.sh`);
  // The container goes once the host holds its history (the pending edits are in the patch).
  let removeContainer = false;
  if (!o.keepContainer) {
    removeContainer = await run.saveHistory();
    if (!removeContainer) say('The container is kept: its step history could not be saved on this machine.');
  }
  return { exitCode: 0, removeContainer };
}

/** The session to run: the one `--resume` names, or a new one (its workspace created when missing). */
function sessionToRun(o: ReproduceOptions, say: Say): { from: NewSession | string; approval?: ApprovalMode } {
  if (o.resume) return { from: o.resume, ...(o.approval ? { approval: o.approval } : {}) };
  let approval = o.approval;
  if (!o.paper)
    throw new CliError('klong reproduce: give the paper (a PDF or Markdown file, a URL or an arXiv id).');
  if (!o.workspace)
    throw new CliError('klong reproduce: --workspace DIR is required (the folder the agent works in).');
  const workspace = resolve(o.workspace);
  if (!existsSync(workspace)) {
    mkdirSync(workspace, { recursive: true });
    say(`Created the workspace ${workspace}.`);
  } else if (!statSync(workspace).isDirectory()) {
    throw new CliError(`klong reproduce: the workspace ${workspace} is a file, not a folder.`);
  }
  // Nothing of the user's to review in an empty folder: the reproduction lands there as it is written.
  if (!o.approval && readdirSync(workspace).length === 0) {
    approval = 'auto-accept';
    say(
      'The workspace is empty: the agent’s changes are written into it as they come (--approval review to review them).',
    );
  }
  const paper =
    /^(https?:|arxiv:)/i.test(o.paper) || /^\d{4}\.\d{4,5}/.test(o.paper) ? o.paper : resolve(o.paper);
  const from: NewSession = {
    paper,
    workspace,
    ...(o.rubric ? { rubric: resolve(o.rubric) } : o.generateRubric ? { generateRubric: true } : {}),
    ...(o.blacklist ? { blacklist: resolve(o.blacklist) } : {}),
    ...(o.sessionId ? { sessionId: o.sessionId } : {}),
  };
  return { from, ...(approval ? { approval } : {}) };
}

/** The engine's settings from the options (a resume overrides only the early-end values given). */
function runSettings(o: ReproduceOptions, approval: ApprovalMode | undefined): RunSettings {
  return {
    stateDir: resolve(o.stateDir),
    model: {
      baseUrl: o.baseUrl,
      apiKey: o.apiKey,
      name: o.model,
      contextLimit: o.contextLimit,
      ...(o.prices ? { prices: o.prices } : {}),
      ...(o.stallTimeoutMs ? { stallTimeoutMs: o.stallTimeoutMs } : {}),
    },
    budgetMs: o.budgetMs ?? 12 * 3600_000,
    ...(o.spendCapUsd !== undefined ? { spendCapUsd: o.spendCapUsd } : {}),
    ...(approval ? { approval } : {}),
    network: o.network,
    ...(o.image ? { image: o.image } : {}),
    ...(o.gpus ? { gpus: o.gpus } : {}),
    ...(o.defaultImage ? { defaultImage: o.defaultImage } : {}),
    finalRun: o.finalRun,
    finalTimeoutMs: o.finalTimeoutMs,
    ...(o.maxSteps !== undefined ? { maxSteps: o.maxSteps } : {}),
    labels: o.labels,
    limits: o.limits,
    ...(o.resume
      ? o.earlyEnd
        ? { earlyEndOverride: o.earlyEnd }
        : {}
      : { earlyEnd: { ...DEFAULT_EARLY_END, ...o.earlyEnd } }),
  };
}

/** The progress line, once the session runs; messages before it go to stderr as lines. */
interface View {
  progress?: ProgressLine;
}

interface OpenOptions {
  o: ReproduceOptions;
  settings: RunSettings;
  from: NewSession | string;
  io: CliIO;
  say: Say;
  control: EngineControl;
  view: View;
}

/**
 * Reproduction.open with the terminal's hooks; Ctrl-C while the sandbox is opened (a default image
 * build can take minutes) cancels it. A start that fails says how to resume the session.
 */
async function openReproduction({
  o,
  settings,
  from,
  io,
  say,
  control,
  view,
}: OpenOptions): Promise<Reproduction> {
  const opening = new AbortController();
  const stopOpening = io.onInterrupt(() => {
    if (opening.signal.aborted) process.exit(130);
    say('Interrupted: cancelling (Ctrl-C again to quit at once)…');
    opening.abort();
  });
  let run: Reproduction;
  try {
    run = await Reproduction.open(settings, from, {
      signal: opening.signal,
      ...terminalHooks(control, view, say),
    });
  } catch (err) {
    stopOpening();
    await control.close();
    if (err instanceof SessionLockedError) throw new CliError(`${err.message} Close it there first.`);
    if (err instanceof CliError) throw err;
    if (err instanceof SessionStartError) {
      throw new CliError(
        opening.signal.aborted
          ? `${err.message}\nResume session ${err.sessionId} with: klong reproduce --resume ${err.sessionId} --state-dir ${o.stateDir}`
          : `${err.message}\nSession ${err.sessionId} did not start. Fix the cause, then resume it with: klong reproduce --resume ${err.sessionId} --state-dir ${o.stateDir}`,
        opening.signal.aborted ? 130 : 1,
      );
    }
    throw new CliError(err instanceof Error ? err.message : String(err), 1);
  }
  stopOpening();
  return run;
}

/** Where the engine's messages go in a terminal (and to attached clients), and how it asks. */
function terminalHooks(control: EngineControl, view: View, say: Say): RunHooks {
  return {
    say: (m) => {
      control.message('info', m);
      if (view.progress) view.progress.message(m);
      else say(m);
    },
    onEvent: (e) => {
      view.progress?.onEvent(e);
      control.event(e);
    },
    onLive: (m) => {
      control.onLive(m);
      if (view.progress) view.progress.live(m);
      else if (m.kind === 'retry') say(`Model request failed: ${retryText(m, Date.now())}.`);
    },
    onWarning: (m) => {
      control.message('warning', m);
      if (view.progress) view.progress.message(`warning: ${m}`);
      else say(`warning: ${m}`);
    },
    onSessionOpened: (live) => control.open(live),
    // The spend cap asks an attached VS Code window; headless, it stops the session (resumable).
    onSpendCap: async (reason, totals) => {
      const next = raiseSpendCap(totals, 10);
      const a = await control.ask({
        kind: 'spendCap',
        reason,
        spentUsd: totals.usd,
        nextCapUsd: next.usd ?? 0,
      });
      return a?.yes ? next : undefined;
    },
    // ask-each: the window answers; without one the proposal waits (review), the agent goes on.
    decide: async (p) => {
      const a = await control.ask({
        kind: 'edit',
        path: p.path,
        change: p.change,
        summary: p.wholeFileOnly ? 'binary or large' : `+${p.stats.additions} −${p.stats.deletions}`,
        ...(p.sensitive ? { sensitive: p.sensitive } : {}),
      });
      if (!a) return undefined;
      return a.yes
        ? { decision: 'accept' }
        : { decision: 'reject', ...(a.reason ? { reason: a.reason } : {}) };
    },
    // The session's own folder: on a resume it comes from the session log.
    userFiles: (workspace) => new DirUserFiles(workspace),
  };
}

/** Edits not applied to the user's folder: listed, and written to proposals.patch in the session folder. */
async function reportPending(run: Reproduction, summary: ReproduceSummary, say: Say): Promise<void> {
  const pending = run.queue.list();
  summary.pending = pending.map((p) => ({
    path: p.path,
    change: p.change,
    ...(p.wholeFileOnly ? {} : { additions: p.stats.additions, deletions: p.stats.deletions }),
    ...(p.sensitive ? { sensitive: p.sensitive } : {}),
  }));
  // Changes the queue could not propose (a name that is not UTF-8) are kept in the patch too.
  const unproposed = (await run.sandbox.changes().catch(() => [])).filter((c) => !run.queue.get(c.path));
  if (!pending.length && !unproposed.length) return;
  const patchFile = join(run.live.dir, 'proposals.patch');
  const complete = await writePatch(run, patchFile);
  summary.patch = patchFile;
  say(`${pending.length + unproposed.length} proposed edit(s) not applied to ${run.workspace}:`);
  for (const p of pending)
    say(
      `  ${p.change.padEnd(8)} ${gitQuotePath(p.path)} (${p.wholeFileOnly ? (complete ? 'binary or large' : 'binary or large: not in the patch; the container keeps it') : `+${p.stats.additions} −${p.stats.deletions}`})${p.sensitive ? `  SENSITIVE: ${p.sensitive}` : ''}`,
    );
  for (const c of unproposed) say(`  ${c.kind.padEnd(8)} ${gitQuotePath(c.path)} (not proposable)`);
  const sensitive = pending.filter((p) => p.sensitive).length;
  if (sensitive)
    say(
      `${sensitive} of them touch what runs on your machine (git, editor, devcontainer, CI, executables): never applied automatically; read them before you apply the patch.`,
    );
  say(
    `The patch is in ${patchFile} (git apply${complete ? '' : '; text files only'}); \`klong diff ${run.sessionId}\` shows every change of the session.`,
  );
}

/**
 * The pending proposals as proposals.patch: written by git in the container (binary files and any
 * file name included), or, when that fails, from the text proposals. True when complete.
 */
async function writePatch(run: Reproduction, patchFile: string): Promise<boolean> {
  const tmp = `${patchFile}.${process.pid}.tmp`;
  try {
    await run.sandbox.pendingPatch(tmp);
    renameSync(tmp, patchFile);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    writeFileSync(patchFile, proposalsPatch(run.queue.list()));
    return false;
  }
}
