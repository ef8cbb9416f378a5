/**
 * Proposed edits inside a real agent session: AgentSession + scripted model server (real HTTP) +
 * DirSandbox, with the EditQueue as the loop's afterTool hook and the user's workspace a real
 * directory. The rejection must reach the model in its very next request.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AgentSession } from '../../src/agent/loop';
import { DirUserFiles, EditQueue, type EditQueueOptions } from '../../src/edits';
import { startHarness } from '../support/agent-harness';
import { DirSandbox } from '../support/dir-sandbox';
import { type ChatBody, call, tools } from '../support/model-server';

const ORIGINAL = Array.from({ length: 30 }, (_, i) => `x_${i + 1} = ${i + 1}\n`).join('');
const PROPOSED = ORIGINAL.replace('x_3 = 3\n', 'x_3 = 3.0\n').replace(
  'x_25 = 25\n',
  'x_25 = twenty_five()\n',
);

async function setup(opts: Partial<EditQueueOptions>, script: Parameters<typeof startHarness>[0]['script']) {
  const ws = await mkdtemp(join(tmpdir(), 'klong-edits-ws-'));
  await writeFile(join(ws, 'model.py'), ORIGINAL);
  const sandbox = await DirSandbox.create({ 'model.py': ORIGINAL });
  let session: AgentSession | undefined;
  const queue = new EditQueue({
    sandbox,
    user: new DirUserFiles(ws),
    onFeedback: (t) => session!.injectUserMessage(t),
    ...opts,
  });
  // A request held while the user reviews must not count as a stalled stream.
  const h = await startHarness({
    sandbox,
    script,
    deps: { afterTool: queue.hook() },
    client: { stallTimeoutMs: 60_000 },
  });
  session = h.session;
  return {
    ws,
    sandbox,
    queue,
    h,
    close: async () => {
      await h.close();
      await sandbox.dispose();
      await rm(ws, { recursive: true, force: true });
    },
  };
}

function messagesText(req: ChatBody): string {
  return req.messages.map((m) => m.content ?? '').join('\n');
}

test('review mode: the agent keeps going; a hunk rejected meanwhile is its next observation', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const t = await setup({ mode: 'review' }, [
    tools(call('write_file', { path: 'model.py', content: PROPOSED })),
    // The agent's next request waits here while the user reviews.
    async () => {
      await gate;
      return tools(call('bash', { command: 'true' }));
    },
    tools(call('end_task', { summary: 'done' })),
  ]);
  try {
    const run = t.h.session.run();
    while (!t.queue.get('model.py')) await new Promise((r) => setTimeout(r, 10));
    const p = t.queue.get('model.py')!;
    assert.equal(p.hunks.length, 2);
    assert.equal((await t.queue.accept('model.py', { hunks: [0], version: p.version })).status, 'accepted');
    const left = t.queue.get('model.py')!;
    const r = await t.queue.reject('model.py', {
      hunks: [0],
      version: left.version,
      reason: 'x_25 must stay a literal',
    });
    assert.equal(r.status, 'rejected');
    release();
    assert.deepEqual(await run, { status: 'done', reason: 'end_task', summary: 'done' });

    assert.equal(t.h.server.requests.length, 3, 'one request per step, no retry');
    const [, second, third] = t.h.server.requests;
    const text =
      'User rejected the remaining changes to model.py (line 25): x_25 must stay a literal. They were reverted in the container; the changes the user accepted earlier stay.';
    assert.ok(!messagesText(second!).includes('User rejected'), 'the request made before the decision');
    const last = third!.messages.at(-1)!;
    assert.equal(last.role, 'user');
    assert.ok(last.content?.includes(text), `the next request ends with the rejection: ${last.content}`);
    assert.equal(
      await readFile(join(t.ws, 'model.py'), 'utf8'),
      ORIGINAL.replace('x_3 = 3\n', 'x_3 = 3.0\n'),
    );
    assert.equal(
      await readFile(join(t.sandbox.workdir, 'model.py'), 'utf8'),
      ORIGINAL.replace('x_3 = 3\n', 'x_3 = 3.0\n'),
    );
    assert.ok(t.h.events.some((e) => e.type === 'user_message' && e.text === text));
  } finally {
    await t.close();
  }
});

test('ask-each: the loop waits for the decision; the rejection is in the following request', async () => {
  const asked: string[] = [];
  const t = await setup(
    {
      mode: 'ask-each',
      decide: async (p) => {
        asked.push(`${p.path} +${p.stats.additions} -${p.stats.deletions}`);
        await new Promise((r) => setTimeout(r, 30));
        return { decision: 'reject', reason: 'use the config file instead' };
      },
    },
    [
      tools(call('write_file', { path: 'model.py', content: PROPOSED })),
      tools(call('end_task', { summary: 'done' })),
    ],
  );
  try {
    assert.deepEqual(await t.h.session.run(), { status: 'done', reason: 'end_task', summary: 'done' });
    assert.deepEqual(asked, ['model.py +2 -2']);
    const second = t.h.server.requests[1]!;
    assert.ok(
      second.messages
        .at(-1)!
        .content?.includes(
          'User rejected the edit to model.py: use the config file instead. The file was reverted in the container.',
        ),
    );
    assert.equal(await readFile(join(t.sandbox.workdir, 'model.py'), 'utf8'), ORIGINAL);
    assert.equal(await readFile(join(t.ws, 'model.py'), 'utf8'), ORIGINAL);
  } finally {
    await t.close();
  }
});
