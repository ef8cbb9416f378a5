/**
 * Rewind and review on the real engine, shared by the CLI and the extension. The step history is
 * the session log (which step has which commit, see agent/rewind.ts); the files are the shadow git
 * inside the session's container, mirrored step by step into history.git in the session folder, so
 * diff, review and rewind also work once the container is gone.
 */

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkRewind, foldHistory, type History, rewindNote } from '../agent/rewind';
import type { AgentEvent, AgentEventBody, RewindMode } from '../events/events';
import {
  attachSandbox,
  type DockerSandbox,
  HostGitMissingError,
  HostHistory,
  SandboxError,
} from '../sandbox';
import { EventLog, SessionLockedError, SessionStore } from '../session';
import { writeFileAtomic } from '../session/fsutil';

type Mirrorable = Pick<DockerSandbox, 'mirrorHistory' | 'baselineMoved'>;

/**
 * Keeps a session's step history on the host (history.git in its folder). A failure never stops the
 * agent (the next step sends what is missing); a host without git is said once, then left alone.
 */
export class HistoryKeeper {
  readonly history: HostHistory;
  private off = false;
  private lastWarning = '';
  /** Whether the last mirror succeeded: the host has every step recorded so far. */
  upToDate = false;

  constructor(
    sessionDir: string,
    private readonly onWarning?: (m: string) => void,
  ) {
    this.history = HostHistory.of(sessionDir);
  }

  async mirror(sandbox: Mirrorable): Promise<boolean> {
    if (this.off) return false;
    try {
      await sandbox.mirrorHistory(this.history);
      this.upToDate = true;
      this.lastWarning = '';
      return true;
    } catch (err) {
      this.upToDate = false;
      if (err instanceof HostGitMissingError) {
        this.off = true;
        this.onWarning?.(`${err.message} ${err.hint}`);
      } else {
        const m = `Could not keep the step history on this machine: ${(err as Error).message}`;
        if (m !== this.lastWarning) this.onWarning?.(m); // once per distinct problem, not every step
        this.lastWarning = m;
      }
      return false;
    }
  }
}

/**
 * After each step: commit the workspace if it changed, send it to the host history (with the
 * baseline, when an accept moved it), and name the commit in a checkpoint event.
 */
export async function recordStep(
  sandbox: Pick<DockerSandbox, 'commitStep'> & Partial<Mirrorable>,
  step: number,
  emit: (e: AgentEventBody) => void,
  onWarning?: (m: string) => void,
  keeper?: HistoryKeeper,
): Promise<string | undefined> {
  let commit: string | undefined;
  try {
    commit = await sandbox.commitStep(step);
  } catch (err) {
    // The step history is a convenience: a failure must not stop the agent; the next step retries.
    onWarning?.(`Could not record the files of step ${step}: ${(err as Error).message}`);
    return undefined;
  }
  if (keeper && sandbox.mirrorHistory && (commit || sandbox.baselineMoved || !keeper.upToDate))
    await keeper.mirror(sandbox as Mirrorable);
  if (commit) emit({ type: 'checkpoint', step, commit });
  return commit;
}

/** The session's history on the host when it holds `commit` (or, without one, its root). */
async function hostHistoryWith(
  sessionDir: string,
  commit: string | undefined,
): Promise<HostHistory | undefined> {
  const h = HostHistory.of(sessionDir);
  if (!h.exists()) return undefined;
  try {
    const refs = await h.refs();
    if (!refs.root) return undefined;
    if (commit && !(await h.has(commit))) return undefined;
    return h;
  } catch {
    return undefined; // no git on this machine: the container is the only way
  }
}

/** Reading a session's step commits: from the host history, or from the session's container. */
export interface StepReader {
  rootCommit(): Promise<string>;
  diffCommits(from: string, to: string): Promise<string>;
  changedBetween(
    from: string,
    to: string,
  ): Promise<{ path: string; kind: 'added' | 'modified' | 'deleted' }[]>;
  fileAt(commit: string, path: string): Promise<Uint8Array | null>;
  dispose(): Promise<void>;
}

function hostReader(h: HostHistory): StepReader {
  return {
    rootCommit: async () => (await h.refs()).root!,
    diffCommits: (a, b) => h.diff(a, b),
    changedBetween: (a, b) => h.changedBetween(a, b),
    fileAt: (c, p) => h.contentAt(c, p),
    dispose: async () => undefined,
  };
}

