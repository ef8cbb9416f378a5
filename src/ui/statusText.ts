/** Status bar text and context key of a session state (no `vscode`: unit-testable). */
import { gradingText, retryText } from '../agent/live';
import type { ProgressState } from '../protocol/progress';

const ICON: Record<ProgressState['status'], string> = {
  idle: '$(beaker)',
  starting: '$(loading~spin)',
  running: '$(sync~spin)',
  paused: '$(debug-pause)',
  stopped: '$(debug-stop)',
  done: '$(pass)',
  failed: '$(error)',
};

/** The value of the `klong.sessionState` context key (menus use running / paused / idle). */
export function contextState(status: ProgressState['status']): 'running' | 'paused' | 'idle' {
  return status === 'running' || status === 'starting' ? 'running' : status === 'paused' ? 'paused' : 'idle';
}

function hm(ms: number): string {
  const m = Math.floor(ms / 60_000);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Status bar text for a state (pure, so it can be tested). */
export function statusText(s: ProgressState, now: number): { text: string; tooltip: string } {
  const b = s.budget;
  const active = b.activeMs + (b.runningSince !== null ? Math.max(0, now - b.runningSince) : 0);
  const parts = [`${ICON[s.status]} KLong: ${s.status}`];
  if (s.stage) parts.push(s.stage);
  if (b.totalMs) parts.push(`${hm(active)}/${hm(b.totalMs)}`);
  if (s.usage.costUsd > 0) parts.push(`$${s.usage.costUsd.toFixed(2)}`);
  const pending = s.proposals.filter((p) => p.status === 'pending').length;
  if (pending) parts.push(`$(diff) ${pending}`);
  // What it waits for now: a retry's countdown (ticks while it lasts), grading progress.
  const retrying = s.retry && now < s.retry.until ? s.retry : null;
  if (retrying) parts.push(`$(watch) ${retryText(retrying, now, false)}`);
  else if (s.grading) parts.push(gradingText(s.grading));
  const tooltip = [
    s.session ? `Paper: ${s.session.paperTitle}` : 'No session',
    `Status: ${s.status}${s.statusReason ? ` (${s.statusReason})` : ''}`,
    s.stage ? `Stage: ${s.stage}` : '',
    b.totalMs ? `Active time: ${hm(active)} of ${hm(b.totalMs)}` : '',
    `Cost: $${s.usage.costUsd.toFixed(2)}`,
    pending ? `${pending} proposed edit(s) waiting` : '',
    retrying ? `Model request failed (${retrying.reason}): ${retryText(retrying, now, false)}` : '',
    s.lastError ? `Last error: ${s.lastError}` : '',
    'Click to show the progress view.',
  ]
    .filter(Boolean)
    .join('\n');
  return { text: parts.join(' · '), tooltip };
}
