/**
 * Schema migrations for events.jsonl and snapshot.json. Each step upgrades one version; files are
 * upgraded on open (the event log is rewritten atomically, keeping the original as a backup) and
 * snapshots in memory (the next snapshot is written in the current version).
 */
import { closeSync, fstatSync, linkSync, openSync, renameSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fsyncDir, isErrno, writeDurableTemp } from './fsutil';
import { scanLines } from './line-scanner';
import { EVENTS_SCHEMA_VERSION, type EventsHeader, isEventsHeader, SNAPSHOT_SCHEMA_VERSION } from './schema';

type Obj = Record<string, unknown>;

export interface EventsMigration {
  from: number;
  to: number;
  /** New header from the old one (null when the old format had none). */
  header(old: Obj | null, ctx: { sessionId: string; createdAt: number }): Obj;
  /** New record from the old one; `index` is its position among the records. Return null to drop it. */
  record(old: Obj, index: number): Obj | null;
}

export interface SnapshotMigration {
  from: number;
  to: number;
  migrate(old: Obj): Obj;
}

/**
 * v0 (prototype, before the header existed): no header line; each line was
 * `{"time": "<ISO date>", "event": <event body>}` and the position in the file was the sequence.
 */
export const eventMigrations: EventsMigration[] = [
  {
    from: 0,
    to: 1,
    header: (_old, ctx) => ({
      klong: 'events',
      schemaVersion: 1,
      sessionId: ctx.sessionId,
      createdAt: ctx.createdAt,
    }),
    record: (old, index) => {
      const body = old.event;
      if (typeof body !== 'object' || body === null || typeof (body as Obj).type !== 'string') return null;
      const ts = typeof old.time === 'string' ? Date.parse(old.time) : Number.NaN;
      return { seq: index, ts: Number.isFinite(ts) ? ts : 0, ...(body as Obj) };
    },
  },
];

/** v0 snapshot: `{ version: 0, lastSeq, context, info }`, no byte offset into the log. */
export const snapshotMigrations: SnapshotMigration[] = [
  {
    from: 0,
    to: 1,
    migrate: (old) => ({
      schemaVersion: 1,
      seq: old.lastSeq,
      offset: -1,
      state: old.context ?? null,
      meta: typeof old.info === 'object' && old.info !== null ? old.info : {},
      writtenAt: 0,
    }),
  },
];

function chain<T extends { from: number; to: number }>(
  table: T[],
  from: number,
  to: number,
  what: string,
): T[] {
  const steps: T[] = [];
  let v = from;
  while (v < to) {
    const step = table.find((m) => m.from === v);
    if (!step) throw new Error(`No migration for ${what} from schema version ${v} to ${to}.`);
    steps.push(step);
    v = step.to;
  }
  return steps;
}

export function snapshotVersionOf(obj: Obj): number {
  if (typeof obj.schemaVersion === 'number') return obj.schemaVersion;
  if (typeof obj.version === 'number') return obj.version;
  return 0;
}

/** Upgrade a parsed snapshot object to the current schema (throws for a newer, unknown one). */
export function migrateSnapshot(obj: Obj): Obj {
  const v = snapshotVersionOf(obj);
  if (v > SNAPSHOT_SCHEMA_VERSION) {
    throw new Error(
      `Snapshot schema version ${v} is newer than this KLong supports (${SNAPSHOT_SCHEMA_VERSION}); update KLong.`,
    );
  }
  let out = obj;
  for (const step of chain(snapshotMigrations, v, SNAPSHOT_SCHEMA_VERSION, 'snapshot'))
    out = step.migrate(out);
  return out;
}

/** Schema version of an events file from its first line (no header = v0). */
export function eventsVersionOf(firstLine: unknown): number {
  return isEventsHeader(firstLine) ? firstLine.schemaVersion : 0;
}

export interface MigrationResult {
  from: number;
  to: number;
  records: number;
  dropped: number;
  backup: string;
}

/**
 * Rewrite `path` in the current schema: new file written and fsynced beside it, the original
 * hard-linked to `<name>.v<N>.bak`, then renamed over. A crash at any point leaves either the old
 * file or the new one in place.
 */
export function migrateEventsFile(
  path: string,
  ctx: { sessionId: string },
  onWarning: (msg: string) => void,
): MigrationResult {
  const fd = openSync(path, 'r');
  let out: string[] = [];
  let from = 0;
  let records = 0;
  let dropped = 0;
  try {
    const size = fstatSync(fd).size;
    let header: Obj | null = null;
    let first = true;
    const parsed: Obj[] = [];
    for (const line of scanLines(fd, 0, size)) {
      let value: unknown;
      try {
        value = JSON.parse(line.bytes.toString('utf8'));
      } catch {
        dropped++;
        onWarning(`Migration: dropped an unreadable line at byte ${line.offset} of ${basename(path)}.`);
        continue;
      }
      if (first) {
        first = false;
        from = eventsVersionOf(value);
        if (from > EVENTS_SCHEMA_VERSION) {
          throw new Error(
            `${path} has schema version ${from}, newer than this KLong supports (${EVENTS_SCHEMA_VERSION}); update KLong.`,
          );
        }
        if (isEventsHeader(value)) {
          header = value as unknown as Obj;
          continue;
        }
      }
      if (typeof value === 'object' && value !== null) parsed.push(value as Obj);
    }
    const steps = chain(eventMigrations, from, EVENTS_SCHEMA_VERSION, 'events');
    const createdAt = typeof header?.createdAt === 'number' ? header.createdAt : Date.now();
    let h: Obj | null = header;
    let recs = parsed;
    for (const step of steps) {
      h = step.header(h, { sessionId: ctx.sessionId, createdAt });
      const next: Obj[] = [];
      recs.forEach((r, i) => {
        const m = step.record(r, i);
        if (m) next.push(m);
        else dropped++;
      });
      recs = next;
    }
    records = recs.length;
    out = [JSON.stringify(h as unknown as EventsHeader), ...recs.map((r) => JSON.stringify(r))];
  } finally {
    closeSync(fd);
  }
  const tmp = writeDurableTemp(path, `${out.join('\n')}\n`);
  const backup = join(dirname(path), `${basename(path)}.v${from}.bak`);
  try {
    linkSync(path, backup);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
  return { from, to: EVENTS_SCHEMA_VERSION, records, dropped, backup };
}
