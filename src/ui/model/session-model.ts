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
import { StepTree, type StepTreeData } from './step-tree';
import { detailFor, entryFor, readSection, startsRow } from './timeline-entries';

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

/** Rows between two anchors (see RowAnchor): an older row is rebuilt from the log with its chunk. */
const ANCHOR_EVERY = 256;

export class SessionModel {
  private state: ProgressState = initialState();
  /**
   * Rows [0, base) are not held: a model restored from a checkpoint (see model-checkpoint.ts) rebuilds
   * them from the log when the view scrolls to them. `entries[i - base]` is row i.
   */
  private base = 0;
  private entries: TimelineEntry[] = [];
  /** Seqs of the events that make up each row (a tool call and its result share a row). */
  private rowSeqs: number[][] = [];
  /** Where to start reading the log to rebuild every ANCHOR_EVERY-th row. */
  private anchors: RowAnchor[] = [];
  /** Older rows changed since the restore (a call's result, live output, a rewind): they win over the log. */
  private readonly pinned = new Map<number, Row>();
  /** Older rows rebuilt from the log, by chunk (a few chunks kept). */
  private readonly chunks = new Map<number, Row[]>();
  /** Where older rows and evicted details are read from (the followed session's log). */
  private source: EventSource | undefined;
  /** In skim(): rows are counted, not made. */
  private skimming = false;
  /** Seq and time of the last event folded in, and seq of the restored checkpoint's last event. */
  private lastSeq = -1;
  private lastTs = 0;
  private baseSeq = -1;
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
    return this.base + this.entries.length;
  }

  /** Rows [start, end) for the view (older rows of a restored model are read from the log). */
  timeline(start: number, end: number): TimelineEntry[] {
    const from = Math.max(0, start);
    const to = Math.min(end, this.timelineLength);
    const out: TimelineEntry[] = [];
    for (let i = from; i < Math.min(to, this.base); i++) {
      const r = this.row(i);
      if (r) out.push(r.entry);
    }
    return out.concat(this.entries.slice(Math.max(0, from - this.base), Math.max(0, to - this.base)));
  }

  /** The last event folded in (-1: none). */
  get seq(): number {
    return this.lastSeq;
  }

  /** The fold so far, for a later window to start from (see model-checkpoint.ts); undefined before any event. */
  checkpoint(): ModelCore | undefined {
    if (this.lastSeq < 0) return undefined;
    return {
      seq: this.lastSeq,
      ts: this.lastTs,
      rows: this.timelineLength,
      // Live work (retry waits, rubric and grades given by the window) is not part of the fold.
      state: { ...this.state, rubric: null, retry: null },
      tree: this.tree.toData(),
      calls: [...this.openCalls],
      requests: [...this.requestTs],
      finalRow: this.finalRow ?? null,
      anchors: [...this.anchors], // a copy: the fold goes on adding to them
    };
  }

  /**
   * Start from a checkpoint instead of folding the log before it: the state is the checkpoint's, the
   * rows before it are read from `source` when the view asks for them. Fold the events after
   * `core.seq` next.
   */
  restore(core: ModelCore, source: EventSource): void {
    const network = this.state.network;
    const cap = this.state.usage.spendCapUsd;
    this.reset();
    this.state = {
      ...core.state,
      network,
      usage: { ...core.state.usage, spendCapUsd: cap },
      rubric: null,
      retry: null,
      timelineTotal: core.rows,
    };
    this.base = core.rows;
    this.lastSeq = core.seq;
    this.baseSeq = core.seq;
    this.lastTs = core.ts;
    this.anchors = core.anchors.filter((a) => a.row < core.rows);
    this.tree.load(core.tree);
    this.openCalls = new Map(core.calls);
    this.requestTs = new Map(core.requests);
    this.finalRow = core.finalRow ?? undefined;
    this.source = source;
    this.emit(new Set(Object.keys(this.state) as StateKey[]), new Set());
  }

  /** Where older rows and details that are no longer in memory are read from. */
  setSource(source: EventSource | undefined): void {
    this.source = source;
    this.chunks.clear();
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
    this.base = 0;
    this.baseSeq = -1;
    this.lastSeq = -1;
    this.entries = [];
    this.rowSeqs = [];
    this.anchors = [];
    this.pinned.clear();
    this.chunks.clear();
    this.source = undefined; // another session's log
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

  /**
   * Fold the events of a log that no checkpoint covers, without making their rows: the state is
   * folded as usual, the rows are counted and made from `source` (the same log) when the view asks
   * for them. For the start of a follow (a fresh model); fold the newest events with applyAll.
   */
  skim(events: Iterable<AgentEvent>, source: EventSource): void {
    if (this.entries.length > 0) {
      this.applyAll(events);
      return;
    }
    this.source = source;
    this.skimming = true;
    try {
      this.applyAll(events);
    } finally {
      this.skimming = false;
      this.baseSeq = this.lastSeq;
      this.chunks.clear();
    }
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
      const row = i === undefined ? undefined : this.row(i, true)?.entry;
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
    const row = this.row(i, true)?.entry;
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
    const seqs = this.row(index)?.seqs;
    if (!seqs) return [{ label: 'Detail', text: `No timeline row ${index}.` }];
    const source = this.source;
    const load = this.opts.loadEvents ?? (source && ((want: number[]) => loadSeqs(source, want)));
    const bodies = await this.memory.bodiesOf(seqs, load);
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
    const entry = this.skimming ? startsRow(e) : entryFor(e);
    if (!entry) return undefined;
    const index = this.timelineLength;
    if (index % ANCHOR_EVERY === 0) {
      this.anchors.push({
        row: index,
        seq: e.seq,
        calls: [...this.openCalls.keys()],
        requests: [...this.requestTs],
      });
    }
    keys.add('timelineTotal');
    if (entry === true) {
      // Skimmed: the row is made from the log when the view asks for it.
      this.base++;
      this.state.timelineTotal = this.base;
      return index;
    }
    this.entries.push({
      index,
      ...entry,
      ...(entry.step !== undefined && this.tree.isAbandoned(entry.step) ? { abandoned: true } : {}),
    });
    this.rowSeqs.push([e.seq]);
    if (entry.hasDetail) this.memory.put(e.seq, e);
    this.state.timelineTotal = this.timelineLength;
    return index;
  }

  /** Row i with the seqs of its events; `pin` keeps an older row in memory because it is about to change. */
  private row(i: number, pin = false): Row | undefined {
    if (this.skimming && i < this.base) return undefined; // the rows are made from the log later
    if (i >= this.base) {
      const entry = this.entries[i - this.base];
      return entry && { entry, seqs: this.rowSeqs[i - this.base]! };
    }
    if (i < 0) return undefined;
    const held = this.pinned.get(i);
    if (held) return held;
    const r = this.olderChunk(Math.floor(i / ANCHOR_EVERY))?.[i % ANCHOR_EVERY];
    if (!r || !pin) return r;
    const copy = { entry: { ...r.entry }, seqs: [...r.seqs] };
    this.pinned.set(i, copy);
    return copy;
  }

  /** Rows of chunk k rebuilt from the log as the fold made them (empty when the log cannot be read). */
  private olderChunk(k: number): Row[] | undefined {
    const hit = this.chunks.get(k);
    if (hit) return hit;
    const anchor = this.anchors[k];
    if (!anchor || anchor.row !== k * ANCHOR_EVERY || !this.source) return undefined;
    let rows: Row[];
    try {
      rows = rebuildRows(
        this.source,
        anchor,
        Math.min(this.base, anchor.row + ANCHOR_EVERY),
        this.baseSeq,
        this.tree,
      );
    } catch {
      rows = [];
    }
    if (this.chunks.size >= 8) this.chunks.delete(this.chunks.keys().next().value as number);
    this.chunks.set(k, rows);
    return rows;
  }

  /** Steps off the path root → head are an abandoned branch; a rewind of a rewind can revive them. */
  private rewound(toStep: number, updated: Set<number>): void {
    if (!this.tree.rewind(toStep)) return;
    // Older rows: the chunks are rebuilt with the new tree, pinned ones are set here.
    this.chunks.clear();
    for (let i = 0; i < this.base; i++) updated.add(i);
    for (const row of [...[...this.pinned.values()].map((r) => r.entry), ...this.entries]) {
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
    this.lastSeq = e.seq;
    this.lastTs = e.ts;
    if (e.type === 'model_request') this.tree.add(e.step);
    if (e.type === 'rewind') this.foldRewind(e, keys, updated);
    const row =
      e.type === 'session_started'
        ? this.foldStart(e, keys)
        : (this.foldLifecycle(e, keys) ??
          this.foldModel(e, keys) ??
          this.foldTool(e, keys, updated) ??
          this.foldEdit(e, keys) ??
          this.foldJob(e, keys) ??
          this.foldGrading(e, keys, updated) ??
          'row');
    if (row === 'row') this.addRow(e, keys);
  }

  /** A rewind abandons the steps after it; when the files went back, pending proposals go too. */
  private foldRewind(
    e: Extract<AgentEvent, { type: 'rewind' }>,
    keys: Set<StateKey>,
    updated: Set<number>,
  ): void {
    const s = this.state;
    if (e.mode !== 'code') this.rewound(e.toStep, updated);
    if (e.mode !== 'conversation' && s.proposals.some((p) => p.status === 'pending')) {
      // The files went back: pending proposals are recomputed from the container (on resume).
      s.proposals = s.proposals.filter((p) => p.status !== 'pending');
      keys.add('proposals');
    }
  }

  /** A session starts: everything before it is forgotten but the network and the spend cap. */
  private foldStart(e: Extract<AgentEvent, { type: 'session_started' }>, keys: Set<StateKey>): Folded {
    const network = this.state.network;
    const cap = this.state.usage.spendCapUsd;
    const source = this.source; // the same log
    this.reset();
    this.source = source;
    this.lastSeq = e.seq;
    this.lastTs = e.ts;
    const t = this.state;
    t.network = network;
    t.usage.spendCapUsd = cap;
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
    return 'row';
  }

  /**
   * The families below each fold the events they know: 'row' when the event gets a row of its own,
   * 'done' when it got none or was merged into one, undefined for an event of another family.
   */
  private foldLifecycle(e: AgentEvent, keys: Set<StateKey>): Folded | undefined {
    const s = this.state;
    switch (e.type) {
      case 'status': {
        const b = s.budget;
        const running = e.status === 'running';
        if (running && b.runningSince === null) s.budget = { ...b, runningSince: e.ts };
        if (!running) s.budget = stopClock(b, e.ts);
        s.status = e.status;
        s.statusReason = e.reason ?? null;
        keys.add('status').add('statusReason').add('budget');
        return 'row';
      }
      case 'stage':
        s.stage = e.stage;
        keys.add('stage');
        return 'row';
      case 'reminder': {
        const b = s.budget;
        s.budget = { ...b, activeMs: e.activeMs, runningSince: b.runningSince === null ? null : e.ts };
        keys.add('budget');
        return 'row';
      }
      case 'split':
        s.window = e.window;
        keys.add('window');
        return 'row';
      case 'plan':
        s.plan = e.items.map((i) => ({ text: i.text, status: i.status }));
        keys.add('plan');
        return 'row';
      case 'error':
        s.lastError = e.message;
        keys.add('lastError');
        return 'row';
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
        return 'row';
      default:
        return undefined;
    }
  }

  /** Model requests and responses: the step, the window, tokens and cost. */
  private foldModel(e: AgentEvent, keys: Set<StateKey>): Folded | undefined {
    const s = this.state;
    if (e.type === 'model_request') {
      s.step = e.step;
      s.window = e.window;
      s.usage = { ...s.usage, requests: s.usage.requests + 1 };
      // Only the latest request waits for its response (one that failed is not kept forever).
      this.requestTs.clear();
      this.requestTs.set(e.step, e.ts);
      keys.add('step').add('window').add('usage');
      return 'done';
    }
    if (e.type !== 'model_response') return undefined;
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
    const row = i === undefined ? undefined : this.row(i);
    if (row && started !== undefined) row.entry.durationMs = Math.max(0, e.ts - started);
    this.requestTs.delete(e.step);
    return 'done';
  }

  /** A tool call opens a row that its result completes. */
  private foldTool(e: AgentEvent, keys: Set<StateKey>, updated: Set<number>): Folded | undefined {
    if (e.type === 'tool_call') {
      const i = this.addRow(e, keys);
      if (i !== undefined) this.openCalls.set(e.callId, i);
      const section = readSection(e);
      if (section) {
        this.state.readingSection = section;
        keys.add('readingSection');
        for (const l of this.readingListeners) l(section);
      }
      return 'done';
    }
    if (e.type !== 'tool_result') return undefined;
    const i = this.openCalls.get(e.callId);
    if (i === undefined) return 'row'; // a result without its call: a row of its own
    this.openCalls.delete(e.callId);
    updated.add(i);
    const row = this.row(i, true);
    if (!row) return 'done'; // a skimmed row, or the log cannot be read
    this.endLive(i, updated);
    row.entry.state = e.ok ? 'ok' : 'failed';
    row.entry.durationMs = e.durationMs;
    row.seqs.push(e.seq);
    this.memory.put(e.seq, e);
    return 'done';
  }

  /** Proposed edits: pending until decided or withdrawn. */
  private foldEdit(e: AgentEvent, keys: Set<StateKey>): Folded | undefined {
    const s = this.state;
    switch (e.type) {
      case 'edit_proposed': {
        const p = e.proposal;
        const view = { ...p, status: 'pending' as const, step: e.step };
        s.proposals = [...s.proposals.filter((x) => x.path !== p.path), view];
        keys.add('proposals');
        return 'row';
      }
      case 'edit_withdrawn':
        // The agent put the file back as it was (or a rewind did): no longer a proposal.
        s.proposals = s.proposals.filter((p) => !(p.path === e.path && p.status === 'pending'));
        keys.add('proposals');
        return 'row';
      case 'edit_decided':
        s.proposals = s.proposals.map((p) =>
          p.path === e.path && p.status === 'pending'
            ? { ...p, status: e.decision, ...(e.reason ? { reason: e.reason } : {}) }
            : p,
        );
        keys.add('proposals');
        return 'row';
      default:
        return undefined;
    }
  }

  /** Background jobs. */
  private foldJob(e: AgentEvent, keys: Set<StateKey>): Folded | undefined {
    const s = this.state;
    if (e.type === 'job_started') {
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
      return 'row';
    }
    if (e.type !== 'job_ended') return undefined;
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
    return 'row';
  }

  /** The final run, early-end checks and the grade. */
  private foldGrading(e: AgentEvent, keys: Set<StateKey>, updated: Set<number>): Folded | undefined {
    const s = this.state;
    switch (e.type) {
      case 'grade':
        s.grade = Math.min(1, Math.max(0, e.score));
        s.grading = null;
        keys.add('grade').add('grading');
        return 'row';
      case 'grade_leaf':
        s.grading = { done: e.done, total: e.total };
        keys.add('grading');
        return 'row';
      case 'final_run_started':
        this.finalRow = this.addRow(e, keys);
        return 'done';
      case 'final_run': {
        const row = this.finalRow === undefined ? undefined : this.row(this.finalRow, true);
        if (this.finalRow !== undefined && row) {
          this.endLive(this.finalRow, updated);
          row.entry.hasDetail = false;
          updated.add(this.finalRow);
        }
        this.finalRow = undefined;
        return 'row';
      }
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
        return 'row';
      }
      default:
        return undefined;
    }
  }
}

