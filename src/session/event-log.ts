/**
 * Append-only events.jsonl of one session: a header line with the schema version, then one
 * AgentEvent per line. Durability is an fsync per event or one per step (flush at the step
 * boundary). Reads page through the file via a sparse offset index, never loading all of it.
 */
import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, openSync, readSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentEvent, AgentEventBody } from '../events/events';
import { fsyncDir, isErrno, writeAll, writeFileAtomic } from './fsutil';
import { scanLines } from './line-scanner';
import { eventsVersionOf, migrateEventsFile } from './migrations';
import { OffsetIndex } from './offset-index';
import { EVENTS_SCHEMA_VERSION, type EventsHeader, FILES, isEventsHeader } from './schema';

/** 'event': fsync after every append; 'step': fsync on flush(); 'none': never (tests, benches). */
export type Durability = 'event' | 'step' | 'none';

export interface EventLogOptions {
  /** 'write' appends and repairs a torn tail; 'read' never changes the file. Default 'read'. */
  mode?: 'write' | 'read';
  durability?: Durability;
  /**
   * Create the log (with this session id) when the directory has none. Write mode only. `first`
   * becomes event 0 in the same atomic file creation, so a session never exists without it.
   */
  create?: { sessionId: string; first?: AgentEventBody };
  onWarning?: (message: string) => void;
  /** Index every N-th event (default 64). */
  indexStride?: number;
  now?: () => number;
}

