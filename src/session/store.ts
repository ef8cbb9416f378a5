/**
 * All sessions under one root (the extension's globalStorage, or the CLI's --state-dir). The
 * session directories are the truth; sessions.json is only a cache of their summaries, keyed by
 * the event log's size and mtime, and can be rebuilt from disk at any time.
 */
import { closeSync, existsSync, openSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { EventLog } from './event-log';
import { ensureDir, fsyncDir, readJsonIfExists, writeAll, writeDurableTemp, writeFileAtomic } from './fsutil';
import {
  createSession,
  type LiveSession,
  type LiveSessionOptions,
  type OpenedSession,
  openSession,
  resumeSession,
  type SessionInit,
} from './live-session';
import { inspectLock, type LockOptions, type LockOwner, SessionLockedError } from './lock';
import { assertSessionId, FILES, newSessionId } from './schema';
import { emptySummary, foldSummary, isSummary, type SessionSummary } from './summary';

/**
 * Moves session `id` from one state folder to another (same disk: one rename), noting where it came
 * from so that the container it keeps, labelled with the old folder, is still this folder's to clean
 * up. False when it cannot move (another disk, or the target exists): it then stays where it is.
 */
export function moveSession(from: string, to: string, id: string): boolean {
  assertSessionId(id);
  const target = join(to, id);
  if (existsSync(target)) return false;
  try {
    ensureDir(to);
    renameSync(join(from, id), target);
  } catch {
    return false;
  }
  try {
    writeFileAtomic(join(target, FILES.movedFrom), `${resolve(from)}\n`);
  } catch {
    // The move stands; only a later clean-up may miss the old container.
  }
  return true;
}

const INDEX_FILE = 'sessions.json';
const INDEX_VERSION = 1;

export interface SessionListEntry extends SessionSummary {
  dir: string;
  /** 'held': a live process drives it; 'stale': its driver crashed; 'free': nobody. */
  lock: 'free' | 'held' | 'stale';
  lockOwner?: LockOwner;
  /** Was running when its driver went away: offer Resume. */
  interrupted: boolean;
}

interface IndexEntry {
  summary: SessionSummary;
  logSize: number;
  logMtimeMs: number;
}

export interface SessionStoreOptions extends LiveSessionOptions {
  lock?: LockOptions;
}

export class SessionStore {
  constructor(
    readonly root: string,
    private readonly opts: SessionStoreOptions = {},
  ) {}

  dirOf(id: string): string {
    assertSessionId(id);
    return join(this.root, id);
  }

  /** Start a new session (locked by this process) and list it. */
  create(
    init: Omit<SessionInit, 'sessionId'> & { sessionId?: string },
    opts: LiveSessionOptions = {},
  ): LiveSession {
    ensureDir(this.root);
    const sessionId = init.sessionId ?? newSessionId();
    const dir = this.dirOf(sessionId);
    if (existsSync(join(dir, FILES.events))) throw new Error(`Session ${sessionId} already exists.`);
    const live = createSession(dir, { ...init, sessionId }, { ...this.opts, ...opts });
    this.refreshOne(sessionId);
    return live;
  }

  /** Every session, most recently updated first. Cheap: one stat per session when nothing changed. */
  list(): SessionListEntry[] {
    const cache = this.readIndex();
    const next: Record<string, IndexEntry> = {};
    let dirty = false;
    for (const id of this.sessionIds()) {
      const st = statLog(this.dirOf(id));
      if (!st) continue;
      const hit = cache[id];
      if (hit && hit.logSize === st.size && hit.logMtimeMs === st.mtimeMs) {
        next[id] = hit;
        continue;
      }
      const entry = this.summarize(id, hit?.summary);
      if (entry) next[id] = entry;
      dirty = true;
    }
    if (dirty || Object.keys(cache).length !== Object.keys(next).length) this.writeIndex(next);
    return Object.values(next)
      .map((e) => this.withLock(e.summary))
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  get(id: string): SessionListEntry | undefined {
    return this.list().find((s) => s.id === id);
  }

  /** Read a session (snapshot + tail + summary) without driving it. */
  open(id: string): OpenedSession {
    return openSession(this.dirOf(id), this.opts);
  }

  /** Drive an existing session: lock + resume. Throws SessionLockedError if another process has it. */
  resume(id: string, opts: LiveSessionOptions = {}): LiveSession {
    const dir = this.dirOf(id);
    if (!existsSync(join(dir, FILES.events))) throw new Error(`No session ${id} in ${this.root}.`);
    return resumeSession(dir, { ...this.opts, ...opts });
  }

  /** Delete a session's directory; refuses while another process drives it. */
  delete(id: string): void {
    const dir = this.dirOf(id);
    if (!existsSync(dir)) throw new Error(`No session ${id} in ${this.root}.`);
    const st = inspectLock(dir, this.opts.lock);
    if (st.state === 'held') throw new SessionLockedError(id, st.owner);
    // Rename first so a crash mid-delete never leaves a half-deleted session that still lists.
    const trash = join(this.root, `.deleted-${id}-${process.pid}`);
    renameSync(dir, trash);
    fsyncDir(this.root);
    rmSync(trash, { recursive: true, force: true });
    const cache = this.readIndex();
    delete cache[id];
    this.writeIndex(cache);
  }

  /**
   * Write the whole trajectory as JSONL: a header line (kind, schema, summary), then every event in
   * order. Streams page by page; the output appears atomically.
   */
  exportTrajectory(id: string, outPath: string): { events: number; bytes: number } {
    const dir = this.dirOf(id);
    const opened = openSession(dir, this.opts);
    const log = EventLog.open(dir, { mode: 'read' });
    const tmp = writeDurableTemp(outPath, '', true);
    const fd = openSync(tmp, 'r+');
    let bytes = 0;
    let events = 0;
    try {
      const header = {
        klong: 'trajectory',
        schemaVersion: 1,
        sessionId: id,
        exportedAt: new Date().toISOString(),
        summary: opened.summary,
      };
      const put = (s: string) => {
        const b = Buffer.from(s);
        writeAll(fd, b, bytes);
        bytes += b.length;
      };
      put(`${JSON.stringify(header)}\n`);
      const page = 1000;
      for (let from = 0; from < log.durableCount; from += page) {
        const lines = log.read(from, Math.min(from + page, log.durableCount)).map((e) => JSON.stringify(e));
        events += lines.length;
        if (lines.length) put(`${lines.join('\n')}\n`);
      }
    } finally {
      closeSync(fd);
      log.close();
    }
    renameSync(tmp, outPath);
    return { events, bytes };
  }

  /** Recompute every summary from the session directories and rewrite the cache. */
  rebuildIndex(): SessionListEntry[] {
    const next: Record<string, IndexEntry> = {};
    for (const id of this.sessionIds()) {
      const e = this.summarize(id, undefined);
      if (e) next[id] = e;
    }
    this.writeIndex(next);
    return Object.values(next)
      .map((e) => this.withLock(e.summary))
      .sort((a, b) => b.updatedAt - a.updatedAt);
  }

  // --- internals ---

  private sessionIds(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return [];
    }
    return names.filter(
      (n) => /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(n) && existsSync(join(this.root, n, FILES.events)),
    );
  }

  /** Summary from summary.json (or a cached one) plus the events after it. */
  private summarize(id: string, cached: SessionSummary | undefined): IndexEntry | undefined {
    const dir = this.dirOf(id);
    const st = statLog(dir);
    if (!st) return undefined;
    let base: SessionSummary | undefined;
    try {
      const s = readJsonIfExists(join(dir, FILES.summary));
      if (isSummary(s)) base = s;
    } catch {}
    if (cached && (!base || cached.seq > base.seq)) base = cached;
    let log: EventLog;
    try {
      log = EventLog.open(dir, {
        mode: 'read',
        ...(this.opts.onWarning ? { onWarning: this.opts.onWarning } : {}),
      });
    } catch (err) {
      this.opts.onWarning?.(`Skipping session ${id}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      if (!base || base.seq >= log.durableCount) base = emptySummary(log.sessionId, log.header.createdAt);
      const summary = { ...base, id };
      for (const e of log.iterate(summary.seq + 1, log.durableCount)) foldSummary(summary, e);
      return { summary, logSize: st.size, logMtimeMs: st.mtimeMs };
    } finally {
      log.close();
    }
  }

  private refreshOne(id: string): void {
    const cache = this.readIndex();
    const e = this.summarize(id, cache[id]?.summary);
    if (e) cache[id] = e;
    this.writeIndex(cache);
  }

  private withLock(summary: SessionSummary): SessionListEntry {
    const dir = this.dirOf(summary.id);
    const st = inspectLock(dir, this.opts.lock);
    const active = summary.status === 'running' || summary.status === 'starting';
    return {
      ...summary,
      dir,
      lock: st.state,
      ...(st.state !== 'free' && st.owner ? { lockOwner: st.owner } : {}),
      interrupted: active && st.state !== 'held',
    };
  }

  private readIndex(): Record<string, IndexEntry> {
    try {
      const v = readJsonIfExists(join(this.root, INDEX_FILE)) as
        | { version?: number; sessions?: Record<string, IndexEntry> }
        | undefined;
      if (v?.version === INDEX_VERSION && v.sessions && typeof v.sessions === 'object') return v.sessions;
    } catch {
      // A corrupt cache is simply rebuilt.
    }
    return {};
  }

  private writeIndex(sessions: Record<string, IndexEntry>): void {
    ensureDir(this.root);
    writeFileAtomic(join(this.root, INDEX_FILE), JSON.stringify({ version: INDEX_VERSION, sessions }), true);
  }
}

function statLog(dir: string): { size: number; mtimeMs: number } | undefined {
  try {
    const st = statSync(join(dir, FILES.events));
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}
