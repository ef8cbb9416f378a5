import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { AgentEventBody } from '../../../src/events/events';
import { EventLog, type EventLogOptions } from '../../../src/session';

const root = mkdtempSync(join(tmpdir(), 'klong-evlog-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(root, `s${n++}`);

function writer(dir: string, extra: Partial<EventLogOptions> = {}, warnings: string[] = []): EventLog {
  return EventLog.open(dir, {
    mode: 'write',
    create: { sessionId: 'sess' },
    onWarning: (m) => warnings.push(m),
    ...extra,
  });
}

const body = (i: number, size = 10): AgentEventBody => ({
  type: 'tool_result',
  step: i,
  callId: `c${i}`,
  name: 'bash',
  ok: true,
  output: `out-${i}-${'x'.repeat(size)}`,
  durationMs: i,
});

function fill(dir: string, count: number, opts: Partial<EventLogOptions> = {}, size = 10): void {
  const { mkdirSync } = require('node:fs') as typeof import('node:fs');
  mkdirSync(dir, { recursive: true });
  const log = writer(dir, opts);
  for (let i = 0; i < count; i++) log.append(body(i, size));
  log.close();
}

function lines(dir: string): string[] {
  return readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
}

test('append assigns seq and ts, flush makes events durable, a reopen sees them all', () => {
  const dir = newDir();
  fill(dir, 0);
  let t = 1000;
  const log = writer(dir, { now: () => t++ });
  const a = log.append({ type: 'status', status: 'running' });
  const b = log.append(body(1));
  assert.deepEqual([a.seq, b.seq, b.ts - a.ts], [0, 1, 1]);
  assert.equal(log.count, 2);
  assert.equal(log.durableCount, 0, 'durability step: nothing written before flush');
  const reader = EventLog.open(dir);
  assert.equal(reader.count, 0);
  log.flush();
  assert.equal(reader.refresh(), 2, 'a reader picks up flushed events');
  assert.deepEqual(reader.read(0, 2), [a, b]);
  reader.close();
  log.close();
  const again = EventLog.open(dir);
  assert.equal(again.count, 2);
  assert.equal(again.header.schemaVersion, 1);
  assert.equal(again.header.sessionId, 'sess');
  again.close();
  assert.equal(lines(dir).filter(Boolean).length, 3, 'header line + 2 events');
});

test('durability "event" writes each append at once', () => {
  const dir = newDir();
  fill(dir, 0);
  const log = writer(dir, { durability: 'event' });
  log.append(body(0));
  const reader = EventLog.open(dir);
  assert.equal(reader.count, 1);
  reader.close();
  log.close();
});

test('read(from, to) pages through the log, including lines larger than the read chunk', () => {
  const dir = newDir();
  fill(dir, 300, { indexStride: 8 });
  // One event of 3 MB spans several 1 MB read chunks.
  const log = writer(dir, { indexStride: 8 });
  log.append(body(300, 3_000_000));
  for (let i = 301; i < 310; i++) log.append(body(i));
  log.close();
  const r = EventLog.open(dir, { indexStride: 8 });
  assert.equal(r.count, 310);
  for (const [from, to] of [
    [0, 5],
    [7, 9],
    [8, 17],
    [123, 200],
    [295, 310],
    [300, 301],
    [305, 1000],
  ] as const) {
    const got = r.read(from, to);
    const end = Math.min(to, 310);
    assert.deepEqual(
      got.map((e) => e.seq),
      Array.from({ length: end - from }, (_, k) => from + k),
      `read(${from}, ${to})`,
    );
    for (const e of got) assert.equal((e as { output: string }).output.startsWith(`out-${e.seq}-`), true);
  }
  assert.equal((r.read(300, 301)[0] as { output: string }).output.length, 3_000_000 + 'out-300-'.length);
  assert.deepEqual(r.read(5, 5), []);
  assert.deepEqual(r.read(400, 500), []);
  r.close();
});

test('unflushed events are readable from the writer', () => {
  const dir = newDir();
  fill(dir, 3);
  const log = writer(dir);
  log.append(body(3));
  assert.deepEqual(
    log.read(1).map((e) => e.seq),
    [1, 2, 3],
  );
  log.close();
});

test('a torn last line is dropped with a warning, truncated before the next append, nothing before it lost', () => {
  const dir = newDir();
  fill(dir, 50, { indexStride: 4 });
  const before = readFileSync(join(dir, 'events.jsonl'));
  appendFileSync(join(dir, 'events.jsonl'), '{"seq":50,"ts":1,"type":"tool_res');
  // A reader leaves the file alone (the tail may be a write in progress).
  const r = EventLog.open(dir, { indexStride: 4 });
  assert.equal(r.count, 50);
  r.close();
  assert.ok(readFileSync(join(dir, 'events.jsonl')).length > before.length);
  const warnings: string[] = [];
  const log = writer(dir, { indexStride: 4 }, warnings);
  assert.equal(log.count, 50);
  assert.match(warnings.join('\n'), /dropped a torn last line/);
  assert.deepEqual(
    readFileSync(join(dir, 'events.jsonl')),
    before,
    'the file is cut back to the last full line',
  );
  log.append(body(50));
  log.close();
  const all = lines(dir).filter(Boolean);
  assert.equal(all.length, 52);
  for (const l of all) JSON.parse(l);
  const r2 = EventLog.open(dir, { indexStride: 4 });
  assert.deepEqual(
    r2.read(0).map((e) => e.seq),
    Array.from({ length: 51 }, (_, i) => i),
  );
  r2.close();
});

test('trailing NUL bytes (lost page after power loss) count as a torn tail', () => {
  const dir = newDir();
  fill(dir, 5);
  appendFileSync(join(dir, 'events.jsonl'), Buffer.alloc(4096));
  const warnings: string[] = [];
  const log = writer(dir, {}, warnings);
  assert.equal(log.count, 5);
  assert.equal(warnings.length, 1);
  log.close();
});

test('a corrupt line in the middle is skipped with a warning; the events after it stay readable', () => {
  const dir = newDir();
  fill(dir, 10);
  const ls = lines(dir);
  ls[4] = '{"seq":3,"ts":1,"type":"tool_result","garbage';
  writeFileSync(join(dir, 'events.jsonl'), ls.join('\n'));
  rmSync(join(dir, 'events.idx'));
  const warnings: string[] = [];
  const log = writer(dir, {}, warnings);
  assert.match(warnings.join('\n'), /skipped a corrupt line/);
  assert.equal(log.count, 10);
  assert.deepEqual(
    log.read(0).map((e) => e.seq),
    [0, 1, 2, 4, 5, 6, 7, 8, 9],
  );
  log.close();
});

test('a missing, corrupt or lying offset index is rebuilt and reads stay correct', () => {
  const dir = newDir();
  fill(dir, 200, { indexStride: 16 });
  const check = () => {
    const r = EventLog.open(dir, { indexStride: 16, mode: 'write' });
    assert.equal(r.count, 200);
    assert.deepEqual(
      r.read(100, 103).map((e) => e.seq),
      [100, 101, 102],
    );
    assert.deepEqual(
      r.read(190, 200).map((e) => e.seq),
      [190, 191, 192, 193, 194, 195, 196, 197, 198, 199],
    );
    r.close();
  };
  rmSync(join(dir, 'events.idx'));
  check();
  assert.ok(existsSync(join(dir, 'events.idx')));
  writeFileSync(join(dir, 'events.idx'), 'garbage that is not an index');
  check();
  // Valid header, wrong offsets: entries are checked against the log and dropped.
  const idx = readFileSync(join(dir, 'events.idx'));
  for (let off = 16; off + 8 <= idx.length; off += 8) idx.writeDoubleLE(12345 + off, off);
  writeFileSync(join(dir, 'events.idx'), idx);
  check();
  // Index longer than the log (log truncated by hand).
  const full = readFileSync(join(dir, 'events.jsonl'));
  const cut = lines(dir).slice(0, 151).join('\n').length + 1;
  truncateSync(join(dir, 'events.jsonl'), cut);
  const r = EventLog.open(dir, { indexStride: 16 });
  assert.equal(r.count, 150);
  assert.deepEqual(
    r.read(140, 200).map((e) => e.seq),
    Array.from({ length: 10 }, (_, i) => 140 + i),
  );
  r.close();
  writeFileSync(join(dir, 'events.jsonl'), full);
});

test('read-only logs refuse appends; a missing log and a newer schema give clear errors', () => {
  const dir = newDir();
  fill(dir, 1);
  const r = EventLog.open(dir);
  assert.throws(() => r.append(body(1)), /opened read-only/);
  r.close();
  assert.throws(() => EventLog.open(join(root, 'nope')), /No session event log at .*events\.jsonl/);
  const future = newDir();
  fill(future, 0);
  writeFileSync(
    join(future, 'events.jsonl'),
    `${JSON.stringify({ klong: 'events', schemaVersion: 99, sessionId: 'x', createdAt: 0 })}\n`,
  );
  assert.throws(() => EventLog.open(future), /newer KLong \(events schema 99 > 1\); update KLong/);
});

test('a v0 log (no header, {time, event} lines) is migrated on open, the original kept as a backup', () => {
  const dir = newDir();
  const { mkdirSync } = require('node:fs') as typeof import('node:fs');
  mkdirSync(dir);
  const v0 = [
    { time: '2026-01-01T00:00:00.000Z', event: { type: 'status', status: 'running' } },
    { time: '2026-01-01T00:00:01.000Z', event: { type: 'user_message', text: 'hi' } },
    { time: '2026-01-01T00:00:02.000Z', event: { type: 'grade', score: 0.5 } },
  ];
  const text = `${v0.map((l) => JSON.stringify(l)).join('\n')}\n`;
  writeFileSync(join(dir, 'events.jsonl'), text);
  const warnings: string[] = [];
  const log = EventLog.open(dir, { mode: 'write', onWarning: (m) => warnings.push(m) });
  assert.match(warnings.join('\n'), /Upgraded events\.jsonl from schema 0 to 1 \(3 events\)/);
  assert.equal(log.header.schemaVersion, 1);
  assert.equal(log.count, 3);
  const evs = log.read(0);
  assert.deepEqual(evs[1], {
    seq: 1,
    ts: Date.parse('2026-01-01T00:00:01.000Z'),
    type: 'user_message',
    text: 'hi',
  });
  const next = log.append({ type: 'status', status: 'paused' });
  assert.equal(next.seq, 3);
  log.close();
  assert.equal(readFileSync(join(dir, 'events.jsonl.v0.bak'), 'utf8'), text);
  assert.equal(EventLog.open(dir).count, 4);
});
