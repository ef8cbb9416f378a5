/**
 * What the UI shows about a session, folded from its AgentEvents (live or replayed from the log).
 * Plain TypeScript (no `vscode`): the progress view, the status bar and tests consume it.
 */

import { displayLines, FINAL_CALL_ID, LIVE_TAIL_CHARS, type LiveMessage, lastLine } from '../../agent/live';
import type { AgentEvent } from '../../events/events';
import type { RubricNode } from '../../paper/types';
import {
  DETAIL_TEXT_MAX,
  type DetailSection,
  JOB_TAIL_MAX,
  type JobView,
  LIVE_LINE_MAX,
  type ProgressState,
  type TimelineEntry,
} from '../../protocol/progress';
import { capText } from '../../protocol/validate';
import { DetailMemory, type LoadEvents } from './detail-memory';
import { type Grade, rubricView } from './rubric-view';
import { StepTree } from './step-tree';
import { detailFor, entryFor, readSection } from './timeline-entries';

export type StateKey = keyof ProgressState;

export interface ModelChange {
  keys: Set<StateKey>;
  /** Indices of timeline rows that changed in place (e.g. a tool call got its result). */
  updated: Set<number>;
}

export interface SessionModelOptions {
  /** Loads events by seq from the session log when their detail is no longer kept in memory. */
  loadEvents?: LoadEvents;
  /** Characters of event bodies kept in memory for row details (oldest dropped first). */
  detailMemoryChars?: number;
  spendCapUsd?: number | null;
  network?: string;
}

export function initialState(): ProgressState {
  return {
    session: null,
    status: 'idle',
    statusReason: null,
    stage: null,
    budget: { totalMs: 0, activeMs: 0, runningSince: null },
    plan: [],
    usage: {
      requests: 0,
      promptTokens: 0,
      cachedTokens: 0,
      completionTokens: 0,
      costUsd: 0,
      spendCapUsd: null,
    },
    network: 'unknown',
    rubric: null,
    grade: null,
    endChecks: [],
    proposals: [],
    jobs: [],
    timelineTotal: 0,
    step: 0,
    window: 0,
    readingSection: null,
    lastError: null,
    retry: null,
    grading: null,
  };
}

/** The end of a job's output, within the protocol's cap. */
function capTail(t: string): string {
  return t.length > JOB_TAIL_MAX ? t.slice(t.length - JOB_TAIL_MAX) : t;
}

/** The budget with its active-time clock stopped at `ts` (the same budget when the clock is not running). */
function stopClock(b: ProgressState['budget'], ts: number): ProgressState['budget'] {
  if (b.runningSince === null) return b;
  return { ...b, activeMs: b.activeMs + Math.max(0, ts - b.runningSince), runningSince: null };
}

export class SessionModel {
  private state: ProgressState = initialState();
  private entries: TimelineEntry[] = [];
  /** Seqs of the events that make up each row (a tool call and its result share a row). */
  private rowSeqs: number[][] = [];
  private openCalls = new Map<string, number>();
  private requestTs = new Map<number, number>();
  private memory: DetailMemory;
  private rubricSource: RubricNode | null = null;
  private grades: Record<string, Grade> = {};
  private listeners = new Set<(c: ModelChange) => void>();
  /** The step tree (see agent/rewind.ts): tells which rows belong to abandoned steps. */
  private readonly tree = new StepTree();
  private readingListeners = new Set<(sectionId: string) => void>();
  /** Output so far of the running rows (row index → a bounded tail); dropped when the row ends. */
  private readonly liveOutput = new Map<number, string>();
  /** The row of the final reproduce.sh run while it runs. */
  private finalRow: number | undefined;

  constructor(private readonly opts: SessionModelOptions = {}) {
    this.memory = new DetailMemory(opts.detailMemoryChars ?? 32_000_000);
    this.reset();
  }

  get snapshot(): Readonly<ProgressState> {
    return this.state;
  }

  get timelineLength(): number {
    return this.entries.length;
  }

  /** Rows [start, end) for the view. */
  timeline(start: number, end: number): TimelineEntry[] {
    return this.entries.slice(Math.max(0, start), Math.min(end, this.entries.length));
  }