type Folded = 'row' | 'done';

/** A timeline row and the seqs of the events that make it. */
interface Row {
  entry: TimelineEntry;
  seqs: number[];
}

/** Where the fold was when it made row `row` (before that event): enough to make that row and the next ones again from the log. */
export interface RowAnchor {
  row: number;
  /** Seq of the event that made the row. */
  seq: number;
  /** Calls of earlier rows still waiting for their result (those results make no row). */
  calls: string[];
  /** Model requests without their response yet: [step, ts]. */
  requests: [number, number][];
}

/** Reads a session's events by seq (the followed session's log). */
export interface EventSource {
  /** Events with from <= seq < to, in order. */
  read(from: number, to: number): AgentEvent[];
}

/** The model folded up to event `seq`, as a later window restores it (model-checkpoint.ts writes it). */
export interface ModelCore {
  seq: number;
  /** Timestamp of event `seq`: tells that the log is still the one this was folded from. */
  ts: number;
  rows: number;
  state: ProgressState;
  tree: StepTreeData;
  calls: [string, number][];
  requests: [number, number][];
  finalRow: number | null;
  anchors: RowAnchor[];
}

/** The events `seqs` (any order) read from `source`, one read per run of consecutive seqs. */
function loadSeqs(source: EventSource, seqs: number[]): AgentEvent[] {
  const sorted = [...seqs].sort((a, b) => a - b);
  const out: AgentEvent[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i + 1;
    while (j < sorted.length && sorted[j] === sorted[j - 1]! + 1) j++;
    out.push(...source.read(sorted[i]!, sorted[j - 1]! + 1));
    i = j;
  }
  return out;
}

