/**
 * Opening a session: read-only (openSession: snapshot + tail + summary) or as its one driver
 * (resumeSession / createSession: lock + writable log + checkpointing). Resume reads the newest
 * valid snapshot and the events after it, seeking to the snapshot's byte offset: its cost does not
 * grow with the length of the session.
 */
import { join } from 'node:path';
import type { AgentEvent, AgentEventBody, EventSink } from '../events/events';
import { type Durability, EventLog } from './event-log';
import { ensureDir, writeFileAtomic } from './fsutil';
import { type LockOptions, SessionLock } from './lock';
import { assertSessionId, FILES } from './schema';
import { loadSnapshot, type Snapshot, type SnapshotMeta, writeSnapshot } from './snapshot';
import { emptySummary, foldSummary, type SessionSummary } from './summary';

export interface OpenedSession {
  sessionId: string;
  dir: string;
  /** Newest valid snapshot, or undefined (then `tail` is the whole log: a full replay). */
  snapshot: Snapshot | undefined;
  /** Events after the snapshot, in order. */
  tail: AgentEvent[];
  /** Summary as of the last event (paper, workspace, status, active time, score...). */
  summary: SessionSummary;
  /** Total events in the log. */
  count: number;
  warnings: string[];
}

export interface OpenOptions {
  onWarning?: (message: string) => void;
}

function collectWarnings(opts: OpenOptions): { warnings: string[]; warn: (m: string) => void } {
  const warnings: string[] = [];
  return {
    warnings,
    warn: (m) => {
      warnings.push(m);
      opts.onWarning?.(m);
    },
  };
}

function readState(log: EventLog, dir: string, warn: (m: string) => void) {
  const snapshot = loadSnapshot(dir, log, warn);
  const tail = snapshot
    ? [...log.iterateFromOffset(snapshot.offset, snapshot.seq + 1)]
    : [...log.iterate(0, log.durableCount)];
  const summary = snapshot?.summary
    ? { ...snapshot.summary }
    : emptySummary(log.sessionId, log.header.createdAt);
  if (!snapshot?.summary && snapshot) {
    // A snapshot without a summary (migrated): the summary needs the events before it once.
    for (const e of log.iterate(0, snapshot.seq + 1)) foldSummary(summary, e);
  }
  for (const e of tail) foldSummary(summary, e);
  return { snapshot, tail, summary };
}

/** Read a session without driving it (no lock, no changes to its files). */
export function openSession(dir: string, opts: OpenOptions = {}): OpenedSession {
  const { warnings, warn } = collectWarnings(opts);
  const log = EventLog.open(dir, { mode: 'read', onWarning: warn });
  try {
    const { snapshot, tail, summary } = readState(log, dir, warn);
    return { sessionId: log.sessionId, dir, snapshot, tail, summary, count: log.durableCount, warnings };
  } finally {
    log.close();
  }
}

export interface LiveSessionOptions extends OpenOptions {
  /** fsync per event or per step (default 'step': endStep()/flush() fsync). */
  durability?: Durability;
  /** Write a snapshot every N steps (default 10). */
  snapshotEvery?: number;
  lock?: LockOptions;
  now?: () => number;
}

/** A session this process drives: holds its lock, appends events, writes snapshots. */
export class LiveSession {
  readonly sessionId: string;
  /** Fold of every event so far. */
  readonly summary: SessionSummary;
  /** The snapshot loaded at resume (undefined for a new session or a full replay). */
  readonly snapshot: Snapshot | undefined;
  /** Events after that snapshot, to replay into the context manager. */
  readonly tail: AgentEvent[];
  readonly warnings: string[];
  private stepsSinceSnapshot = 0;
  private closed = false;

  constructor(
    readonly dir: string,
    readonly log: EventLog,
    readonly lock: SessionLock,
    loaded: {
      snapshot: Snapshot | undefined;
      tail: AgentEvent[];
      summary: SessionSummary;
      warnings: string[];
    },
    private readonly opts: LiveSessionOptions,
  ) {
    this.sessionId = log.sessionId;
    this.snapshot = loaded.snapshot;
    this.tail = loaded.tail;
    this.summary = loaded.summary;
    this.warnings = loaded.warnings;
  }

  /** Append an event (queued until the step boundary unless durability is 'event'). */
  append(body: AgentEventBody): AgentEvent {
    this.assertOwner();
    const e = this.log.append(body);
    foldSummary(this.summary, e);
    // Status, end and grade are rare and are what the session list shows: durable at once, not at
    // the end of a step that may be a minute away.
    if (body.type === 'status' || body.type === 'end' || body.type === 'grade') this.log.flush();
    return e;
  }

  /** An EventSink for the agent loop. */
  readonly sink: EventSink = (body) => {
    this.append(body);
  };

  /** Make every appended event durable. */
  flush(): void {
    this.assertOwner();
    this.log.flush();
  }

