/**
 * One driver per session: session.lock holds {pid, hostname, token, heartbeat}. The owner touches it
 * every few seconds. A lock whose pid is dead on this host, or whose heartbeat is older than
 * `staleMs`, belongs to a crashed owner and is taken over; a live owner's lock is a clear error.
 */
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { fsyncDir, isErrno, writeAll } from './fsutil';
import { FILES } from './schema';

export interface LockOwner {
  pid: number;
  hostname: string;
  token: string;
  /** Free text: "VS Code window", "klong CLI". */
  label: string;
  acquiredAt: number;
  heartbeat: number;
}

export interface LockOptions {
  label?: string;
  /** Heartbeat older than this means the owner is gone (default 30 s). */
  staleMs?: number;
  /** How often the owner touches the lock (default staleMs / 4). */
  heartbeatMs?: number;
  /** Called if another process took the lock over (our heartbeat stalled past staleMs). */
  onLost?: (by: LockOwner | undefined) => void;
  now?: () => number;
}

export class SessionLockedError extends Error {
  constructor(
    readonly sessionId: string,
    readonly owner: LockOwner,
  ) {
    const where =
      owner.hostname === osHostname() ? `pid ${owner.pid}` : `pid ${owner.pid} on ${owner.hostname}`;
    super(
      `Session ${sessionId} is open in another window (${where}${owner.label ? `, ${owner.label}` : ''}).`,
    );
    this.name = 'SessionLockedError';
  }
}

export type LockState =
  | { state: 'free' }
  | { state: 'held'; owner: LockOwner }
  | { state: 'stale'; owner: LockOwner | undefined; why: string };

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return isErrno(err, 'EPERM'); // exists, owned by someone else
  }
  return !isZombie(pid);
}

/**
 * A killed engine stays a zombie until its parent reaps it; a detached engine's parent is init, which
 * in a container or a VM may reap late or never. A zombie holds nothing: its lock is stale.
 */
function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

function readOwner(path: string): { owner?: LockOwner; mtime: number } | undefined {
  let text: string;
  let mtime: number;
  try {
    mtime = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    if (typeof o.pid === 'number' && typeof o.hostname === 'string' && typeof o.token === 'string') {
      return { owner: o, mtime };
    }
  } catch {}
  return { mtime };
}

/** Who holds the lock of `dir`, and whether that owner is still alive. */
export function inspectLock(dir: string, opts: Pick<LockOptions, 'staleMs' | 'now'> = {}): LockState {
  const staleMs = opts.staleMs ?? 30_000;
  const now = (opts.now ?? Date.now)();
  const r = readOwner(join(dir, FILES.lock));
  if (!r) return { state: 'free' };
  const beat = Math.max(r.mtime, r.owner?.heartbeat ?? 0);
  if (!r.owner) {
    // Being written right now, or garbage left by a crash: only stale once old.
    return now - beat > Math.min(staleMs, 2_000)
      ? { state: 'stale', owner: undefined, why: 'unreadable lock file' }
      : {
          state: 'held',
          owner: { pid: 0, hostname: '?', token: '', label: '', acquiredAt: beat, heartbeat: beat },
        };
  }
  if (r.owner.hostname === osHostname() && !pidAlive(r.owner.pid)) {
    return { state: 'stale', owner: r.owner, why: `pid ${r.owner.pid} is not running` };
  }
  if (now - beat > staleMs) {
    return { state: 'stale', owner: r.owner, why: `no heartbeat for ${Math.round((now - beat) / 1000)} s` };
  }
  return { state: 'held', owner: r.owner };
}

export class SessionLock {
  private timer: NodeJS.Timeout | undefined;
  private released = false;
  private lostTo: LockOwner | undefined | null = null;

  private constructor(
    readonly dir: string,
    readonly owner: LockOwner,
    /** Set when the lock was taken over from a crashed owner. */
    readonly tookOverFrom: LockOwner | undefined,
    private readonly opts: LockOptions,
  ) {}

  get path(): string {
    return join(this.dir, FILES.lock);
  }