/**
 * Rows anchor.row .. toRow-1 made again from the log as SessionModel's fold made them (events up to
 * `lastSeq`): a call and its result share a row, a response takes its request's time, the final
 * run's row loses its detail when the run ends, rows of abandoned steps are marked.
 */
function rebuildRows(
  source: EventSource,
  anchor: RowAnchor,
  toRow: number,
  lastSeq: number,
  tree: StepTree,
): Row[] {
  const rows: Row[] = [];
  const skip = new Set(anchor.calls);
  const open = new Map<string, number>();
  const requests = new Map(anchor.requests);
  let finalRow: number | undefined;
  const add = (e: AgentEvent): number | undefined => {
    const entry = entryFor(e);
    if (!entry) return undefined;
    const abandoned = entry.step !== undefined && tree.isAbandoned(entry.step);
    rows.push({
      entry: { index: anchor.row + rows.length, ...entry, ...(abandoned ? { abandoned } : {}) },
      seqs: [e.seq],
    });
    return rows.length - 1;
  };
  const PAGE = 1024;
  for (let from = anchor.seq; from <= lastSeq; from += PAGE) {
    for (const e of source.read(from, Math.min(from + PAGE, lastSeq + 1))) {
      const full = anchor.row + rows.length >= toRow;
      if (full && open.size === 0 && finalRow === undefined) return rows.slice(0, toRow - anchor.row);
      if (e.type === 'model_request') requests.clear();
      if (e.type === 'model_request') requests.set(e.step, e.ts);
      else if (e.type === 'tool_result' && (skip.has(e.callId) || open.has(e.callId))) {
        skip.delete(e.callId);
        const i = open.get(e.callId);
        open.delete(e.callId);
        const r = i === undefined ? undefined : rows[i];
        if (!r) continue;
        r.entry.state = e.ok ? 'ok' : 'failed';
        r.entry.durationMs = e.durationMs;
        r.seqs.push(e.seq);
      } else if (e.type === 'final_run' && finalRow !== undefined) {
        rows[finalRow]!.entry.hasDetail = false;
        finalRow = undefined;
        if (!full) add(e);
      } else if (!full) {
        const i = add(e);
        if (i === undefined) continue;
        if (e.type === 'tool_call') open.set(e.callId, i);
        if (e.type === 'final_run_started') finalRow = i;
        if (e.type === 'model_response') {
          const started = requests.get(e.step);
          if (started !== undefined) rows[i]!.entry.durationMs = Math.max(0, e.ts - started);
          requests.delete(e.step);
        }
      } else if (e.type === 'tool_call' || e.type === 'final_run_started') {
        // A row past this chunk: its result must not be taken for a row without its call.
        if (e.type === 'tool_call') skip.add(e.callId);
      }
    }
  }
  return rows.slice(0, toRow - anchor.row);
}
