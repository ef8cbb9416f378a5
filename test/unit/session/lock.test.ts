import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { inspectLock, SessionLock, SessionLockedError } from '../../../src/session';

const root = mkdtempSync(join(tmpdir(), 'klong-lock-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function dir(): string {
  const d = join(root, `l${n++}`);
  mkdirSync(d);
  return d;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

function writeLock(d: string, owner: Record<string, unknown>, ageMs = 0): void {
  const p = join(d, 'session.lock');
  writeFileSync(p, JSON.stringify({ token: 't', label: '', acquiredAt: 0, ...owner }));
  const t = new Date(Date.now() - ageMs);
  utimesSync(p, t, t);
}

test('acquire writes pid + hostname; a second acquire names the live owner; release frees it', () => {
  const d = dir();
  const lock = SessionLock.acquire(d, 'S1', { label: 'window A' });
  const onDisk = JSON.parse(readFileSync(join(d, 'session.lock'), 'utf8'));
  assert.equal(onDisk.pid, process.pid);
  assert.equal(onDisk.hostname, hostname());
  assert.equal(typeof onDisk.heartbeat, 'number');
  assert.throws(
    () => SessionLock.acquire(d, 'S1'),
    (err: unknown) =>
      err instanceof SessionLockedError &&
      err.message === `Session S1 is open in another window (pid ${process.pid}, window A).` &&
      err.owner.pid === process.pid,
  );
  assert.equal(lock.isHeld(), true);
  lock.release();
  assert.equal(inspectLock(d).state, 'free');
  const again = SessionLock.acquire(d, 'S1');
  again.release();
});

test('a lock left by a dead pid on this host is taken over at once', () => {
  const d = dir();
  const pid = deadPid();
  writeLock(d, { pid, hostname: hostname(), heartbeat: Date.now() });
  assert.equal(inspectLock(d).state, 'stale');
  // Leftovers of processes killed mid-acquire are cleaned up once old.
  const old = new Date(Date.now() - 120_000);
  for (const f of ['session.lock.stale-1-1', 'session.lock.abc.tmp']) {
    writeFileSync(join(d, f), '{}');
    utimesSync(join(d, f), old, old);
  }
  const lock = SessionLock.acquire(d, 'S2');
  assert.deepEqual(readdirSync(d), ['session.lock']);
  assert.equal(lock.tookOverFrom?.pid, pid);
  assert.equal(lock.isHeld(), true);
  lock.release();
});

test('another host: a fresh heartbeat blocks, a stale one is taken over', () => {
  const d = dir();
  writeLock(d, { pid: 1, hostname: 'other-host', heartbeat: Date.now() });
  assert.throws(() => SessionLock.acquire(d, 'S3'), /open in another window \(pid 1 on other-host\)/);
  writeLock(d, { pid: 1, hostname: 'other-host', heartbeat: Date.now() - 120_000 }, 120_000);
  const st = inspectLock(d);
  assert.equal(st.state, 'stale');
  assert.match(st.state === 'stale' ? st.why : '', /no heartbeat for 1\d\d s/);
  const lock = SessionLock.acquire(d, 'S3');
  assert.equal(lock.tookOverFrom?.hostname, 'other-host');
  lock.release();
});

test('an unreadable lock file is respected briefly, then treated as stale', () => {
  const d = dir();
  writeFileSync(join(d, 'session.lock'), '');
  assert.throws(() => SessionLock.acquire(d, 'S4'), SessionLockedError);
  const old = new Date(Date.now() - 10_000);
  utimesSync(join(d, 'session.lock'), old, old);
  const lock = SessionLock.acquire(d, 'S4');
  lock.release();
});

test('the heartbeat touches the lock; an owner whose lock was taken over learns it', async () => {
  const d = dir();
  let lostTo: unknown = 'not called';
  const lock = SessionLock.acquire(d, 'S5', { heartbeatMs: 20, onLost: (by) => (lostTo = by) });
  const old = new Date(Date.now() - 60_000);
  utimesSync(join(d, 'session.lock'), old, old);
  await new Promise((r) => setTimeout(r, 80));
  assert.ok(Date.now() - statSync(join(d, 'session.lock')).mtimeMs < 10_000, 'heartbeat refreshed mtime');
  // Someone else takes it (as after a long freeze of this process).
  writeLock(d, { pid: 4242, hostname: 'other-host', heartbeat: Date.now(), token: 'theirs' });
  await new Promise((r) => setTimeout(r, 80));
  assert.equal((lostTo as { token: string }).token, 'theirs');
  assert.equal(lock.isHeld(), false);
  lock.release(); // must not delete their lock
  assert.equal(JSON.parse(readFileSync(join(d, 'session.lock'), 'utf8')).token, 'theirs');
});

test('a LiveSession whose lock was taken over stops writing instead of becoming a second writer', async () => {
  const { createSession, EventLog } = await import('../../../src/session');
  const d = join(root, 'live-lost');
  const live = createSession(
    d,
    { sessionId: 'live-lost', paperTitle: 'P', paperPath: '/p', workspace: '/w', model: 'm', budgetMs: 1 },
    { lock: { heartbeatMs: 20 } },
  );
  live.append({ type: 'status', status: 'running' });
  live.flush();
  writeLock(d, {
    pid: 4243,
    hostname: 'other-host',
    heartbeat: Date.now(),
    token: 'new-owner',
    label: 'window B',
  });
  await new Promise((r) => setTimeout(r, 80));
  assert.throws(
    () => live.append({ type: 'status', status: 'paused' }),
    /Session live-lost was taken over by another process \(pid 4243, window B\)/,
  );
  live.close();
  const log = EventLog.open(d);
  assert.equal(log.count, 2, 'nothing written after the takeover');
  log.close();
  assert.equal(JSON.parse(readFileSync(join(d, 'session.lock'), 'utf8')).token, 'new-owner');
});

test('a lock held by a zombie (a killed engine its parent has not reaped yet) is stale', {
  skip: process.platform !== 'linux' ? '/proc' : false,
}, async () => {
  // `sleep 0` becomes a child of the exec'd `sleep 60`, which never reaps it: a zombie for a minute.
  const { spawn } = await import('node:child_process');
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  try {
    const pid = Number(
      await new Promise<string>((resolve) => parent.stdout!.once('data', (b: Buffer) => resolve(String(b)))),
    );
    for (let i = 0; i < 1000 && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.match(readFileSync(`/proc/${pid}/stat`, 'utf8'), /\) Z /, 'the child is a zombie');
    const d = dir();
    writeLock(d, { pid, hostname: hostname(), heartbeat: Date.now() });
    const info = inspectLock(d);
    assert.equal(info.state, 'stale');
    assert.match(info.state === 'stale' ? info.why : '', new RegExp(`pid ${pid} is not running`));
    SessionLock.acquire(d, 'S-zombie').release(); // taken over
  } finally {
    parent.kill('SIGKILL');
  }
});
