import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { SessionLockedError, SessionStore } from '../../../src/session';

const base = mkdtempSync(join(tmpdir(), 'klong-store-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newRoot = () => join(base, `r${n++}`);

const paper = (title: string) => ({
  paperTitle: title,
  paperPath: `/papers/${title}.pdf`,
  workspace: `/ws/${title}`,
  model: 'gpt-test',
  budgetMs: 3_600_000,
});

test('create, run steps, list with summary, get, open, resume continues the same log', () => {
  const root = newRoot();
  let t = 1_000_000;
  const store = new SessionStore(root, { snapshotEvery: 2, now: () => t });
  const live = store.create({ ...paper('Adam'), sessionId: 'adam-1' });
  live.append({ type: 'status', status: 'running' });
  for (let step = 1; step <= 5; step++) {
    t += 60_000;
    live.append({ type: 'model_request', step, window: 0, promptTokens: 10, messages: 2 });
    live.append({
      type: 'model_response',
      step,
      message: { role: 'assistant', content: 'ok' },
      usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 5 },
      costUsd: 0.25,
    });
    live.endStep(() => ({ step }));
  }
  live.append({ type: 'grade', score: 0.42 });
  live.flush();

  const listed = store.list();
  assert.equal(listed.length, 1);
  const s = listed[0]!;
  assert.equal(s.id, 'adam-1');
  assert.equal(s.paperTitle, 'Adam');
  assert.equal(s.workspace, '/ws/Adam');
  assert.equal(s.status, 'running');
  assert.equal(s.steps, 5);
  assert.equal(s.lastScore, 0.42);
  assert.equal(s.costUsd, 1.25);
  assert.equal(s.activeMs, 5 * 60_000);
  assert.equal(s.lock, 'held');
  assert.equal(s.interrupted, false);
  assert.equal(store.get('adam-1')?.paperTitle, 'Adam');
  assert.equal(store.get('nope'), undefined);

  assert.throws(() => store.resume('adam-1'), SessionLockedError);
  assert.throws(() => store.delete('adam-1'), /open in another window/);
  live.close();

  const opened = store.open('adam-1');
  assert.deepEqual(opened.snapshot?.state, { step: 4 });
  assert.deepEqual(
    opened.tail.map((e) => e.type),
    ['model_request', 'model_response', 'grade'],
  );
  const again = store.resume('adam-1');
  assert.deepEqual(again.snapshot?.state, { step: 4 });
  assert.equal(again.summary.lastScore, 0.42);
  const e = again.append({ type: 'status', status: 'done' });
  assert.equal(e.seq, opened.count);
  again.close();
  assert.equal(store.get('adam-1')?.status, 'done');
});

test('a session whose driver died while running is listed as interrupted', () => {
  const root = newRoot();
  const store = new SessionStore(root);
  const live = store.create({ ...paper('BERT'), sessionId: 'bert' });
  live.append({ type: 'status', status: 'running' });
  live.flush();
  live.lock.release(); // as if the process had died: no status change, no lock
  const s = store.get('bert')!;
  assert.equal(s.status, 'running');
  assert.equal(s.interrupted, true);
  assert.equal(s.lock, 'free');
});

test('a status change is listed at once, before the step ends (other events wait for the step)', () => {
  const store = new SessionStore(newRoot());
  const live = store.create({ ...paper('Resumed'), sessionId: 'resumed' });
  try {
    live.append({ type: 'status', status: 'running' });
    assert.equal(store.get('resumed')!.status, 'running');
    live.append({ type: 'tool_call', step: 1, callId: 'c1', name: 'bash', args: '{}' });
    assert.equal(store.get('resumed')!.steps, 0, 'a tool call is durable only at the end of its step');
    live.append({ type: 'status', status: 'paused', reason: 'user' });
    const s = store.get('resumed')!;
    assert.equal(s.status, 'paused');
    assert.equal(s.lock, 'held');
  } finally {
    live.close();
  }
});

test('list() is cached on the log size; the cache is rebuilt from disk when missing or corrupt', () => {
  const root = newRoot();
  const store = new SessionStore(root);
  for (const title of ['A', 'B', 'C']) store.create({ ...paper(title), sessionId: title }).close();
  assert.equal(store.list().length, 3);
  const cache = JSON.parse(readFileSync(join(root, 'sessions.json'), 'utf8'));
  assert.deepEqual(Object.keys(cache.sessions).sort(), ['A', 'B', 'C']);
  // Events appended by another process show up (the log changed size).
  const b = store.resume('B');
  b.append({ type: 'grade', score: 0.9 });
  b.close();
  assert.equal(store.get('B')?.lastScore, 0.9);
  // Cache gone or garbage: rebuilt from the session directories.
  rmSync(join(root, 'sessions.json'));
  assert.deepEqual(
    store
      .list()
      .map((s) => s.id)
      .sort(),
    ['A', 'B', 'C'],
  );
  writeFileSync(join(root, 'sessions.json'), '{{{');
  assert.equal(store.get('B')?.lastScore, 0.9);
  // A directory removed behind our back drops out; summary.json missing is recomputed from events.
  rmSync(join(root, 'C'), { recursive: true });
  rmSync(join(root, 'A', 'summary.json'));
  const rebuilt = store.rebuildIndex();
  assert.deepEqual(rebuilt.map((s) => s.id).sort(), ['A', 'B']);
  assert.equal(rebuilt.find((s) => s.id === 'A')?.paperTitle, 'A');
});

test('delete removes the directory and the index entry', () => {
  const root = newRoot();
  const store = new SessionStore(root);
  store.create({ ...paper('X'), sessionId: 'x' }).close();
  store.delete('x');
  assert.equal(existsSync(join(root, 'x')), false);
  assert.deepEqual(store.list(), []);
  assert.deepEqual(
    readdirSync(root).filter((f) => f.startsWith('.deleted')),
    [],
  );
  assert.throws(() => store.delete('x'), /No session x/);
  assert.throws(() => store.dirOf('../etc'), /Invalid session id/);
});

test('a lock held by another live process blocks resume with its pid; after kill -9 it is taken over', async () => {
  const root = newRoot();
  const store = new SessionStore(root);
  store.create({ ...paper('Y'), sessionId: 'y' }).close();
  const script = `
    const { SessionLock } = require(${JSON.stringify(join(__dirname, '..', '..', '..', 'src', 'session', 'lock.ts'))});
    SessionLock.acquire(${JSON.stringify(join(root, 'y'))}, 'y', { label: 'other window' });
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (c) => reject(new Error(`child exited ${c}`)));
  });
  assert.throws(
    () => store.resume('y'),
    new RegExp(`Session y is open in another window \\(pid ${child.pid}, other window\\)`),
  );
  assert.equal(store.get('y')?.lock, 'held');
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  assert.equal(store.get('y')?.lock, 'stale');
  const warnings: string[] = [];
  const live = store.resume('y', { onWarning: (m) => warnings.push(m) });
  assert.match(warnings.join('\n'), new RegExp(`Took over the lock of session y from pid ${child.pid}`));
  live.close();
});

test('export writes a header line and every event in order as JSONL', () => {
  const root = newRoot();
  const store = new SessionStore(root);
  const live = store.create({ ...paper('Z'), sessionId: 'z' });
  for (let i = 0; i < 2500; i++) live.append({ type: 'user_message', text: `m${i}` });
  live.close();
  const out = join(root, 'z-trajectory.jsonl');
  const r = store.exportTrajectory('z', out);
  assert.equal(r.events, 2501);
  const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, 2502);
  const header = JSON.parse(lines[0]!);
  assert.equal(header.klong, 'trajectory');
  assert.equal(header.summary.paperTitle, 'Z');
  const evs = lines.slice(1).map((l) => JSON.parse(l));
  assert.deepEqual(
    evs.map((e) => e.seq),
    Array.from({ length: 2501 }, (_, i) => i),
  );
  assert.equal(evs[0].type, 'session_started');
  assert.equal(evs[2500].text, 'm2499');
  assert.equal(r.bytes, readFileSync(out).length);
});
