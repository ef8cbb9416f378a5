/**
 * The queue of proposed edits, keyed by path. After each tool call the sandbox's changes become
 * proposals (a new change to the same file updates its proposal in place); the user — or the
 * approval mode — accepts or rejects them, whole or by hunks. Rejections become the agent's next
 * observation. Operations run one at a time so a decision never races a refresh.
 */
import type { EventSink } from '../events/events';
import { type FileChange, isInsideGitDir, resolveWorkspacePath, type Sandbox } from '../sandbox/sandbox';
import { accept, type ConflictPolicy, type Decided, type Outcome, reject } from './decide';
import { asRename, buildProposal, findRenames, type Proposal, sameContent, summarize } from './proposal';
import { HUGE_FILE_BYTES } from './text';
import type { UserFiles } from './user-files';

export type ApprovalMode = 'review' | 'auto-accept' | 'ask-each';
export const APPROVAL_MODES: readonly ApprovalMode[] = ['review', 'auto-accept', 'ask-each'];

/** An answer in `ask-each` mode; undefined leaves the proposal queued for later. */
export type Decision = { decision: 'accept' } | { decision: 'reject'; reason?: string };
export type DecideFn = (proposal: Proposal) => Promise<Decision | undefined>;

export interface EditQueueOptions {
  sandbox: Sandbox;
  /** The user's workspace files (VS Code editors or a directory). */
  user: UserFiles;
  emit?: EventSink;
  mode?: ApprovalMode;
  /** Asked for each new or updated proposal in `ask-each` mode; the agent waits for it. */
  decide?: DecideFn;
  /**
   * Receives each rejection's observation text for the agent. Without it the texts are kept
   * until `takeFeedback()`.
   */
  onFeedback?: (text: string) => void;
  /** Problems the user should see (a path outside the workspace, a sandbox error). */
  onWarning?: (message: string) => void;
  hugeBytes?: number;
  /**
   * After a tool call, files whose change looks the same as before (kind, size) are re-read at most
   * this many per call, in turns, so thousands of changed data files do not slow every step.
   * New and resized files are always read; a decision always re-reads its file. Default 64.
   */
  recheckPerScan?: number;
}

export interface DecideOptions {
  /** Hunk indexes of `version`; omitted = the whole file. */
  hunks?: number[];
  /** The version the user saw; a newer one makes the decision `stale` (nothing changes). */
  version?: number;
  reason?: string;
  /** Accept only: what to do on a conflict with the user's own changes. */
  onConflict?: ConflictPolicy;
}

/**
 * The proposals as the review UI sees them, wherever they are held: `EditQueue` in the process that
 * runs the agent, or a proxy of an engine's queue over its control channel (ui/model/remote-queue.ts).
 */
export interface ReviewQueue {
  readonly mode: ApprovalMode;
  setMode(mode: ApprovalMode): void;
  list(): Proposal[];
  get(path: string): Proposal | undefined;
  onDidChange(listener: () => void): () => void;
  accept(path: string, opts?: DecideOptions): Promise<Outcome>;
  reject(path: string, opts?: DecideOptions): Promise<Outcome>;
  acceptAll(opts?: Pick<DecideOptions, 'onConflict'>): Promise<Outcome[]>;
  rejectAll(reason?: string): Promise<Outcome[]>;
}

export interface AfterToolResult {
  /** Proposals that are new or changed by this tool call. */
  proposed: Proposal[];
  /** Decisions taken by the approval mode during this call. */
  outcomes: Outcome[];
}

/** How the agent loop lets the queue wait for the user (AfterToolInfo in src/agent/loop.ts fits). */
export interface AfterToolWait {
  signal?: AbortSignal;
  whileWaiting?: <T>(p: Promise<T>) => Promise<T>;
}

/** The size a FileChange reports for this proposal's file (deleted: the baseline's). */
function sizeOf(p: Proposal, c: FileChange): number | null {
  return c.kind === 'deleted' ? (c.size === 0 ? 0 : p.sizeBefore) : p.sizeAfter;
}

