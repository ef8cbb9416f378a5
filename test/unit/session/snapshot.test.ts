import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  createSession,
  EventLog,
  loadSnapshot,
  openSession,
  readSnapshots,
  resumeSession,
  type SessionInit,
  writeSnapshot,
} from '../../../src/session';

const root = mkdtempSync(join(tmpdir(), 'klong-snap-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const init = (sessionId: string): SessionInit => ({
  sessionId,
  paperTitle: 'Attention Is All You Need',
  paperPath: '/p/attn.pdf',
  workspace: '/ws/attn',
  model: 'm',
  budgetMs: 1000,
});

/** A session with `steps` steps of 3 events; snapshot every `every` steps; state = {step}. */
function makeSession(steps: number, every: number): string {
  const id = `s${n++}`;
  const dir = join(root, id);
  const live = createSession(dir, init(id), { snapshotEvery: every });
  live.append({ type: 'status', status: 'running' });
  for (let step = 1; step <= steps; step++) {
    live.append({ type: 'model_request', step, window: 0, promptTokens: 1, messages: 1 });
    live.append({ type: 'tool_call', step, callId: `c${step}`, name: 'bash', args: '{}' });
    live.append({ type: 'checkpoint', step });
    live.endStep(() => ({ step }), { step });
  }
  live.close();
  return dir;
}

test('snapshots are written every N steps, the previous one kept; resume = snapshot + tail', () => {
  const dir = makeSession(23, 5);
  const cands = readSnapshots(dir);
  assert.deepEqual(
    cands.map((c) => [c.file, (c.snapshot?.state as { step: number } | undefined)?.step]),
    [
      ['snapshot.json', 20],
      ['snapshot.prev.json', 15],
    ],
  );
  const opened = openSession(dir);
  assert.equal(opened.count, 2 + 23 * 3);
  assert.deepEqual(opened.snapshot?.state, { step: 20 });
  assert.deepEqual(opened.snapshot?.meta, { step: 20 });
  assert.equal(opened.snapshot?.seq, 1 + 20 * 3);
  assert.deepEqual(
    opened.tail.map((e) => e.seq),
    Array.from({ length: 9 }, (_, i) => 62 + i),
    'the tail is exactly the events after the snapshot',
  );
  assert.equal(opened.summary.steps, 23);
  assert.equal(opened.summary.paperTitle, 'Attention Is All You Need');
  assert.deepEqual(opened.warnings, []);
});

test('a corrupt snapshot falls back to the previous one; both corrupt falls back to a full replay', () => {
  const dir = makeSession(12, 5);
  writeFileSync(join(dir, 'snapshot.json'), '{"schemaVersion":1,"seq":3'); // torn
  let opened = openSession(dir);
  assert.deepEqual(opened.snapshot?.state, { step: 5 });
  assert.match(opened.warnings.join('\n'), /snapshot\.json is unreadable/);
  assert.equal(opened.tail[0]?.seq, opened.snapshot!.seq + 1);
  assert.equal(opened.tail.at(-1)?.seq, opened.count - 1);
  writeFileSync(join(dir, 'snapshot.prev.json'), 'not json at all');
  opened = openSession(dir);
  assert.equal(opened.snapshot, undefined);
  assert.equal(opened.tail.length, opened.count, 'full replay');
  assert.equal(opened.summary.steps, 12, 'the summary is rebuilt from the events');
});

test('a snapshot ahead of the log (events lost) is not trusted', () => {
  const dir = makeSession(10, 5);
  const snap = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  snap.seq = 10_000;
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snap));
  const opened = openSession(dir);
  assert.match(opened.warnings.join('\n'), /ahead of the event log/);
  assert.deepEqual(opened.snapshot?.state, { step: 5 });
});

test('a wrong byte offset is re-located through the index', () => {
  const dir = makeSession(10, 5);
  const snap = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'));
  const goodOffset = snap.offset;
  snap.offset = 17;
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(snap));
  const log = EventLog.open(dir);
  const s = loadSnapshot(dir, log);
  log.close();
  assert.equal(s?.offset, goodOffset);
  assert.equal(s?.seq, snap.seq);
});