  onChange(listener: (c: ModelChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fires with a paper section id when the agent reads it (read_paper tool calls). */
  onReadSection(listener: (sectionId: string) => void): () => void {
    this.readingListeners.add(listener);
    return () => this.readingListeners.delete(listener);
  }

  /** Forget everything (a new session starts). */
  reset(): void {
    this.state = initialState();
    this.state.usage.spendCapUsd = this.opts.spendCapUsd ?? null;
    this.state.network = this.opts.network ?? 'unknown';
    this.entries = [];
    this.rowSeqs = [];
    this.tree.clear();
    this.openCalls.clear();
    this.requestTs.clear();
    this.liveOutput.clear();
    this.finalRow = undefined;
    this.rubricSource = null;
    this.grades = {};
    this.emit(new Set(Object.keys(this.state) as StateKey[]), new Set());
  }

  apply(event: AgentEvent): void {
    this.applyAll([event]);
  }

  /** Folds events in order; listeners hear once per call (replaying a long log stays cheap). */
  applyAll(events: Iterable<AgentEvent>): void {
    const keys = new Set<StateKey>();
    const updated = new Set<number>();
    for (const e of events) this.fold(e, keys, updated);
    if (keys.size || updated.size) this.emit(keys, updated);
  }

  /**
   * Live work from the engine (transient, not in the log): a running command's output tail goes to
   * its row (the latest line in the row, the tail in its detail), a retry's wait and grading
   * progress to the state.
   */
  live(m: LiveMessage): void {
    const keys = new Set<StateKey>();
    const updated = new Set<number>();
    const s = this.state;
    if (m.kind === 'retry') {
      s.retry = { attempt: m.attempt, of: m.of, reason: m.reason.slice(0, 500), until: m.until };
      keys.add('retry');
    } else if (m.kind === 'grading') {
      s.grading = { done: m.done, total: m.total };
      s.retry = null; // a verdict came: the request it waited for went through
      keys.add('grading').add('retry');
    } else {
      const i = m.callId === FINAL_CALL_ID ? this.finalRow : this.openCalls.get(m.callId);
      const row = i === undefined ? undefined : this.entries[i];
      if (i === undefined || !row) return; // ended, or from before this model's history
      const text = m.text.length > LIVE_TAIL_CHARS ? m.text.slice(-LIVE_TAIL_CHARS) : m.text;
      this.liveOutput.set(i, text);
      const line = lastLine(text);
      row.live = line.length > LIVE_LINE_MAX ? `${line.slice(0, LIVE_LINE_MAX - 1)}…` : line;
      row.hasDetail = true;
      updated.add(i);
    }
    this.emit(keys, updated);
  }

  /** A row stopped running: its live output goes (the result has the whole output). */
  private endLive(i: number, updated: Set<number>): void {
    const row = this.entries[i];
    if (!this.liveOutput.delete(i) && row?.live === undefined) return;
    if (row) delete row.live;
    updated.add(i);
  }

  setRubric(rubric: RubricNode | null): void {
    this.rubricSource = rubric;
    this.state.rubric = rubric ? rubricView(rubric, this.grades) : null;
    this.emit(new Set(['rubric']), new Set());
  }

  /** Grades of rubric leaves by id (0/1 or 0..1); inner nodes get the weighted mean of their children. */
  setGrades(grades: Record<string, Grade>): void {
    this.grades = { ...grades };
    if (this.rubricSource) this.state.rubric = rubricView(this.rubricSource, this.grades);
    this.emit(new Set(['rubric']), new Set());
  }

  setNetwork(mode: string): void {
    this.state.network = mode;
    this.emit(new Set(['network']), new Set());
  }

  setSpendCap(usd: number | null): void {
    this.state.usage = { ...this.state.usage, spendCapUsd: usd };
    this.emit(new Set(['usage']), new Set());
  }

  /** A running job's last lines and output size, as read from the container (not an event). */
  setJobTail(id: string, tail: string, size?: number): void {
    const i = this.state.jobs.findIndex((j) => j.id === id);
    if (i < 0) return;
    const j = this.state.jobs[i]!;
    const t = capTail(tail);
    if (j.tail === t && j.size === size) return;
    this.state.jobs = this.state.jobs.map((x, k) =>
      k === i ? { ...x, tail: t, ...(size !== undefined ? { size } : {}) } : x,
    );
    this.emit(new Set(['jobs']), new Set());
  }

  /** For a replayed session that is not running any more: stop the active-time clock at `ts`. */
  suspendClock(ts: number): void {
    if (this.state.budget.runningSince === null) return;
    this.state.budget = stopClock(this.state.budget, ts);
    this.emit(new Set(['budget']), new Set());
  }

  /** Detail sections of a row (loaded from the log when no longer in memory). */
  async detail(index: number): Promise<DetailSection[]> {
    const seqs = this.rowSeqs[index];
    if (!seqs) return [{ label: 'Detail', text: `No timeline row ${index}.` }];
    const bodies = await this.memory.bodiesOf(seqs, this.opts.loadEvents);
    const live = this.liveOutput.get(index);
    if (live !== undefined) {
      const text = capText(displayLines(live).join('\n'), DETAIL_TEXT_MAX).text;
      return [...(bodies ? detailFor(bodies) : []), { label: 'Output so far (live)', text }];
    }
    if (!bodies) {
      return [
        { label: 'Detail', text: 'This step is no longer kept in memory; open the session log to see it.' },
      ];
    }
    return detailFor(bodies);
  }

  private emit(keys: Set<StateKey>, updated: Set<number>): void {
    const change = { keys, updated };
    for (const l of this.listeners) l(change);
  }

  private addRow(e: AgentEvent, keys: Set<StateKey>): number | undefined {
    const entry = entryFor(e);
    if (!entry) return undefined;
    const index = this.entries.length;
    this.entries.push({
      index,
      ...entry,
      ...(entry.step !== undefined && this.tree.isAbandoned(entry.step) ? { abandoned: true } : {}),
    });
    this.rowSeqs.push([e.seq]);
    if (entry.hasDetail) this.memory.put(e.seq, e);
    keys.add('timelineTotal');
    this.state.timelineTotal = this.entries.length;
    return index;
  }

  /** Steps off the path root → head are an abandoned branch; a rewind of a rewind can revive them. */
  private rewound(toStep: number, updated: Set<number>): void {
    if (!this.tree.rewind(toStep)) return;
    for (const row of this.entries) {
      if (row.step === undefined) continue;
      const off = this.tree.isAbandoned(row.step);
      if (!!row.abandoned === off) continue;
      if (off) row.abandoned = true;
      else delete row.abandoned;
      updated.add(row.index);
    }
  }

  /** Step numbers of the current conversation, newest first (for the rewind picker). */
  liveSteps(): number[] {
    return this.tree.liveSteps();
  }

  /** Every step in the timeline, and whether it is on an abandoned branch. */
  steps(): { step: number; abandoned: boolean }[] {
    return this.tree.steps();
  }

  private fold(e: AgentEvent, keys: Set<StateKey>, updated: Set<number>): void {
    const s = this.state;
    if (e.type === 'model_request') this.tree.add(e.step);
    if (e.type === 'rewind' && e.mode !== 'code') this.rewound(e.toStep, updated);
    if (e.type === 'rewind' && e.mode !== 'conversation' && s.proposals.some((p) => p.status === 'pending')) {
      // The files went back: pending proposals are recomputed from the container (on resume).
      s.proposals = s.proposals.filter((p) => p.status !== 'pending');
      keys.add('proposals');
    }
    switch (e.type) {
      case 'session_started': {
        const network = s.network;
        const cap = s.usage.spendCapUsd;
        this.reset();
        this.state.network = network;
        this.state.usage.spendCapUsd = cap;
        const t = this.state;
        t.session = {
          id: e.sessionId,
          paperTitle: e.paperTitle,
          paperPath: e.paperPath,
          model: e.model,
          workspace: e.workspace,
        };
        t.budget = { totalMs: e.budgetMs, activeMs: 0, runningSince: null };
        t.status = 'starting';
        for (const k of Object.keys(t) as StateKey[]) keys.add(k);
        this.addRow(e, keys);
        return;
      }
      case 'status': {
        const b = s.budget;
        const running = e.status === 'running';
        if (running && b.runningSince === null) s.budget = { ...b, runningSince: e.ts };
        if (!running) s.budget = stopClock(b, e.ts);
        s.status = e.status;
        s.statusReason = e.reason ?? null;
        keys.add('status').add('statusReason').add('budget');
        break;
      }
      case 'stage':
        s.stage = e.stage;
        keys.add('stage');
        break;
      case 'model_request':
        s.step = e.step;
        s.window = e.window;
        s.usage = { ...s.usage, requests: s.usage.requests + 1 };
        this.requestTs.set(e.step, e.ts);
        keys.add('step').add('window').add('usage');
        return;
      case 'model_response': {
        if (s.retry) {
          s.retry = null;
          keys.add('retry');
        }
        const u = e.usage;
        s.usage = {
          ...s.usage,
          promptTokens: s.usage.promptTokens + u.promptTokens,
          cachedTokens: s.usage.cachedTokens + u.cachedTokens,
          completionTokens: s.usage.completionTokens + u.completionTokens,
          costUsd: s.usage.costUsd + e.costUsd,
        };
        keys.add('usage');
        const i = this.addRow(e, keys);
        const started = this.requestTs.get(e.step);
        if (i !== undefined && started !== undefined)
          this.entries[i]!.durationMs = Math.max(0, e.ts - started);
        this.requestTs.delete(e.step);
        return;
      }
      case 'tool_call': {
        const i = this.addRow(e, keys);
        if (i !== undefined) this.openCalls.set(e.callId, i);
        const section = readSection(e);
        if (section) {
          s.readingSection = section;
          keys.add('readingSection');
          for (const l of this.readingListeners) l(section);
        }
        return;
      }
      case 'tool_result': {
        const i = this.openCalls.get(e.callId);
        if (i === undefined) {
          this.addRow(e, keys);
          return;
        }
        this.openCalls.delete(e.callId);
        this.endLive(i, updated);
        const row = this.entries[i]!;
        row.state = e.ok ? 'ok' : 'failed';
        row.durationMs = e.durationMs;
        this.rowSeqs[i]!.push(e.seq);
        this.memory.put(e.seq, e);
        updated.add(i);
        return;
      }
      case 'plan':
        s.plan = e.items.map((i) => ({ text: i.text, status: i.status }));
        keys.add('plan');
        break;
      case 'reminder': {
        const b = s.budget;
        s.budget = { ...b, activeMs: e.activeMs, runningSince: b.runningSince === null ? null : e.ts };
        keys.add('budget');
        break;
      }
      case 'split':
        s.window = e.window;
        keys.add('window');
        break;
      case 'edit_proposed': {
        const p = e.proposal;
        const view = { ...p, status: 'pending' as const, step: e.step };
        s.proposals = [...s.proposals.filter((x) => x.path !== p.path), view];
        keys.add('proposals');
        break;
      }
      case 'edit_withdrawn':
        // The agent put the file back as it was (or a rewind did): no longer a proposal.
        s.proposals = s.proposals.filter((p) => !(p.path === e.path && p.status === 'pending'));
        keys.add('proposals');
        break;
      case 'edit_decided':
        s.proposals = s.proposals.map((p) =>
          p.path === e.path && p.status === 'pending'
            ? { ...p, status: e.decision, ...(e.reason ? { reason: e.reason } : {}) }
            : p,
        );
        keys.add('proposals');
        break;
      case 'job_started': {
        const job: JobView = {
          id: e.jobId,
          name: e.name.slice(0, 200),
          command: e.command.slice(0, 2000),
          state: 'running',
          exitCode: null,
          startedTs: e.ts,
          endedTs: null,
          tail: '',
        };
        s.jobs = [...s.jobs.filter((j) => j.id !== e.jobId), job];
        keys.add('jobs');
        break;
      }
      case 'job_ended':
        s.jobs = s.jobs.map((j) =>
          j.id === e.jobId
            ? {
                ...j,
                state: e.state,
                exitCode: e.exitCode,
                endedTs: e.ts,
                ...(e.tail !== undefined ? { tail: capTail(e.tail) } : {}),
              }
            : j,
        );
        keys.add('jobs');
        break;
      case 'error':
        s.lastError = e.message;
        keys.add('lastError');
        break;
      case 'grade':
        s.grade = Math.min(1, Math.max(0, e.score));
        s.grading = null;
        keys.add('grade').add('grading');
        break;
      case 'grade_leaf':
        s.grading = { done: e.done, total: e.total };
        keys.add('grading');
        break;
      case 'final_run_started':
        this.finalRow = this.addRow(e, keys);
        return;
      case 'final_run':
        if (this.finalRow !== undefined) {
          this.endLive(this.finalRow, updated);
          this.entries[this.finalRow]!.hasDetail = false;
          this.finalRow = undefined;
        }
        break;
      case 'early_end_check': {
        const unit = (x: number) => Math.min(1, Math.max(0, x));
        s.endChecks = [
          ...s.endChecks,
          {
            ts: e.ts,
            check: e.check,
            limit: e.limit,
            budgetUsed: unit(e.budgetUsed),
            score: unit(e.score),
            target: unit(e.target),
            refused: e.refused,
            unmet: e.unmet,
            invalid: e.invalid,
            tops: e.tops.map((t) => ({
              requirements: t.requirements,
              weight: t.weight,
              score: unit(t.score),
            })),
          },
        ];
        keys.add('endChecks');
        break;
      }
      case 'end':
        if (s.retry || s.grading) {
          s.retry = null;
          s.grading = null;
          keys.add('retry').add('grading');
        }
        if (s.budget.runningSince !== null) {
          s.budget = stopClock(s.budget, e.ts);
          keys.add('budget');
        }
        if (!['done', 'failed', 'stopped'].includes(s.status)) {
          s.status = e.reason === 'error' ? 'failed' : e.reason === 'stopped' ? 'stopped' : 'done';
          keys.add('status');
        }
        break;
      default:
        break;
    }
    this.addRow(e, keys);
  }
}
