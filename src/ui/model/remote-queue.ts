/**
 * The proposals of a session an engine process drives, as the review UI sees them: a copy of the
 * engine's queue fetched over the control channel (`klong/proposals`, `klong/proposal`), refreshed
 * on every edit or approval event the engine broadcasts, so a decision made in another window or by
 * the CLI shows here at once. Decisions (whole files or hunks) and the approval mode go to the
 * engine, which writes the user's files. The edits controller uses it like the in-host `EditQueue`.
 */

import type { Outcome } from '../../edits/decide';
import type { Proposal } from '../../edits/proposal';
import type { ApprovalMode, DecideOptions, ReviewQueue } from '../../edits/queue';
import type { ControlStatus, DecisionResult, EditDecision, ProposalList } from '../../engine/control';
import type { AgentEvent } from '../../events/events';

/** What the proxy needs of the engine (EngineLink fits). */
export interface EngineEdits {
  proposals(): Promise<ProposalList>;
  proposal(path: string): Promise<Proposal | null>;
  decide(d: EditDecision): Promise<DecisionResult>;
  setApproval(mode: ApprovalMode): Promise<ControlStatus>;
}

/** Events after which the engine's queue may differ; `status` covers a window that followed the engine while it was still starting (no queue yet). */
const REFRESHING = new Set(['edit_proposed', 'edit_decided', 'edit_withdrawn', 'approval_changed', 'status']);

/** The engine's answer as the queue's outcome (an engine error becomes an `error` or `not-found` one). */
function asOutcome(path: string, r: DecisionResult): Outcome {
  const o = r as Outcome;
  switch (r.status) {
    case 'accepted':
    case 'rejected':
      return { ...o, remaining: (o as { remaining?: number }).remaining ?? 0 } as Outcome;
    case 'conflict':
      return { ...o, merge: (o as { merge?: unknown }).merge ?? null } as Outcome;
    case 'stale':
    case 'not-found':
      return { status: r.status, path, message: r.message };
    default:
      return { status: 'error', path, message: r.message };
  }
}

export class RemoteQueue implements ReviewQueue {
  private readonly proposals = new Map<string, Proposal>();
  private readonly listeners = new Set<() => void>();
  private currentMode: ApprovalMode;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly engine: EngineEdits,
    mode: ApprovalMode = 'review',
    private readonly onWarning: (m: string) => void = () => undefined,
  ) {
    this.currentMode = mode;
  }

  get mode(): ApprovalMode {
    return this.currentMode;
  }

  /** Switches the engine's mode; the view shows it at once, the engine's answer (or event) confirms it. */
  setMode(mode: ApprovalMode): void {
    if (mode === this.currentMode) return;
    this.currentMode = mode;
    this.changed();
    this.engine.setApproval(mode).then(
      () => undefined,
      (err: unknown) => {
        this.onWarning(`Could not change the session's approval mode: ${(err as Error).message}`);
        void this.refresh();
      },
    );
  }

  list(): Proposal[] {
    return [...this.proposals.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  get(path: string): Proposal | undefined {
    return this.proposals.get(path);
  }

  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** An event the engine broadcast: proposals or the mode changed (here, in another window, by the CLI). */
  onEvent(e: AgentEvent): void {
    if (REFRESHING.has(e.type)) void this.refresh();
  }

  /**
   * Fetch what changed in the engine's queue: the list, then each proposal whose version is new.
   * Calls that come while one runs share one more run after it (nothing is missed, nothing piles up).
   */
  refresh(): Promise<void> {
    if (this.running) {
      this.queued ??= this.running.then(() => {
        this.queued = undefined;
        return this.refresh();
      });
      return this.queued;
    }
    this.running = this.fetch()
      .catch((err: unknown) =>
        this.onWarning(`Could not read the engine's proposed edits: ${(err as Error).message}`),
      )
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async fetch(): Promise<void> {
    const list = await this.engine.proposals();
    let changed = list.approval !== this.currentMode;
    this.currentMode = list.approval;
    const wanted = new Map(list.proposals.map((p) => [p.path, p.version]));
    for (const path of [...this.proposals.keys()]) {
      if (!wanted.has(path)) changed = this.proposals.delete(path) || changed;
    }
    for (const [path, version] of wanted) {
      if (this.proposals.get(path)?.version === version) continue;
      const p = await this.engine.proposal(path);
      if (p) this.proposals.set(path, p);
      else this.proposals.delete(path);
      changed = true;
    }
    if (changed) this.changed();
  }

  accept(path: string, opts: DecideOptions = {}): Promise<Outcome> {
    return this.decide(path, 'accept', opts);
  }

  reject(path: string, opts: DecideOptions = {}): Promise<Outcome> {
    return this.decide(path, 'reject', opts);
  }

  async acceptAll(opts: Pick<DecideOptions, 'onConflict'> = {}): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const p of this.list())
      if (!p.sensitive) out.push(await this.accept(p.path, { ...opts, version: p.version }));
    return out;
  }

  async rejectAll(reason?: string): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const p of this.list())
      out.push(await this.reject(p.path, { version: p.version, ...(reason ? { reason } : {}) }));
    return out;
  }

  private async decide(path: string, decision: 'accept' | 'reject', o: DecideOptions): Promise<Outcome> {
    let r: DecisionResult;
    try {
      r = await this.engine.decide({
        path,
        decision,
        ...(o.hunks ? { hunks: o.hunks } : {}),
        ...(o.version !== undefined ? { version: o.version } : {}),
        ...(o.reason ? { reason: o.reason } : {}),
        ...(o.onConflict ? { onConflict: o.onConflict } : {}),
      });
    } catch (err) {
      const message = (err as Error).message;
      r = { status: /No pending proposal/.test(message) ? 'not-found' : 'error', message };
    }
    // The caller looks at the queue next (the diff, the count): it shows the engine's state after this.
    await this.refresh();
    return asOutcome(path, r);
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // A broken listener must not stop the others.
      }
    }
  }
}
