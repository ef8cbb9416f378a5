/**
 * Following an engine-driven session (src/ui/model/engine-link.ts, no `vscode` in it) over a real control
 * channel (engine/control.ts, a Unix socket) and a real session folder: the log on disk, then the
 * engine's unflushed events, then live ones — each event once, in order, none missing; two clients see
 * the same events; a client that goes away disturbs neither the engine nor the other client.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type ControlHandlers, ControlServer } from '../../../../src/engine/control';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import { SessionStore } from '../../../../src/session';
import { EngineLink } from '../../../../src/ui/model/engine-link';

const root = mkdtempSync(join(tmpdir(), 'klong-link-'));
after(() => rmSync(root, { recursive: true, force: true }));

const bash = (i: number): AgentEventBody => ({
  type: 'tool_call',
  step: i,
  callId: `c${i}`,
  name: 'bash',
  args: `{"command":"echo ${i}"}`,
});

class Recorder {
  seqs: number[] = [];
  resets = 0;
  reset(): void {
    this.resets++;
    this.seqs = [];
  }
  applyAll(events: Iterable<AgentEvent>): void {
    for (const e of events) this.seqs.push(e.seq);
  }
}

async function until(what: string, check: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!check()) {
    assert.ok(Date.now() - t0 < 10_000, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a late client gets the log, the unflushed step and live events, each once; clients are independent', async () => {
  const store = new SessionStore(root);
  const live = store.create({
    sessionId: 'link-1',
    paperTitle: 'P',
    paperPath: 'p.md',
    workspace: '/w',
    model: 'm',
    budgetMs: 3600_000,
  });
  for (let i = 1; i <= 5; i++) live.append(bash(i));
  live.flush(); // on disk: session_started + 5
  for (let i = 6; i <= 8; i++) live.append(bash(i)); // the current step: only in the engine's memory
  assert.ok(live.log.durableCount < live.log.count, 'some events are not on disk yet');

  let server: ControlServer | undefined;
  const handlers: ControlHandlers = {
    status: () => ({
      sessionId: 'link-1',
      pid: process.pid,
      state: 'running',
      step: 8,
      activeMs: 0,
      budgetMs: 3600_000,
      queuedMessages: 0,
    }),
    pause: () => undefined,
    resume: () => undefined,
    stop: () => undefined,
    say: () => undefined,
    events: (from) => live.log.read(from),
  };
  server = await ControlServer.listen(live.dir, handlers);
  const emit = (body: AgentEventBody) => server?.event(live.append(body));

  const a = new Recorder();
  const b = new Recorder();
  const closed: string[] = [];
  const linkA = await EngineLink.follow(live.dir, a, { onClosed: () => closed.push('a') });
  const linkB = await EngineLink.follow(live.dir, b, { onClosed: (_l, ended) => closed.push(`b:${ended}`) });
  assert.ok(linkA && linkB);
  assert.equal(linkA.sessionId, 'link-1');
  const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.deepEqual(a.seqs, upTo(live.log.count), 'log + unflushed step, no gap');

  for (let i = 9; i <= 12; i++) emit(bash(i));
  // An event sent twice (a client subscribed while reading) is applied once.
  server.event(live.log.read(live.log.count - 1)[0]!);
  await until(
    'live events in both clients',
    () => a.seqs.length === live.log.count && b.seqs.length === live.log.count,
  );
  assert.deepEqual(a.seqs, upTo(live.log.count));
  assert.deepEqual(b.seqs, a.seqs, 'two clients see the same events');

  // One client goes away: the engine goes on and the other client follows.
  linkA.dispose();
  await until('the server to drop the client', () => server?.clientCount === 1);
  emit(bash(13));
  await until('the event in client b', () => b.seqs.length === live.log.count);
  assert.equal(a.seqs.length, live.log.count - 1, 'a stopped following');

  // The engine goes away without an end event: the client is told it was not an end.
  await server.close();
  server = undefined;
  await until('client b told', () => closed.includes('b:false'));
  assert.ok(!closed.includes('a'), 'a client that left is not told');
  live.close();
});

test('no engine answers: follow gives undefined', async () => {
  const store = new SessionStore(root);
  const live = store.create({
    sessionId: 'link-2',
    paperTitle: 'P',
    paperPath: 'p.md',
    workspace: '/w',
    model: 'm',
    budgetMs: 3600_000,
  });
  live.close();
  assert.equal(await EngineLink.follow(live.dir, new Recorder()), undefined);
});