/**
 * The step commits of a session, read from the host history when it has the session's latest
 * code, otherwise from its container (a session from before the host history, or a host without git).
 */
export async function stepReader(o: {
  stateDir: string;
  sessionId: string;
  dockerHost?: string;
  history?: History;
}): Promise<StepReader> {
  const store = new SessionStore(o.stateDir);
  if (!store.get(o.sessionId)) throw new Error(`No session ${o.sessionId} in ${o.stateDir}.`);
  const h = o.history ?? readHistory(o.stateDir, o.sessionId).history;
  const host = await hostHistoryWith(store.dirOf(o.sessionId), h.code);
  if (host) return hostReader(host);
  const sb = await attachSandbox(o.sessionId, o.dockerHost);
  return {
    rootCommit: () => sb.rootCommit(),
    diffCommits: (a, b) => sb.diffCommits(a, b),
    changedBetween: (a, b) => sb.changedBetween(a, b),
    fileAt: (c, p) => sb.fileAt(c, p),
    dispose: () => sb.dispose().catch(() => undefined),
  };
}

/** Every event of a session, read without taking its lock. */
export function readHistory(stateDir: string, sessionId: string): { events: AgentEvent[]; history: History } {
  const store = new SessionStore(stateDir);
  if (!store.get(sessionId)) throw new Error(`No session ${sessionId} in ${stateDir}.`);
  const log = EventLog.open(store.dirOf(sessionId), { mode: 'read' });
  try {
    const events = [...log.iterate(0, log.durableCount)];
    return { events, history: foldHistory(events) };
  } finally {
    log.close();
  }
}

export interface RewindRequest {
  stateDir: string;
  sessionId: string;
  toStep: number;
  mode: RewindMode;
  dockerHost?: string;
  /** An already attached sandbox of the session (the extension's); otherwise it is attached here. */
  sandbox?: DockerSandbox;
}

export interface RewindOutcome {
  fromStep: number;
  toStep: number;
  mode: RewindMode;
  commit?: string;
  /** Files that now differ from the baseline (the recomputed proposals). */
  changedFiles: number;
}

/**
 * Rewinds a session that no process is running (its lock is taken for the time of the rewind):
 * restores the files in its container and appends the rewind event and a note for the agent.
 * The next resume continues from the new point.
 */
export async function rewindSession(r: RewindRequest): Promise<RewindOutcome> {
  const store = new SessionStore(r.stateDir);
  if (!store.get(r.sessionId)) throw new Error(`No session ${r.sessionId} in ${r.stateDir}.`);
  const live = store.resume(r.sessionId); // refuses while another process drives it
  let sandbox = r.sandbox;
  const own = !sandbox;
  try {
    const h = foldHistory(live.log.iterate(0, live.log.durableCount));
    const target = checkRewind(h, r.toStep, r.mode);
    let commit: string | undefined;
    let changedFiles = 0;
    if (r.mode !== 'conversation') {
      if (!sandbox) {
        try {
          sandbox = await attachSandbox(r.sessionId, r.dockerHost);
        } catch (err) {
          if (!(err instanceof SandboxError && err.code === 'CONTAINER_GONE')) throw err;
          // No container: the host history has the files; the next resume rebuilds the container
          // at the rewound step (the rewind event names its commit).
          const host = await hostHistoryWith(live.dir, target.code);
          if (!host) throw err;
          const refs = await host.refs();
          commit = target.code ?? refs.root!;
          changedFiles = refs.baseline ? (await host.changedBetween(refs.baseline, commit)).length : 0;
        }
      }
      if (sandbox) {
        commit = target.code ?? (await sandbox.rootCommit());
        await sandbox.restoreCommit(commit);
        changedFiles = (await sandbox.changes()).length;
        await new HistoryKeeper(live.dir).mirror(sandbox);
      }
    }
    live.append({
      type: 'rewind',
      toStep: r.toStep,
      mode: r.mode,
      fromStep: h.head,
      ...(commit ? { commit } : {}),
    });
    live.append({ type: 'user_message', text: rewindNote(r.toStep, r.mode) });
    if (r.mode !== 'code' && live.summary.status !== 'stopped' && live.summary.status !== 'paused') {
      // An ended session becomes resumable again from the new point.
      live.append({ type: 'status', status: 'stopped', reason: `rewound to step ${r.toStep}` });
    }
    live.flush();
    return { fromStep: h.head, toStep: r.toStep, mode: r.mode, ...(commit ? { commit } : {}), changedFiles };
  } finally {
    live.close();
    if (own && sandbox) await sandbox.dispose().catch(() => undefined);
  }
}

