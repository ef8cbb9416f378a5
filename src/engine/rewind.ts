/**
 * Rewind and review on the real engine, shared by the CLI and the extension. The step history is
 * the session log (which step has which commit, see agent/rewind.ts); the files are the shadow git
 * inside the session's container.
 */
import type { AgentEvent, AgentEventBody, RewindMode } from '../agent/events';
import { checkRewind, foldHistory, type History, rewindNote } from '../agent/rewind';
import { attachSandbox, type DockerSandbox } from '../sandbox';
import { EventLog, SessionStore } from '../session';

/** After each step: commit the workspace if it changed, and name the commit in a checkpoint event. */
export async function recordStep(
  sandbox: Pick<DockerSandbox, 'commitStep'>,
  step: number,
  emit: (e: AgentEventBody) => void,
  onWarning?: (m: string) => void,
): Promise<string | undefined> {
  try {
    const commit = await sandbox.commitStep(step);
    if (commit) emit({ type: 'checkpoint', step, commit });
    return commit;
  } catch (err) {
    // The step history is a convenience: a failure must not stop the agent; the next step retries.
    onWarning?.(`Could not record the files of step ${step}: ${(err as Error).message}`);
    return undefined;
  }
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
      sandbox ??= await attachSandbox(r.sessionId, r.dockerHost);
      commit = target.code ?? (await sandbox.rootCommit());
      await sandbox.restoreCommit(commit);
      changedFiles = (await sandbox.changes()).length;
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
  sandbox: Pick<DockerSandbox, 'rootCommit'>,
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
  const sandbox = await attachSandbox(o.sessionId, o.dockerHost);
  try {
    const range = await stepRange(history, sandbox, o.from, o.to);
    return await sandbox.diffCommits(range.from, range.to);
  } finally {
    await sandbox.dispose().catch(() => undefined);
  }
}