  /** Take the lock of a session directory, or throw SessionLockedError naming the live owner. */
  static acquire(dir: string, sessionId: string, opts: LockOptions = {}): SessionLock {
    const now = opts.now ?? Date.now;
    const path = join(dir, FILES.lock);
    const staleMs = opts.staleMs ?? 30_000;
    let tookOver: LockOwner | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const t = now();
      const owner: LockOwner = {
        pid: process.pid,
        hostname: osHostname(),
        token: randomUUID(),
        label: opts.label ?? '',
        acquiredAt: t,
        heartbeat: t,
      };
      if (tryCreate(path, owner)) {
        const lock = new SessionLock(dir, owner, tookOver, opts);
        lock.startHeartbeat(opts.heartbeatMs ?? Math.max(250, Math.floor(staleMs / 4)));
        removeLeftovers(dir, staleMs);
        return lock;
      }
      const st = inspectLock(dir, { staleMs, now });
      if (st.state === 'free') continue;
      if (st.state === 'held') {
        throw new SessionLockedError(sessionId, st.owner);
      }
      // Stale: move it aside under a unique name (only one contender's rename succeeds), then check
      // we moved the lock we judged stale and not a fresh one created meanwhile.
      const aside = `${path}.stale-${process.pid}-${Date.now()}`;
      try {
        renameSync(path, aside);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue;
        throw err;
      }
      const moved = readOwner(aside)?.owner;
      if (st.owner && moved?.token !== st.owner.token) {
        // Someone else's fresh lock: put it back (link fails if yet another one appeared).
        try {
          linkSync(aside, path);
        } catch {}
        rmSync(aside, { force: true });
        continue;
      }
      rmSync(aside, { force: true });
      tookOver = st.owner;
    }
    const st = inspectLock(dir, { staleMs, now });
    if (st.state === 'held') throw new SessionLockedError(sessionId, st.owner);
    throw new Error(`Could not lock session ${sessionId} at ${path}: contention with other processes.`);
  }

  /** Set once the heartbeat found the lock taken over: whoever holds it now (undefined if nobody). */
  get lost(): { by: LockOwner | undefined } | undefined {
    return this.lostTo === null ? undefined : { by: this.lostTo };
  }

  /** True while this process still owns the lock file. */
  isHeld(): boolean {
    if (this.released) return false;
    return readOwner(this.path)?.owner?.token === this.owner.token;
  }

  /** Touch the heartbeat now (also done on a timer). */
  heartbeat(): void {
    if (this.released) return;
    const cur = readOwner(this.path)?.owner;
    if (cur?.token !== this.owner.token) {
      this.stopHeartbeat();
      this.released = true;
      this.lostTo = cur;
      this.opts.onLost?.(cur);
      return;
    }
    const t = new Date((this.opts.now ?? Date.now)());
    try {
      utimesSync(this.path, t, t);
    } catch {}
  }

  release(): void {
    if (this.released) return;
    this.stopHeartbeat();
    this.released = true;
    if (readOwner(this.path)?.owner?.token === this.owner.token) {
      rmSync(this.path, { force: true });
    }
  }

  private startHeartbeat(ms: number): void {
    this.timer = setInterval(() => this.heartbeat(), ms);
    this.timer.unref();
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * Create the lock file with the owner's record, atomically: written beside it, then hard-linked
 * into place (link fails if a lock exists), so nobody ever sees a half-written lock.
 */
function tryCreate(path: string, owner: LockOwner): boolean {
  const tmp = `${path}.${owner.token}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeAll(fd, Buffer.from(JSON.stringify(owner)), 0);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, path);
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
  fsyncDir(join(path, '..'));
  return true;
}

/** Temp and moved-aside lock files left by processes killed mid-acquire (harmless, but clutter). */
function removeLeftovers(dir: string, olderThanMs: number): void {
  try {
    for (const f of readdirSync(dir)) {
      if (!f.startsWith(`${FILES.lock}.`)) continue;
      const p = join(dir, f);
      if (Date.now() - statSync(p).mtimeMs > olderThanMs) rmSync(p, { force: true });
    }
  } catch {
    // best effort
  }
}