const SEQ_PREFIX = /^\{"seq":(\d+),/;

export class EventLog {
  readonly path: string;
  readonly header: EventsHeader;
  readonly mode: 'write' | 'read';
  private durability: Durability;
  private fd: number;
  private index: OffsetIndex;
  private headerEnd: number;
  /** Bytes of valid, flushed events (the next append goes here). */
  private size: number;
  /** Seq of the next flushed event. */
  private durableNext: number;
  private pending: { event: AgentEvent; line: Buffer }[] = [];
  private readonly warn: (message: string) => void;
  private readonly now: () => number;
  private closed = false;

  private constructor(
    readonly dir: string,
    opts: EventLogOptions,
  ) {
    this.path = join(dir, FILES.events);
    this.mode = opts.mode ?? 'read';
    this.durability = opts.durability ?? 'step';
    this.warn = opts.onWarning ?? (() => {});
    this.now = opts.now ?? Date.now;
    const writable = this.mode === 'write';
    if (opts.create && !writable) throw new Error('EventLog: `create` needs mode "write".');
    if (opts.create) createIfMissing(this.path, opts.create.sessionId, opts.create.first, this.now);

    this.fd = openLog(this.path, writable);
    let first = readFirstLine(this.fd);
    if (!isEventsHeader(first.value) || first.value.schemaVersion !== EVENTS_SCHEMA_VERSION) {
      const version = eventsVersionOf(first.value);
      if (version > EVENTS_SCHEMA_VERSION) {
        closeSync(this.fd);
        throw new Error(
          `${this.path} was written by a newer KLong (events schema ${version} > ${EVENTS_SCHEMA_VERSION}); update KLong to open it.`,
        );
      }
      closeSync(this.fd);
      const sessionId = opts.create?.sessionId ?? dir.split(/[\\/]/).filter(Boolean).pop() ?? 'session';
      const r = migrateEventsFile(this.path, { sessionId }, this.warn);
      this.warn(
        `Upgraded ${FILES.events} from schema ${r.from} to ${r.to} (${r.records} events); original kept as ${r.backup}.`,
      );
      rmSync(join(dir, FILES.index), { force: true }); // it described the old bytes
      this.fd = openLog(this.path, writable);
      first = readFirstLine(this.fd);
    }
    if (!isEventsHeader(first.value)) throw new Error(`${this.path}: missing header line.`);
    this.header = first.value;
    this.headerEnd = first.end;
    this.index = OffsetIndex.open(join(dir, FILES.index), opts.indexStride ?? 64, writable);
    this.size = this.headerEnd;
    this.durableNext = 0;
    this.recover();
  }

  /** Open the log of a session directory. Throws a clear error when absent, unreadable or too new. */
  static open(dir: string, opts: EventLogOptions = {}): EventLog {
    return new EventLog(dir, opts);
  }

  /** Events appended so far, including ones not yet flushed. */
  get count(): number {
    return this.durableNext + this.pending.length;
  }

  /** Events on disk (flushed). */
  get durableCount(): number {
    return this.durableNext;
  }

  /** Byte offset just after the last flushed event. */
  get endOffset(): number {
    return this.size;
  }

  get sessionId(): string {
    return this.header.sessionId;
  }

  setDurability(d: Durability): void {
    this.durability = d;
  }

  /** Give the event its seq and timestamp and queue it; with durability 'event' it is on disk on return. */
  append(body: AgentEventBody): AgentEvent {
    this.assertWritable();
    const event = { seq: this.count, ts: this.now(), ...body } as AgentEvent;
    this.pending.push({ event, line: Buffer.from(`${JSON.stringify(event)}\n`) });
    if (this.durability === 'event') this.flush();
    return event;
  }

  /** Write queued events and fsync (the step boundary). On failure nothing is lost from the queue. */
  flush(): void {
    this.assertWritable();
    if (this.pending.length === 0) return;
    const buf = Buffer.concat(this.pending.map((p) => p.line));
    try {
      writeAll(this.fd, buf, this.size);
      if (this.durability !== 'none') fdatasyncSync(this.fd);
    } catch (err) {
      // Cut off a partial write so the file stays valid; the events stay queued for a retry.
      try {
        ftruncateSync(this.fd, this.size);
      } catch {}
      throw new Error(`Could not write ${this.path}: ${(err as Error).message}`);
    }
    let offset = this.size;
    for (const p of this.pending) {
      this.index.note(p.event.seq, offset);
      offset += p.line.length;
    }
    this.size = offset;
    this.durableNext += this.pending.length;
    this.pending = [];
  }

  /** Events with from <= seq < to (to defaults to count), read page-wise from disk. */
  read(from: number, to: number = this.count): AgentEvent[] {
    const out: AgentEvent[] = [];
    for (const e of this.iterate(from, to)) out.push(e);
    return out;
  }

  /** Like read(), as a generator: memory stays at one event at a time. */
  *iterate(from: number, to: number = this.count): Generator<AgentEvent> {
    this.assertOpen();
    const start = Math.max(0, from);
    const end = Math.min(to, this.count);
    if (start >= end) return;
    if (start < this.durableNext) {
      const anchor = this.index.floor(start);
      yield* this.scanFrom(anchor?.offset ?? this.headerEnd, start, Math.min(end, this.durableNext));
    }
    for (const p of this.pending) if (p.event.seq >= start && p.event.seq < end) yield p.event;
  }

  /**
   * Events from `seq` on, starting at a byte offset remembered earlier (a snapshot's). The offset is
   * checked: when it does not point at event `seq`, the index is used instead.
   */
  *iterateFromOffset(offset: number, seq: number): Generator<AgentEvent> {
    this.assertOpen();
    if (seq < this.durableNext && this.seqAt(offset) === seq) {
      yield* this.scanFrom(offset, seq, this.durableNext);
      for (const p of this.pending) yield p.event;
    } else {
      yield* this.iterate(seq);
    }
  }

  /** Byte offset where event `seq` starts (endOffset for seq === durableCount), or undefined. */
  offsetOf(seq: number): number | undefined {
    if (seq === this.durableNext) return this.size;
    if (seq < 0 || seq > this.durableNext) return undefined;
    const anchor = this.index.floor(seq);
    for (const line of scanLines(this.fd, anchor?.offset ?? this.headerEnd, this.size)) {
      const s = parseSeq(line.bytes);
      if (s === seq) return line.offset;
      if (s !== undefined && s > seq) return undefined;
    }
    return undefined;
  }

  /** Seq of the event whose line starts at `offset`, if a valid line starts there. */
  seqAt(offset: number): number | undefined {
    if (offset < this.headerEnd || offset >= this.size) return undefined;
    if (offset > this.headerEnd) {
      const prev = Buffer.alloc(1);
      readSync(this.fd, prev, 0, 1, offset - 1);
      if (prev[0] !== 10) return undefined;
    }
    const head = Buffer.alloc(32);
    const n = readSync(this.fd, head, 0, 32, offset);
    return parseSeq(head.subarray(0, n));
  }

  /** Read mode: pick up events another process appended since; returns the new count. */
  refresh(): number {
    this.assertOpen();
    if (this.mode === 'write') return this.count;
    this.scanTail(this.size, this.durableNext, false);
    return this.count;
  }

  /** Flush (unless `flush: false`, which drops queued events) and close. Idempotent. */
  close(opts: { flush?: boolean } = {}): void {
    if (this.closed) return;
    try {
      if (this.mode === 'write' && opts.flush !== false && this.pending.length > 0) this.flush();
    } finally {
      this.pending = [];
      this.closed = true;
      this.index.close();
      closeSync(this.fd);
    }
  }

  // --- internals ---

  private *scanFrom(offset: number, from: number, to: number): Generator<AgentEvent> {
    for (const line of scanLines(this.fd, offset, this.size)) {
      const seq = parseSeq(line.bytes);
      if (seq === undefined || seq < from) continue;
      if (seq >= to) return;
      let event: AgentEvent;
      try {
        event = JSON.parse(line.bytes.toString('utf8')) as AgentEvent;
      } catch {
        continue; // a corrupt line in the middle was already reported at open
      }
      yield event;
    }
  }

  /** Find the valid end of the log from the last trustworthy index entry; repair a torn tail. */
  private recover(): void {
    let start = { seq: 0, offset: this.headerEnd };
    this.size = fstatSync(this.fd).size; // let seqAt look at the whole file while validating
    for (let i = this.index.entries - 1; i >= 0; i--) {
      const seq = i * this.index.stride;
      const offset = this.index.offsetOf(seq)!;
      if (this.seqAt(offset) === seq) {
        start = { seq, offset };
        break;
      }
      this.index.truncate(i);
    }
    this.size = start.offset;
    this.scanTail(start.offset, start.seq, this.mode === 'write');
  }

  /** Scan from `offset` to EOF, accepting complete valid lines; in write mode cut off a torn tail. */
  private scanTail(offset: number, seq: number, repair: boolean): void {
    const fileSize = fstatSync(this.fd).size;
    let expected = seq;
    let validEnd = offset;
    let bad: { offset: number; length: number; complete: boolean } | undefined;
    for (const line of scanLines(this.fd, offset, fileSize)) {
      const event = line.complete ? parseEvent(line.bytes) : undefined;
      if (!event) {
        bad ??= { offset: line.offset, length: 0, complete: line.complete };
        continue;
      }
      if (bad) {
        this.warn(
          `${this.path}: skipped a corrupt line at byte ${bad.offset}; the events after it are intact.`,
        );
        bad = undefined;
      }
      if (event.seq < expected) {
        this.warn(`${this.path}: skipped a duplicate of event ${event.seq} at byte ${line.offset}.`);
        validEnd = line.offset + line.length;
        continue;
      }
      if (event.seq > expected) {
        this.warn(`${this.path}: events ${expected}..${event.seq - 1} are missing (byte ${line.offset}).`);
      }
      this.index.note(event.seq, line.offset);
      expected = event.seq + 1;
      validEnd = line.offset + line.length;
    }
    if (bad) {
      const dropped = fileSize - validEnd;
      if (repair) {
        this.warn(
          `${this.path}: dropped a torn last line (${dropped} bytes at byte ${validEnd}, a crash mid-write); every event before it is intact.`,
        );
        ftruncateSync(this.fd, validEnd);
        fdatasyncSync(this.fd);
      } else if (bad.complete) {
        this.warn(`${this.path}: ignoring an unreadable last line at byte ${validEnd}.`);
      }
    }
    this.index.truncateAtOffset(validEnd);
    this.size = validEnd;
    this.durableNext = expected;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`EventLog for ${this.dir} is closed.`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.mode !== 'write') throw new Error(`EventLog for ${this.dir} was opened read-only.`);
  }
}