  /** Never two writers: once another process has taken the lock over, stop writing. */
  private assertOwner(): void {
    const lost = this.lock.lost;
    if (!lost) return;
    const by = lost.by ? ` (pid ${lost.by.pid}${lost.by.label ? `, ${lost.by.label}` : ''})` : '';
    throw new Error(
      `Session ${this.sessionId} was taken over by another process${by} while this one was unresponsive; this one stopped writing to it.`,
    );
  }

  /**
   * The step boundary: flush (one fsync), and every `snapshotEvery` steps write a snapshot of the
   * state returned by `getState` (called only then). Returns true when a snapshot was written.
   */
  endStep(getState: () => unknown, meta?: SnapshotMeta): boolean {
    this.flush();
    this.stepsSinceSnapshot++;
    if (this.stepsSinceSnapshot < (this.opts.snapshotEvery ?? 10)) return false;
    try {
      this.snapshotNow(getState(), meta);
      return true;
    } catch (err) {
      // The events are on disk and are the truth; a snapshot only makes resume faster. Retry next step.
      const msg = `Could not write the snapshot of session ${this.sessionId} (${(err as Error).message}); the event log is intact, retrying at the next step.`;
      this.warnings.push(msg);
      this.opts.onWarning?.(msg);
      return false;
    }
  }

  /** Flush and write a snapshot of `state` as of the last event, plus summary.json. */
  snapshotNow(state: unknown, meta?: SnapshotMeta): Snapshot {
    this.flush();
    const snap = writeSnapshot(
      this.dir,
      {
        sessionId: this.sessionId,
        seq: this.log.durableCount - 1,
        offset: this.log.endOffset,
        state,
        ...(meta ? { meta } : {}),
        summary: this.summary,
      },
      (this.opts.now ?? Date.now)(),
    );
    this.stepsSinceSnapshot = 0;
    this.writeSummary();
    return snap;
  }

  /** Small summary.json beside the log so listing sessions stays cheap. */
  writeSummary(): void {
    writeFileAtomic(join(this.dir, FILES.summary), JSON.stringify(this.summary));
  }

  /** Flush, record the summary, release the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.lock.lost) {
        this.log.close({ flush: false }); // another process writes this session now
      } else {
        this.log.close();
        this.writeSummary();
      }
    } finally {
      this.lock.release();
    }
  }
}

/** Take over a session as its driver: lock, repair a torn tail, load snapshot + tail. */
export function resumeSession(dir: string, opts: LiveSessionOptions = {}): LiveSession {
  const { warnings, warn } = collectWarnings(opts);
  const sessionId = dir.split(/[\\/]/).filter(Boolean).pop() ?? dir;
  const lock = SessionLock.acquire(dir, sessionId, opts.lock);
  let log: EventLog | undefined;
  try {
    if (lock.tookOverFrom) {
      warn(
        `Took over the lock of session ${sessionId} from pid ${lock.tookOverFrom.pid} (no longer running).`,
      );
    }
    log = EventLog.open(dir, {
      mode: 'write',
      durability: opts.durability ?? 'step',
      onWarning: warn,
      ...(opts.now ? { now: opts.now } : {}),
    });
    const loaded = readState(log, dir, warn);
    return new LiveSession(dir, log, lock, { ...loaded, warnings }, opts);
  } catch (err) {
    log?.close();
    lock.release();
    throw err;
  }
}

export type SessionInit = Omit<Extract<AgentEventBody, { type: 'session_started' }>, 'type'>;

/** Create a new session directory, lock it and log `session_started` durably. */
export function createSession(dir: string, init: SessionInit, opts: LiveSessionOptions = {}): LiveSession {
  assertSessionId(init.sessionId);
  ensureDir(dir);
  const lock = SessionLock.acquire(dir, init.sessionId, opts.lock);
  let log: EventLog | undefined;
  try {
    log = EventLog.open(dir, {
      mode: 'write',
      durability: opts.durability ?? 'step',
      create: { sessionId: init.sessionId, first: { type: 'session_started', ...init } },
      ...(opts.onWarning ? { onWarning: opts.onWarning } : {}),
      ...(opts.now ? { now: opts.now } : {}),
    });
    const [first] = log.read(0, 2);
    if (log.durableCount !== 1 || first?.type !== 'session_started' || first.sessionId !== init.sessionId) {
      throw new Error(`Session ${init.sessionId} already exists in ${dir}.`);
    }
    const summary = foldSummary(emptySummary(init.sessionId, log.header.createdAt), first);
    const live = new LiveSession(
      dir,
      log,
      lock,
      { snapshot: undefined, tail: [first], summary, warnings: [] },
      opts,
    );
    live.writeSummary();
    return live;
  } catch (err) {
    log?.close();
    lock.release();
    throw err;
  }
}
