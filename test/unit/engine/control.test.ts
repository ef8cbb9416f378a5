/**
 * The control channel's live messages on a real Unix socket: a client that reads gets them in
 * order; a client that stalls is skipped (the engine does not queue output for it without end) but
 * still gets the command's last update once it reads again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { LiveMessage } from '../../../src/agent/live';
import { ControlClient, ControlServer } from '../../../src/engine/control';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const handlers = {
  status: () => ({
    sessionId: 's',
    pid: process.pid,
    state: 'running' as const,
    step: 1,
    activeMs: 0,
    budgetMs: 1,
    queuedMessages: 0,
  }),
  pause: () => undefined,
  resume: () => undefined,
  stop: () => undefined,
  say: () => undefined,
};

test('live messages: a reading client gets them in order; a stalled one is skipped, then gets the last update', {
  skip: process.platform === 'win32' ? 'Unix sockets' : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-live-ctl-'));
  dirs.push(dir);
  const server = await ControlServer.listen(dir, handlers);
  try {
    const reader = await ControlClient.connect(dir);
    assert.ok(reader);
    const got: LiveMessage[] = [];
    reader.onLive((m) => got.push(m));
    // A client that connects and never reads (a stopped `klong attach`).
    const stalled = createConnection(server.address);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.pause();
    let stalledBytes = 0;
    stalled.on('data', (b: Buffer) => {
      stalledBytes += b.length;
    });
    await new Promise((r) => setTimeout(r, 50)); // both connections accepted
    assert.equal(server.clientCount, 2);

    const tail = 'x'.repeat(60_000);
    const N = 200; // 12 MB of updates in all
    for (let i = 0; i < N; i++) {
      const done = i === N - 1;
      server.live({ kind: 'output', callId: 'c', step: 1, text: `${tail}${i}`, start: 0, end: i, done });
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise<void>((resolve) => {
      const check = () =>
        got.at(-1)?.kind === 'output' && (got.at(-1) as { done: boolean }).done
          ? resolve()
          : setTimeout(check, 20);
      check();
    });
    const ends = got.map((m) => (m.kind === 'output' ? m.end : -1));
    assert.deepEqual(
      ends,
      [...ends].sort((a, b) => a - b),
      'in order',
    );
    assert.equal(ends.at(-1), N - 1);

    stalled.resume();
    const lastMarker = `${tail}${N - 1}`;
    let text = '';
    stalled.on('data', (b: Buffer) => {
      text = (text + b.toString('latin1')).slice(-200_000);
    });
    await new Promise<void>((resolve) => {
      const check = () => (text.includes(`"text":"${lastMarker}"`) ? resolve() : setTimeout(check, 20));
      check();
    });
    assert.ok(
      stalledBytes < (N * tail.length) / 4,
      `the stalled client was sent ${(stalledBytes / 1e6).toFixed(1)} MB of ${((N * tail.length) / 1e6).toFixed(1)} MB`,
    );
    stalled.destroy();
    reader.dispose();
  } finally {
    await server.close();
  }
});

test('events: a client stalled for long is dropped once it is 32 MB behind; a reading client gets every event', {
  skip: process.platform === 'win32' ? 'Unix sockets' : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-behind-ctl-'));
  dirs.push(dir);
  const server = await ControlServer.listen(dir, handlers);
  try {
    const reader = await ControlClient.connect(dir);
    assert.ok(reader);
    const seqs: number[] = [];
    reader.onEvent((e) => seqs.push(e.seq));
    const stalled = createConnection(server.address);
    await new Promise<void>((r) => stalled.once('connect', () => r()));
    stalled.pause();
    let closed = false;
    stalled.on('close', () => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(server.clientCount, 2);

    const output = 'y'.repeat(100_000);
    const N = 400; // 40 MB of events
    for (let seq = 1; seq <= N; seq++) {
      server.event({ type: 'tool_result', seq, ts: seq, step: 1, callId: 'c', output } as never);
      // A client that reads keeps up (here it shares the engine's process, so it is given the time).
      if (seq % 20 === 0)
        await new Promise<void>((resolve) => {
          const check = () => (seqs.length >= seq ? resolve() : setTimeout(check, 5));
          check();
        });
    }
    await new Promise<void>((resolve) => {
      const check = () => (seqs.length >= N ? resolve() : setTimeout(check, 20));
      check();
    });
    assert.deepEqual(
      seqs,
      Array.from({ length: N }, (_, i) => i + 1),
      'the reading client got every event in order',
    );
    assert.equal(server.clientCount, 1, 'the stalled client was dropped');
    stalled.resume(); // it sees the connection end (and `klong attach` says it detached)
    await new Promise<void>((resolve) => {
      const check = () => (closed ? resolve() : setTimeout(check, 20));
      check();
    });
    reader.dispose();
  } finally {
    await server.close();
  }
});
