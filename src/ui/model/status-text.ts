/** Status bar text, colour, context key and menu of a session state (no `vscode`: unit-testable). */
import { gradingText, retryText } from '../../agent/live';
import type { ApprovalMode } from '../../edits/queue';
import type { ProgressState } from '../../protocol/progress';

const ICON: Record<ProgressState['status'], string> = {
  idle: '$(beaker)',
  starting: '$(loading~spin)',
  running: '$(sync~spin)',
  paused: '$(debug-pause)',
  stopped: '$(debug-stop)',
  done: '$(pass)',
  failed: '$(error)',
};

export const MODE_LABEL: Record<ApprovalMode, { title: string; icon: string }> = {
  review: { title: 'Review', icon: '$(eye)' },
  'auto-accept': { title: 'Auto-accept', icon: '$(check-all)' },
  'ask-each': { title: 'Ask each', icon: '$(question)' },
};

/** What the edits controller adds: its approval mode, its queue, and whether it waits for the user. */
export interface EditsState {
  /** A session's queue is attached. */
  active: boolean;
  mode: ApprovalMode;
  /** Proposals waiting for a decision (the queue's count when attached). */
  pending: number;
  /** ask-each asks about a change now: the agent waits for the user. */
  waiting: boolean;
}

/** The value of the `klong.sessionState` context key (menus use running / paused / idle). */
export function contextState(status: ProgressState['status']): 'running' | 'paused' | 'idle' {
  return status === 'running' || status === 'starting' ? 'running' : status === 'paused' ? 'paused' : 'idle';
}

function hm(ms: number): string {
  const m = Math.floor(ms / 60_000);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Pending proposals, counted once: the attached queue's count, else the session's. */
export function pendingCount(s: ProgressState, edits?: EditsState): number {
  return edits?.active ? edits.pending : s.proposals.filter((p) => p.status === 'pending').length;
}

/**
 * Background of the item: none for normal states (running, paused by the user, done, stopped);
 * warning only when the session waits for the user (a change to decide, a pause the session made
 * itself such as the spend cap); error when it failed.
 */
export function statusTone(s: ProgressState, edits?: EditsState): 'error' | 'warning' | undefined {
  if (s.status === 'failed') return 'error';
  if (edits?.waiting) return 'warning';
  if (s.status === 'paused' && s.statusReason) return 'warning';
  return undefined;
}

/** Status bar text for a state (pure, so it can be tested). */
export function statusText(
  s: ProgressState,
  now: number,
  edits?: EditsState,
): { text: string; tooltip: string } {
  const b = s.budget;
  const active = b.activeMs + (b.runningSince !== null ? Math.max(0, now - b.runningSince) : 0);
  const parts = [`${ICON[s.status]} KLong: ${s.status}`];
  if (s.stage) parts.push(s.stage);
  if (b.totalMs) parts.push(`${hm(active)}/${hm(b.totalMs)}`);
  if (s.usage.costUsd > 0) parts.push(`$${s.usage.costUsd.toFixed(2)}`);
  const pending = pendingCount(s, edits);
  if (pending) parts.push(`$(diff) ${pending}`);
  // What it waits for now: a retry's countdown (ticks while it lasts), grading progress.
  const retrying = s.retry && now < s.retry.until ? s.retry : null;
  if (retrying) parts.push(`$(watch) ${retryText(retrying, now, false)}`);
  else if (s.grading) parts.push(gradingText(s.grading));
  if (edits?.waiting) parts.push('$(bell-dot) waiting for you');
  const tooltip = [
    s.session ? `Paper: ${s.session.paperTitle}` : 'No session',
    `Status: ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`,
    s.stage ? `Stage: ${s.stage}` : '',
    b.totalMs ? `Active time: ${hm(active)} of ${hm(b.totalMs)}` : '',
    `Cost: $${s.usage.costUsd.toFixed(2)}`,
    pending ? `${pending} proposed edit(s) waiting` : '',
    retrying ? `Model request failed (${retrying.reason}): ${retryText(retrying, now, false)}` : '',
    edits?.active ? `Edits: ${MODE_LABEL[edits.mode].title}` : '',
    edits?.waiting ? 'The agent waits for your decision on a change.' : '',
    s.lastError ? `Last error: ${s.lastError}` : '',
    'Click for the session’s actions.',
  ]
    .filter(Boolean)
    .join('\n');
  return { text: parts.join(' · '), tooltip };
}

export interface MenuAction {
  label: string;
  description?: string;
  command: string;
}

/** The status bar menu: what can be done with the session in this state. */
export function statusMenu(s: ProgressState, edits?: EditsState): MenuAction[] {
  const out: MenuAction[] = [{ label: '$(pulse) Show progress', command: 'klong.progress.focus' }];
  const ctx = contextState(s.status);
  const pending = pendingCount(s, edits);
  if (pending || edits?.waiting)
    out.push({
      label: `$(diff) Show proposed edits`,
      description: `${pending} waiting`,
      command: 'klong.showProposals',
    });
  if (ctx === 'running') out.push({ label: '$(debug-pause) Pause', command: 'klong.pauseSession' });
  if (ctx === 'paused') out.push({ label: '$(debug-continue) Resume', command: 'klong.resumeSession' });
  if (ctx !== 'idle') {
    out.push({ label: '$(debug-stop) Stop', command: 'klong.stopSession' });
    out.push({ label: '$(comment) Message the agent', command: 'klong.messageAgent' });
  }
  if (edits?.active)
    out.push({
      label: `${MODE_LABEL[edits.mode].icon} Approval mode`,
      description: MODE_LABEL[edits.mode].title,
      command: 'klong.setApprovalMode',
    });
  if (s.session) {
    out.push({ label: '$(terminal) Open terminal in the sandbox', command: 'klong.openSandboxTerminal' });
    out.push({ label: '$(file-directory) Browse the sandbox', command: 'klong.browseSandbox' });
  }
  out.push({ label: '$(output) Show log', command: 'klong.showLog' });
  return out;
}
