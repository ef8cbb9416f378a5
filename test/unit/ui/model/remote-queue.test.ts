/**
 * The review of an engine's proposals without Docker: the engine's end of the control channel
 * (cli/engine-control.ts) on a real Unix socket around a real EditQueue (a directory as the
 * sandbox, a directory as the user's workspace), and two windows' RemoteQueues as clients. A
 * decision in one shows in the other, by hunks; the approval mode switches over the channel and is
 * logged; bad requests get clear errors.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EngineControl } from '../../../../src/cli/engine-control';
import { EditQueue } from '../../../../src/edits/queue';
import { DirUserFiles } from '../../../../src/edits/user-files';
import { ControlClient } from '../../../../src/engine/control';
import type { Reproduction } from '../../../../src/engine/reproduction';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import type { LiveSession } from '../../../../src/session';
import { RemoteQueue } from '../../../../src/ui/model/remote-queue';
import { DirSandbox } from '../../../support/dir-sandbox';

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const ORIGINAL = Array.from({ length: 20 }, (_, i) => `v${i + 1} = ${i + 1}\n`).join('');
const PROPOSED = ORIGINAL.replace('v2 = 2\n', 'v2 = 20\n').replace('v18 = 18\n', 'v18 = 180\n');
const FIRST_ONLY = ORIGINAL.replace('v2 = 2\n', 'v2 = 20\n');

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(check(), `timed out waiting for ${what}`);
}

test('two windows review an engine’s proposal by hunks and switch its approval mode', {
  skip: process.platform === 'win32' ? 'Unix sockets' : false,
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-review-ctl-'));
  const workspace = mkdtempSync(join(tmpdir(), 'klong-review-ws-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => rmSync(workspace, { recursive: true, force: true }));
  writeFileSync(join(workspace, 'model.py'), ORIGINAL);
  const sandbox = await DirSandbox.create({ 'model.py': ORIGINAL });
  cleanups.push(() => sandbox.dispose());

  // The engine: its queue's events are stamped as the log does and broadcast to every client.
  const control = new EngineControl(3_600_000);
  const logged: AgentEvent[] = [];
  const emit = (body: AgentEventBody) => {
    const e = { ...body, seq: logged.length, ts: Date.now() } as AgentEvent;
    logged.push(e);
    control.event(e);
  };
  // ask-each with nobody to ask: proposals wait for review, as in review mode.
  const queue = new EditQueue({ sandbox, user: new DirUserFiles(workspace), emit, mode: 'ask-each' });
  const live = {
    dir,
    sessionId: 's1',
    summary: { workspace, activeMs: 0, budgetMs: 3_600_000, seq: 0, costUsd: 0 },
  } as unknown as LiveSession;
  await control.open(live);
  cleanups.push(() => control.close());
  const window = async () => {
    const client = await ControlClient.connect(dir);
    assert.ok(client);
    cleanups.push(() => client.dispose());
    const q = new RemoteQueue(client);
    client.onEvent((e) => q.onEvent(e));
    await q.refresh();
    return { client, q };
  };
  // Windows that follow the engine while it is still starting: no queue there yet.
  const a = await window();
  const b = await window();
  assert.deepEqual(a.q.list(), [], 'nothing proposed yet');
  // The parts of a run the channel uses besides the queue.
  control.attach({
    queue,
    live: { dir, log: { count: 0, iterate: () => [] } },
    agent: { step: 1, isPaused: false, injectUserMessage: () => undefined },
    budget: { activeMs: () => 0 },
    stop: () => undefined,
  } as unknown as Reproduction);

  emit({ type: 'status', status: 'running' });
  await until('the engine’s mode in both windows', () => a.q.mode === 'ask-each' && b.q.mode === 'ask-each');

  // The agent changes the file: both windows get the proposal with its text and hunks.
  await sandbox.writeFile('model.py', PROPOSED);
  await queue.afterTool(1);
  await until('the proposal in both windows', () => !!a.q.get('model.py') && !!b.q.get('model.py'));
  const p = b.q.get('model.py')!;
  assert.equal(p.after, PROPOSED);
  assert.equal(p.hunks.length, 2);

  const vanished: string[] = [];
  b.q.onDidChange(() => {
    if (!b.q.get('model.py')) vanished.push('b');
  });
  const first = await a.q.accept('model.py', { hunks: [0], version: p.version });
  assert.equal(first.status, 'accepted', first.message);
  assert.equal(readFileSync(join(workspace, 'model.py'), 'utf8'), FIRST_ONLY);
  await until('window b to see one change left', () => b.q.get('model.py')?.hunks.length === 1);
  assert.deepEqual(vanished, [], 'the partly decided file stayed in window b');

  // Deciding on an old view is refused; an unknown change index too.
  assert.equal((await b.q.reject('model.py', { version: p.version })).status, 'stale');
  const rest = b.q.get('model.py')!;
  assert.equal((await b.q.accept('model.py', { hunks: [7], version: rest.version })).status, 'stale');
  const second = await b.q.reject('model.py', { hunks: [0], version: rest.version, reason: 'no' });
  assert.equal(second.status, 'rejected', second.message);
  await until('the proposal to leave window a', () => a.q.get('model.py') === undefined);
  assert.equal(readFileSync(join(workspace, 'model.py'), 'utf8'), FIRST_ONLY);
  assert.equal((await a.q.accept('model.py')).status, 'not-found');

  // The approval mode: switched in window a, the engine and window b follow; it is logged.
  a.q.setMode('auto-accept');
  await until('window b in auto-accept', () => b.q.mode === 'auto-accept');
  assert.equal(queue.mode, 'auto-accept');
  assert.equal((await b.client.status()).approval, 'auto-accept');
  assert.ok(logged.some((e) => e.type === 'approval_changed' && e.mode === 'auto-accept'));
  await assert.rejects(a.client.setApproval('yolo' as never), /must be one of review, auto-accept, ask-each/);
  await assert.rejects(a.client.proposal(42 as never), /give a path/);
  assert.equal(await a.client.proposal('model.py'), null);

  // In auto-accept the next change lands in the user's files and never shows for review.
  await sandbox.writeFile('later.txt', 'unasked\n');
  await queue.afterTool(2);
  assert.equal(readFileSync(join(workspace, 'later.txt'), 'utf8'), 'unasked\n');
  await a.q.refresh();
  assert.deepEqual(a.q.list(), []);
});