/** `fn` over `items` with at most `limit` running at once; results in input order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The decision, or undefined as soon as the session stops. */
function untilAborted<T>(p: Promise<T | undefined>, signal?: AbortSignal): Promise<T | undefined> {
  if (!signal) return p;
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export class EditQueue implements ReviewQueue {
  private readonly proposals = new Map<string, Proposal>();
  private readonly listeners = new Set<() => void>();
  private readonly feedback: string[] = [];
  /** Paths with some hunks accepted and others still pending. */
  private readonly partlyAccepted = new Set<string>();
  private chain: Promise<unknown> = Promise.resolve();
  private lastStep = 0;
  /** Where the next round of look-alike re-reads starts (see `recheckPerScan`). */
  private recheckFrom = 0;
  /** One counter for all paths, so a version number is never reused. */
  private nextVersion = 1;
  private currentMode: ApprovalMode;
  /** Sensitive paths auto-accept already told the user about. */
  private readonly heldBackPaths = new Set<string>();

  constructor(private readonly opts: EditQueueOptions) {
    this.currentMode = opts.mode ?? 'review';
  }

  get mode(): ApprovalMode {
    return this.currentMode;
  }

  setMode(mode: ApprovalMode): void {
    if (!APPROVAL_MODES.includes(mode)) throw new Error(`Unknown approval mode: ${mode}`);
    if (mode === this.currentMode) return;
    this.currentMode = mode;
    // In the log, so the views of every window and a resume know the mode the session runs in.
    this.opts.emit?.({ type: 'approval_changed', mode });
    this.changed();
  }

  /** Pending proposals, in path order. */
  list(): Proposal[] {
    return [...this.proposals.values()].sort((a, b) => a.path.localeCompare(b.path));
  }

  get(path: string): Proposal | undefined {
    return this.proposals.get(path);
  }

  /**
   * The pending proposals once the operation under way is done: a partly decided file is between
   * its decision and its next version meanwhile, and must not look decided to another window.
   */
  settled(): Promise<Proposal[]> {
    return this.locked(async () => this.list());
  }

  /** Called on every change of the list (new, updated, decided, mode). Returns an unsubscribe function. */
  onDidChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rejection texts not yet given to the agent (only used when no `onFeedback` was passed). */
  takeFeedback(): string[] {
    return this.feedback.splice(0);
  }

  /**
   * The agent loop's hook after each tool call: picks up the sandbox's changes and applies the
   * approval mode. In `ask-each` it resolves only after every new proposal was answered; waiting
   * goes through `whileWaiting` (so it is not active time) and ends early when `signal` aborts.
   */
  async afterTool(step: number, wait: AfterToolWait = {}): Promise<AfterToolResult> {
    const proposed = await this.refresh(step);
    const outcomes: Outcome[] = [];
    if (this.currentMode === 'auto-accept') {
      for (const p of proposed) {
        // What runs on the user's machine is never applied without them (see sensitive.ts).
        if (p.sensitive) this.heldBack(p);
        else outcomes.push(await this.accept(p.path, { version: p.version }));
      }
    } else if (this.currentMode === 'ask-each' && this.opts.decide) {
      for (const p of proposed) {
        const current = this.proposals.get(p.path);
        if (!current || wait.signal?.aborted) continue;
        const asked = this.opts.decide(current);
        let d: Decision | undefined;
        try {
          d = await (wait.whileWaiting
            ? wait.whileWaiting(untilAborted(asked, wait.signal))
            : untilAborted(asked, wait.signal));
        } catch (err) {
          // A prompt that fails must not end the agent's session: the proposal stays queued.
          this.opts.onWarning?.(
            `Could not ask about ${p.path} (${err instanceof Error ? err.message : String(err)}); it stays in the queue.`,
          );
          continue;
        }
        if (!d) continue;
        outcomes.push(
          d.decision === 'accept'
            ? await this.accept(p.path, { version: current.version })
            : await this.reject(p.path, { version: current.version, reason: d.reason }),
        );
      }
    }
    for (const o of outcomes)
      if (o.status === 'conflict' || o.status === 'error') this.opts.onWarning?.(o.message);
    return { proposed, outcomes };
  }

  /** `afterTool` in the shape of the agent loop's hook: `new AgentSession({ afterTool: queue.hook() })`. */
  hook(): (info: { step: number } & AfterToolWait) => Promise<void> {
    return async (info) => {
      await this.afterTool(info.step, info);
    };
  }

  /** Re-reads the sandbox's changes; returns the proposals that are new or changed. */
  refresh(step = this.lastStep): Promise<Proposal[]> {
    return this.locked(() => this.scan(step));
  }

  accept(path: string, opts: DecideOptions = {}): Promise<Outcome> {
    return this.decide(path, opts, (p, chosen) => accept(this.ctx, p, chosen, opts.onConflict ?? 'report'));
  }

  reject(path: string, opts: DecideOptions = {}): Promise<Outcome> {
    return this.decide(path, opts, (p, chosen) =>
      reject(this.ctx, p, chosen, opts.reason, this.partlyAccepted.has(p.path)),
    );
  }

  /** Accepts every pending proposal except the sensitive ones, which need an accept of their own. */
  async acceptAll(opts: Pick<DecideOptions, 'onConflict'> = {}): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const p of this.list())
      if (!p.sensitive) out.push(await this.accept(p.path, { ...opts, version: p.version }));
    return out;
  }

  /** Auto-accept left this proposal pending: said once per path until it is decided. */
  private heldBack(p: Proposal): void {
    if (this.heldBackPaths.has(p.path)) return;
    this.heldBackPaths.add(p.path);
    this.opts.onWarning?.(
      `${p.path} was not applied: ${p.sensitive}. It needs your explicit accept (it stays in the proposed edits).`,
    );
  }

  async rejectAll(reason?: string): Promise<Outcome[]> {
    const out: Outcome[] = [];
    for (const p of this.list()) out.push(await this.reject(p.path, { reason, version: p.version }));
    return out;
  }

  private get ctx() {
    return { sandbox: this.opts.sandbox, user: this.opts.user };
  }

  private decide(
    path: string,
    opts: DecideOptions,
    run: (p: Proposal, chosen: Set<number> | null) => Promise<Decided>,
  ): Promise<Outcome> {
    return this.locked(async () => {
      try {
        // The agent may have changed the file since the user looked: never decide on an old view.
        await this.scan(this.lastStep, [path]);
        const p = this.proposals.get(path);
        if (!p) return { status: 'not-found', path, message: `No pending edit for ${path}.` } as const;
        if (opts.version !== undefined && opts.version !== p.version) {
          return {
            status: 'stale',
            path,
            message: `The agent changed ${path} again; review the new version before deciding.`,
          } as const;
        }
        const chosen = opts.hunks ? new Set(opts.hunks) : null;
        if (chosen) {
          const bad = [...chosen].filter((i) => !p.hunks.some((h) => h.index === i));
          if (bad.length)
            return { status: 'stale', path, message: `${path} has no change #${bad[0]}.` } as const;
        }
        const { outcome, next } = await run(p, chosen);
        await this.settle(p, outcome, next);
        return outcome;
      } catch (err) {
        const message = `Could not decide on ${path}: ${err instanceof Error ? err.message : String(err)}`;
        this.opts.onWarning?.(message);
        return { status: 'error', path, message } as const;
      }
    });
  }

  /** Records a decision; a partly decided file is re-read from the sandbox as a new version. */
  private async settle(p: Proposal, outcome: Outcome, next: Proposal | null | undefined): Promise<void> {
    if (outcome.status !== 'accepted' && outcome.status !== 'rejected') return;
    this.proposals.delete(p.path);
    this.heldBackPaths.delete(p.path);
    this.opts.emit?.({
      type: 'edit_decided',
      path: p.path,
      decision: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
    });
    if (outcome.feedback) {
      if (this.opts.onFeedback) this.opts.onFeedback(outcome.feedback);
      else this.feedback.push(outcome.feedback);
    }
    if (next) await this.scan(next.step, [p.path, ...(p.renamedFrom ? [p.renamedFrom] : [])]);
    outcome.remaining = this.proposals.get(p.path)?.hunks.length ?? 0;
    if (outcome.remaining === 0) this.partlyAccepted.delete(p.path);
    else if (outcome.status === 'accepted') this.partlyAccepted.add(p.path);
    this.changed();
  }

  /** Builds proposals for the sandbox's changes (all, or only `only` and their rename partners). */
  private async scan(step: number, only?: string[]): Promise<Proposal[]> {
    this.lastStep = Math.max(this.lastStep, step);
    const limit = this.opts.hugeBytes ?? HUGE_FILE_BYTES;
    const changes: FileChange[] = [];
    for (const c of await this.opts.sandbox.changes()) {
      if (isInsideGitDir(c.path)) continue; // never proposed (the docker sandbox does not list them)
      try {
        changes.push({ ...c, path: resolveWorkspacePath(c.path) });
      } catch (err) {
        this.opts.onWarning?.(`Refused a change outside the workspace: ${(err as Error).message}`);
      }
    }
    const renames = await findRenames(this.opts.sandbox, changes, limit);
    const renamedAway = new Set(renames.values());
    const wanted = only
      ? new Set(only.flatMap((p) => [p, ...[...renames].filter(([a, d]) => a === p || d === p).flat()]))
      : null;
    const seen = new Set<string>();
    const updated: Proposal[] = [];
    const todo: FileChange[] = [];
    const lookAlike: FileChange[] = [];
    for (const c of changes) {
      if (renamedAway.has(c.path)) continue;
      seen.add(c.path);
      if (wanted && !wanted.has(c.path)) continue;
      const old = this.proposals.get(c.path);
      const same =
        !wanted && old && !renames.has(c.path) && old.change === c.kind && sizeOf(old, c) === c.size;
      (same ? lookAlike : todo).push(c);
    }
    const budget = this.opts.recheckPerScan ?? 64;
    if (lookAlike.length <= budget) todo.push(...lookAlike);
    else {
      const start = this.recheckFrom % lookAlike.length;
      todo.push(...[...lookAlike, ...lookAlike].slice(start, start + budget));
      this.recheckFrom = start + budget;
    }
    // Reading a file from a container is a round trip: a few at a time, not one after another.
    const built = await mapLimit(todo, 6, async (c) => {
      try {
        const p = await buildProposal(this.opts.sandbox, c, step, { hugeBytes: limit });
        const from = renames.get(c.path);
        if (!from) return p;
        const gone = changes.find((x) => x.path === from)!;
        return asRename(p, await buildProposal(this.opts.sandbox, gone, step, { hugeBytes: limit }));
      } catch (err) {
        // One unreadable file (e.g. a symlink leading out of the workspace) must not hide the others.
        this.opts.onWarning?.(
          `Could not read the agent's change to ${c.path}: ${err instanceof Error ? err.message : String(err)}`,
        );
        return undefined;
      }
    });
    for (const p of built) {
      if (!p) continue;
      const old = this.proposals.get(p.path);
      if (old && sameContent(old, p)) continue;
      const next = { ...p, version: this.nextVersion++ };
      this.proposals.set(p.path, next);
      updated.push(next);
    }
    // A file the agent put back as it was is no longer a proposal.
    let removed = false;
    for (const path of [...this.proposals.keys()]) {
      if (!seen.has(path) && (!wanted || wanted.has(path))) {
        removed = this.proposals.delete(path);
        this.partlyAccepted.delete(path);
        this.opts.emit?.({ type: 'edit_withdrawn', step, path });
      }
    }
    for (const p of updated)
      this.opts.emit?.({ type: 'edit_proposed', step: p.step, proposal: summarize(p) });
    if (updated.length || removed) this.changed();
    return updated;
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        // A broken listener must not stop the queue.
      }
    }
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }
}