test('a crash between the two renames leaves the fsynced temp snapshot, which is used', () => {
  const dir = makeSession(10, 5);
  // State after: tmp written+fsynced, snapshot.json rotated to prev, crash before tmp -> snapshot.json.
  renameSync(join(dir, 'snapshot.json'), join(dir, '.snapshot.json.tmp'));
  const opened = openSession(dir);
  assert.deepEqual(opened.snapshot?.state, { step: 10 });
  // A torn temp file is ignored silently (it was never the current snapshot).
  writeFileSync(join(dir, '.snapshot.json.tmp'), '{"sch');
  const again = openSession(dir);
  assert.deepEqual(again.snapshot?.state, { step: 5 });
  // The next snapshot write replaces the leftovers.
  const live = resumeSession(dir);
  live.snapshotNow({ step: 99 });
  live.close();
  assert.equal(existsSync(join(dir, '.snapshot.json.tmp')), false);
  assert.deepEqual(openSession(dir).snapshot?.state, { step: 99 });
});

test('a v0 snapshot fixture is migrated (lastSeq/context/info, no offset)', () => {
  const dir = makeSession(6, 100);
  assert.equal(existsSync(join(dir, 'snapshot.json')), false);
  const v0 = { version: 0, lastSeq: 7, context: { messages: ['m1', 'm2'] }, info: { activeMs: 42 } };
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify(v0));
  const opened = openSession(dir);
  assert.equal(opened.snapshot?.schemaVersion, 1);
  assert.equal(opened.snapshot?.seq, 7);
  assert.deepEqual(opened.snapshot?.state, { messages: ['m1', 'm2'] });
  assert.deepEqual(opened.snapshot?.meta, { activeMs: 42 });
  assert.ok((opened.snapshot?.offset ?? -1) > 0, 'offset located from the log');
  assert.equal(opened.tail[0]?.seq, 8);
  assert.equal(opened.summary.paperTitle, 'Attention Is All You Need', 'summary folded from all events once');
  // A future snapshot version is refused (falls back), with a message that says to update.
  writeFileSync(join(dir, 'snapshot.json'), JSON.stringify({ schemaVersion: 7, seq: 1, state: {} }));
  const f = openSession(dir);
  assert.match(f.warnings.join('\n'), /newer than this KLong supports/);
});

test('writeSnapshot on its own: atomic replace, rotation, meta and summary optional', () => {
  const dir = join(root, 'raw');
  mkdirSync(dir);
  writeSnapshot(dir, { sessionId: 'raw', seq: 0, offset: 10, state: [1] });
  writeSnapshot(dir, { sessionId: 'raw', seq: 1, offset: 20, state: [1, 2], meta: { a: 1 } });
  const c = readSnapshots(dir);
  assert.deepEqual(
    c.map((x) => [x.file, x.snapshot?.state, x.snapshot?.meta]),
    [
      ['snapshot.json', [1, 2], { a: 1 }],
      ['snapshot.prev.json', [1], {}],
    ],
  );
});

test('a snapshot that cannot be written is a warning, not a crash: the log is intact and the next step retries', () => {
  const id = `s${n++}`;
  const dir = join(root, id);
  const warnings: string[] = [];
  const live = createSession(dir, init(id), { snapshotEvery: 1, onWarning: (m) => warnings.push(m) });
  mkdirSync(join(dir, '.snapshot.json.tmp')); // the temp path is taken: the write fails
  live.append({ type: 'checkpoint', step: 1 });
  assert.equal(
    live.endStep(() => ({ step: 1 })),
    false,
  );
  assert.match(warnings.join('\n'), /Could not write the snapshot of session .*the event log is intact/);
  rmSync(join(dir, '.snapshot.json.tmp'), { recursive: true });
  live.append({ type: 'checkpoint', step: 2 });
  assert.equal(
    live.endStep(() => ({ step: 2 })),
    true,
  );
  live.close();
  const opened = openSession(dir);
  assert.deepEqual(opened.snapshot?.state, { step: 2 });
  assert.equal(opened.count, 3);
});
