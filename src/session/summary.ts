/** What the Sessions list shows, folded incrementally from events (so it never needs the whole log). */
import type { AgentEvent, SessionStatus } from '../events/events';

/** Tokens of a session; `estimated`: some were our estimate (the endpoint reported none). */
export interface TokenTotals {
  prompt: number;
  cached: number;
  completion: number;
  estimated: boolean;
}

export const noTokens = (): TokenTotals => ({ prompt: 0, cached: 0, completion: 0, estimated: false });

/** One model response's usage added to the totals (the Sessions list and the CLI's progress line). */
export function addUsage(t: TokenTotals, u: Extract<AgentEvent, { type: 'model_response' }>['usage']): void {
  t.prompt += u.promptTokens;
  t.cached += u.cachedTokens;
  t.completion += u.completionTokens;
  if (u.estimated) t.estimated = true;
}

export interface SessionSummary {
  id: string;
  paperTitle: string;
  paperPath: string;
  workspace: string;
  model: string;
  status: SessionStatus | 'new';
  endReason?: string;
  budgetMs: number;
  /** Active time: gaps between events while running, corrected by the agent's reminders. */
  activeMs: number;
  lastScore: number | null;
  steps: number;
  costUsd: number;
  /** Tokens over the whole session (absent in summaries written before they were counted). */
  tokens?: TokenTotals;
  createdAt: number;
  /** Timestamp of the last event folded in. */
  updatedAt: number;
  /** Seq of the last event folded in (-1: none). */
  seq: number;
}

export function emptySummary(id: string, createdAt = 0): SessionSummary {
  return {
    id,
    paperTitle: '',
    paperPath: '',
    workspace: '',
    model: '',
    status: 'new',
    budgetMs: 0,
    activeMs: 0,
    lastScore: null,
    steps: 0,
    costUsd: 0,
    tokens: noTokens(),
    createdAt,
    updatedAt: createdAt,
    seq: -1,
  };
}

/** Fold one event into the summary (mutates and returns it). Events at or before `seq` are ignored. */
export function foldSummary(s: SessionSummary, e: AgentEvent): SessionSummary {
  if (e.seq <= s.seq) return s;
  // Time between two events counts while running, except the gap before a (re)start: after a
  // crash the next event is the resume's status 'running', and the downtime is not active time.
  const restart = e.type === 'status' && e.status === 'running';
  if (s.status === 'running' && !restart && s.updatedAt > 0 && e.ts > s.updatedAt) {
    s.activeMs += e.ts - s.updatedAt;
  }
  if ('step' in e && typeof e.step === 'number' && e.step > s.steps) s.steps = e.step;
  switch (e.type) {
    case 'session_started':
      s.paperTitle = e.paperTitle;
      s.paperPath = e.paperPath;
      s.workspace = e.workspace;
      s.model = e.model;
      s.budgetMs = e.budgetMs;
      if (s.createdAt === 0) s.createdAt = e.ts;
      if (s.status === 'new') s.status = 'starting';
      break;
    case 'status':
      s.status = e.status;
      break;
    case 'reminder':
      s.activeMs = Math.max(s.activeMs, e.activeMs);
      break;
    case 'model_response': {
      s.costUsd += e.costUsd;
      s.tokens ??= noTokens();
      addUsage(s.tokens, e.usage);
      break;
    }
    case 'grade':
      s.lastScore = e.score;
      break;
    case 'end':
      s.endReason = e.reason;
      s.status = e.reason === 'error' ? 'failed' : e.reason === 'stopped' ? 'stopped' : 'done';
      break;
    default:
      break;
  }
  s.updatedAt = Math.max(s.updatedAt, e.ts);
  s.seq = e.seq;
  return s;
}

export function isSummary(v: unknown): v is SessionSummary {
  if (typeof v !== 'object' || v === null) return false;
  const s = v as Record<string, unknown>;
  return typeof s.id === 'string' && typeof s.seq === 'number' && typeof s.activeMs === 'number';
}