function parseSeq(bytes: Buffer): number | undefined {
  const m = SEQ_PREFIX.exec(bytes.subarray(0, 32).toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

function parseEvent(bytes: Buffer): AgentEvent | undefined {
  try {
    const v = JSON.parse(bytes.toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null) return undefined;
    const e = v as AgentEvent;
    return typeof e.seq === 'number' && typeof e.type === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

function openLog(path: string, writable: boolean): number {
  try {
    return openSync(path, writable ? 'r+' : 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new Error(`No session event log at ${path}.`);
    throw err;
  }
}

function readFirstLine(fd: number): { value: unknown; end: number } {
  const size = fstatSync(fd).size;
  for (const line of scanLines(fd, 0, size)) {
    if (!line.complete) return { value: undefined, end: 0 };
    try {
      return { value: JSON.parse(line.bytes.toString('utf8')), end: line.length };
    } catch {
      return { value: undefined, end: 0 };
    }
  }
  return { value: undefined, end: 0 };
}

/** The header is created atomically so a crash during creation never leaves a headerless log. */
function createIfMissing(
  path: string,
  sessionId: string,
  first: AgentEventBody | undefined,
  now: () => number,
): void {
  try {
    closeSync(openSync(path, 'r'));
    return;
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const t = now();
  const header: EventsHeader = {
    klong: 'events',
    schemaVersion: EVENTS_SCHEMA_VERSION,
    sessionId,
    createdAt: t,
  };
  const lines = [JSON.stringify(header)];
  if (first) lines.push(JSON.stringify({ seq: 0, ts: t, ...first }));
  writeFileAtomic(path, `${lines.join('\n')}\n`);
  fsyncDir(join(path, '..'));
}
