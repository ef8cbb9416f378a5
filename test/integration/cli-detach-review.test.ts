/**
 * Reviewing a detached engine's proposals over its control channel (real CLI engine, real
 * container, scripted model), as VS Code does with ui/model/remote-queue.ts: two clients list the
 * proposal with its text and hunks, one accepts a hunk, the other rejects the rest, each sees the
 * other's decision without asking; the user's file gets exactly the accepted hunk. Switching the
 * approval mode over the channel reaches the running agent (the next edit lands unasked), is
 * logged, shows in the other client and is what a resume starts in.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ControlClient, readControlInfo } from '../../src/engine/control';
import { RemoteQueue } from '../../src/ui/model/remote-queue';
import {
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  sessionEvents,
  until,
} from '../support/cli-run';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
const ORIGINAL = `${lines.join('\n')}\n`;
/** Two changes far apart: two hunks. */
const PROPOSED = `${lines.map((l, i) => (i === 1 ? 'line 2 by the agent' : i === 17 ? 'line 18 by the agent' : l)).join('\n')}\n`;
const ONLY_FIRST = `${lines.map((l, i) => (i === 1 ? 'line 2 by the agent' : l)).join('\n')}\n`;

/** A client as VS Code has it: a RemoteQueue fed by the engine's events. */
async function reviewer(dir: string) {
  const client = await ControlClient.connect(dir);
  assert.ok(client, 'the engine serves its control channel');
  const warnings: string[] = [];
  const queue = new RemoteQueue(client, 'review', (m) => warnings.push(m));
  client.onEvent((e) => queue.onEvent(e));
  await queue.refresh();
  return { client, queue, warnings };
}

describe('review of a detached engine’s proposals over the control channel', { skip }, () => {
  test('hunks decided by two clients, each sees the other; the approval mode reaches the agent', async () => {
    let autoAccept = false;
    let wrote = false;
    const server = await cleanup.modelServer(
      (_req, i) => {
        if (i === 0) return tools(call('write_file', { path: 'model.py', content: PROPOSED }));
        // Once the mode is auto-accept, the agent's next edit (once).
        if (autoAccept && !wrote) {
          wrote = true;
          return tools(call('write_file', { path: 'later.txt', content: 'landed unasked\n' }));
        }
        return tools(call('bash', { command: `sleep 0.3; echo step ${i}` }));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('detach-review');
    writeFileSync(join(s.workspace, 'model.py'), ORIGINAL);
    const { dir } = await cleanup.detach(s, [
      ...reproduceArgs(s, server.url),
      '--no-final-run',
      '--approval',
      'review',
    ]);

    const a = await reviewer(dir);
    const b = await reviewer(dir);
    await until('the proposal in both clients', () => !!a.queue.get('model.py') && !!b.queue.get('model.py'));
    const p = a.queue.get('model.py')!;
    assert.equal(p.before, ORIGINAL, 'the left side: the user’s file as the agent started from it');
    assert.equal(p.after, PROPOSED, 'the right side: the agent’s version');
    assert.equal(p.hunks.length, 2);
    assert.equal(a.queue.mode, 'review');

    // A partly decided file never looks decided meanwhile (its open diff would close).
    let vanished = 0;
    for (const q of [a.queue, b.queue])
      q.onDidChange(() => {
        if (!q.get('model.py')) vanished++;
      });

    // One hunk accepted in client a: the user's file has it; b sees the rest as a new version.
    const first = await a.queue.accept('model.py', { hunks: [p.hunks[0]!.index], version: p.version });
    assert.equal(first.status, 'accepted', first.message);
    assert.equal(first.status === 'accepted' && first.remaining, 1);
    assert.equal(readFileSync(join(s.workspace, 'model.py'), 'utf8'), ONLY_FIRST);
    await until('client b to see the decision', () => b.queue.get('model.py')?.hunks.length === 1);
    const rest = b.queue.get('model.py')!;
    assert.ok(rest.version > p.version);

    assert.equal(vanished, 0, 'the proposal left a client between its two versions');

    // A decision on the version a client saw before is refused, nothing changes.
    const stale = await b.queue.reject('model.py', { version: p.version, reason: 'old view' });
    assert.equal(stale.status, 'stale', stale.message);

    // The other hunk rejected in client b: gone from a's review without asking.
    const second = await b.queue.reject('model.py', {
      hunks: [rest.hunks[0]!.index],
      version: rest.version,
      reason: 'keep line 18',
    });
    assert.equal(second.status, 'rejected', second.message);
    await until('the proposal to leave client a', () => a.queue.get('model.py') === undefined);
    assert.equal(
      readFileSync(join(s.workspace, 'model.py'), 'utf8'),
      ONLY_FIRST,
      'exactly the accepted hunk',
    );
    const none = await a.queue.accept('model.py');
    assert.equal(none.status, 'not-found');

    // The approval mode, switched in client a: the engine, client b, the log and run.json know it.
    a.queue.setMode('auto-accept');
    // (the event reaches the log at the step's end; the status says it as soon as it is taken)
    let engineMode: string | undefined;
    await until('the engine to switch', () => {
      void a.client.status().then((st) => {
        engineMode = st.approval;
      });
      return engineMode === 'auto-accept';
    });
    await until('client b to show the mode', () => b.queue.mode === 'auto-accept');
    const saved = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as { approval: string };
    assert.equal(saved.approval, 'auto-accept', 'a resume starts in the mode the user chose');
    await assert.rejects(
      a.client.setApproval('yolo' as never),
      /must be one of review, auto-accept, ask-each/,
    );

    // The agent's next edit lands in the user's files without a decision.
    autoAccept = true;
    await until('the next edit to land', () => existsSync(join(s.workspace, 'later.txt')));
    assert.equal(readFileSync(join(s.workspace, 'later.txt'), 'utf8'), 'landed unasked\n');
    assert.equal(a.queue.get('later.txt'), undefined);
    assert.deepEqual(a.warnings, []);

    await a.client.stop('interrupt');
    a.client.dispose();
    b.client.dispose();
    await until('the engine to exit', () => !readControlInfo(dir));
    const events = sessionEvents(s.stateDir, s.sessionId);
    assert.ok(events.some((e) => e.type === 'approval_changed' && e.mode === 'auto-accept'));
    assert.ok(
      events.some((e) => e.type === 'edit_decided' && e.path === 'model.py' && e.decision === 'rejected'),
    );

    // Resumed without --approval: the session goes on in the mode the user switched to.
    await cleanup.detach(s, [...resumeArgs(s, server.url), '--no-final-run']);
    const c = await ControlClient.connect(dir);
    assert.ok(c);
    let resumedMode: string | undefined;
    await until('the resumed engine to run', () => {
      void c.status().then((st) => {
        resumedMode = st.approval;
      });
      return resumedMode !== undefined;
    });
    assert.equal(resumedMode, 'auto-accept');
    await c.stop('interrupt');
    c.dispose();
    await until('the resumed engine to exit', () => !readControlInfo(dir));
  });
});
