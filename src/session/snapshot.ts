/**
 * snapshot.json: the context manager's state (opaque JSON) as of event `seq`, written atomically
 * (temp + fsync + rename + fsync dir). The previous one is kept as snapshot.prev.json so a
 * corrupt snapshot falls back to it, and failing both, to a full replay.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { EventLog } from './event-log';
import { fsyncDir, isErrno, writeDurableTemp } from './fsutil';
import { migrateSnapshot } from './migrations';
import { FILES, SNAPSHOT_SCHEMA_VERSION } from './schema';
import { isSummary, type SessionSummary } from './summary';

export type SnapshotMeta = Record<string, unknown>;

export interface Snapshot<S = unknown> {
  schemaVersion: number;
  sessionId: string;
  /** Seq of the last event the state includes (-1: none). */
  seq: number;
  /** Byte offset in events.jsonl just after event `seq` (-1 when unknown, e.g. migrated). */
  offset: number;
  state: S;
  meta: SnapshotMeta;
  summary?: SessionSummary;
  writtenAt: number;
}

export interface SnapshotInput<S = unknown> {
  sessionId: string;
  seq: number;
  offset: number;
  state: S;
  meta?: SnapshotMeta;
  summary?: SessionSummary;
}

/** Where a torn or interrupted write may have left a complete, fsynced snapshot. */
const TEMP = `.${FILES.snapshot}.tmp`;

/** Write snapshot.json atomically, rotating the current one to snapshot.prev.json. */
export function writeSnapshot<S>(dir: string, input: SnapshotInput<S>, now = Date.now()): Snapshot<S> {
  const snap: Snapshot<S> = {
    schemaVersion: SNAPSHOT_SCHEMA_VERSION,
    sessionId: input.sessionId,
    seq: input.seq,
    offset: input.offset,
    state: input.state,
    meta: input.meta ?? {},
    ...(input.summary ? { summary: input.summary } : {}),
    writtenAt: now,
  };
  const path = join(dir, FILES.snapshot);
  const tmp = writeDurableTemp(path, JSON.stringify(snap));
  try {
    renameSync(path, join(dir, FILES.prevSnapshot));
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  renameSync(tmp, path);
  fsyncDir(dir);
  return snap;
}

export interface SnapshotCandidate {
  file: string;
  snapshot?: Snapshot;
  error?: string;
}

/** Parse and check one snapshot file; never throws for bad content. */
export function readSnapshotFile(path: string): SnapshotCandidate {
  const file = basename(path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { file, error: isErrno(err, 'ENOENT') ? 'missing' : (err as Error).message };
  }
  try {
    const raw = JSON.parse(text) as unknown;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      return { file, error: 'not an object' };
    const obj = migrateSnapshot(raw as Record<string, unknown>);
    if (typeof obj.seq !== 'number' || !Number.isInteger(obj.seq) || obj.seq < -1) {
      return { file, error: 'no valid seq' };
    }
    if (!('state' in obj)) return { file, error: 'no state' };
    const snap: Snapshot = {
      schemaVersion: SNAPSHOT_SCHEMA_VERSION,
      sessionId: typeof obj.sessionId === 'string' ? obj.sessionId : '',
      seq: obj.seq,
      offset: typeof obj.offset === 'number' ? obj.offset : -1,
      state: obj.state,
      meta: typeof obj.meta === 'object' && obj.meta !== null ? (obj.meta as SnapshotMeta) : {},
      ...(isSummary(obj.summary) ? { summary: obj.summary } : {}),
      writtenAt: typeof obj.writtenAt === 'number' ? obj.writtenAt : 0,
    };
    return { file, snapshot: snap };
  } catch (err) {
    return { file, error: (err as Error).message };
  }
}

/** All snapshot files present in a session directory, newest (highest seq) valid one first. */
export function readSnapshots(dir: string): SnapshotCandidate[] {
  const files = [FILES.snapshot, FILES.prevSnapshot, TEMP].filter((f) => existsSync(join(dir, f)));
  const cands = files.map((f) => readSnapshotFile(join(dir, f)));
  return cands.sort((a, b) => (b.snapshot?.seq ?? -2) - (a.snapshot?.seq ?? -2));
}

/**
 * The newest snapshot that agrees with the log: its seq is on disk, and its offset points at the
 * event after it (re-located through the index when it does not, e.g. after a migration).
 * Undefined means: replay from the start.
 */
export function loadSnapshot(
  dir: string,
  log: EventLog,
  warn: (message: string) => void = () => {},
): Snapshot | undefined {
  const cands = readSnapshots(dir);
  for (const c of cands) {
    if (!c.snapshot && c.file !== TEMP) warn(`${c.file} is unreadable (${c.error}); falling back.`);
  }
  for (const c of cands) {
    if (!c.snapshot) continue;
    const s = c.snapshot;
    if (s.sessionId && s.sessionId !== log.sessionId) {
      warn(`${c.file} belongs to session ${s.sessionId}, not ${log.sessionId}; ignoring it.`);
      continue;
    }
    if (s.seq >= log.durableCount) {
      warn(
        `${c.file} is ahead of the event log (seq ${s.seq}, log has ${log.durableCount} events); falling back.`,
      );
      continue;
    }
    const next = s.seq + 1;
    const offsetOk =
      s.offset >= 0 &&
      (next === log.durableCount ? s.offset === log.endOffset : log.seqAt(s.offset) === next);
    if (!offsetOk) {
      const found = log.offsetOf(next);
      if (found === undefined) {
        warn(`${c.file}: event ${next} not found in the log; falling back.`);
        continue;
      }
      s.offset = found;
    }
    return s;
  }
  return undefined;
}