/**
 * A rewind asked of a running session (over its control channel), written before the engine acts
 * on it: an engine killed between the request and the rewind's events leaves it here, and the
 * next start of the session finishes it (`finishPendingRewind`) before the agent goes on.
 */
export const REWIND_REQUEST = 'rewind.json';

export interface PendingRewind {
  toStep: number;
  mode: RewindMode;
  /** Events in the log when it was asked: a `rewind` event at or after this index means it was done. */
  afterEvents: number;
}

export function requestRewind(sessionDir: string, r: PendingRewind): void {
  writeFileAtomic(join(sessionDir, REWIND_REQUEST), `${JSON.stringify(r)}\n`);
}

export function pendingRewind(sessionDir: string): PendingRewind | undefined {
  const file = join(sessionDir, REWIND_REQUEST);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as PendingRewind;
    if (Number.isInteger(r.toStep) && ['code', 'conversation', 'both'].includes(r.mode)) return r;
  } catch {
    // written atomically: unreadable only if edited by hand
  }
  rmSync(file, { force: true });
  return undefined;
}

/**
 * Does the rewind a session's engine accepted and did not finish (it was killed), under the
 * session's lock; undefined when there is none or the log shows it done. The request is removed
 * either way: a rewind that cannot be done (its step gone) must not block every later resume.
 */
export async function finishPendingRewind(o: {
  stateDir: string;
  sessionId: string;
  dockerHost?: string;
  sandbox?: DockerSandbox;
}): Promise<RewindOutcome | undefined> {
  const dir = new SessionStore(o.stateDir).dirOf(o.sessionId);
  const p = pendingRewind(dir);
  if (!p) return undefined;
  const log = EventLog.open(dir, { mode: 'read' });
  let done = false;
  try {
    for (const e of log.iterate(Math.min(p.afterEvents, log.durableCount), log.durableCount))
      if (e.type === 'rewind') done = true;
  } finally {
    log.close();
  }
  const clear = () => rmSync(join(dir, REWIND_REQUEST), { force: true });
  let out: RewindOutcome | undefined;
  try {
    out = done ? undefined : await rewindSession({ ...o, toStep: p.toStep, mode: p.mode });
  } catch (err) {
    if (!(err instanceof SessionLockedError)) clear(); // locked: its driver does it
    throw err;
  }
  clear();
  return out;
}

export interface StepRange {
  /** Commit of the left side (the code after step `from`). */
  from: string;
  /** Commit of the right side. */
  to: string;
}

/**
 * Commits of a step range: from step N's code to step M's code. Defaults: from = 0 (as copied
 * in), to = the workspace now (the last recorded code).
 */
export async function stepRange(
  h: History,
  sandbox: Pick<StepReader, 'rootCommit'>,
  from?: number,
  to?: number,
): Promise<StepRange> {
  const codeOf = (s: number, what: string) => {
    const node = h.steps.get(s);
    if (!node) throw new Error(`${what} ${s} is not a step of this session (steps 0–${h.maxStep}).`);
    return node.code;
  };
  const root = await sandbox.rootCommit();
  const a = from === undefined ? undefined : codeOf(from, '--from');
  const b = to === undefined ? h.code : codeOf(to, '--to');
  return { from: a ?? root, to: b ?? root };
}

/** The code before and after one step (its parent's code → its own). */
export function stepOwnRange(h: History, step: number): { from: number; to: number } {
  const node = h.steps.get(step);
  if (!node || step === 0) throw new Error(`Step ${step} is not a step of this session.`);
  return { from: node.parent, to: step };
}

/** Unified diff of a session between two steps (see stepRange for the defaults). */
export async function diffSession(o: {
  stateDir: string;
  sessionId: string;
  from?: number;
  to?: number;
  dockerHost?: string;
}): Promise<string> {
  const { history } = readHistory(o.stateDir, o.sessionId);
  const reader = await stepReader({ ...o, history });
  try {
    const range = await stepRange(history, reader, o.from, o.to);
    return await reader.diffCommits(range.from, range.to);
  } finally {
    await reader.dispose();
  }
}
