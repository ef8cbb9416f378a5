/** Resume after a rewind: a real AgentSession, real HTTP to the scripted model server, DirSandbox files. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AgentSession } from '../../src/agent/loop';
import { rewindNote } from '../../src/agent/rewind';
import type { AgentEventBody } from '../../src/events/events';
import { estimateCounter } from '../../src/llm/tokens';
import { startHarness } from '../support/agent-harness';
import { call, tools } from '../support/model-server';

test('resume after a conversation rewind: the next request is the context after that step plus the note', async () => {
  const h = await startHarness({
    script: [
      tools(call('bash', { command: 'echo one' })),
      tools(call('write_file', { path: 'a.txt', content: 'two' })),
      tools(call('bash', { command: 'echo three' })),
      tools(call('bash', { command: 'echo four' })),
    ],
    deps: { maxSteps: 4 },
    budget: { reminderEverySteps: 1000 },
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'stopped');
    assert.equal(h.session.step, 4);
    const spent = h.session.totals;
    // The original request of step 3 is the context right after step 2.
    const step3 = h.server.requests[2]!;

    const rewind: AgentEventBody[] = [
      { type: 'rewind', toStep: 2, mode: 'conversation', fromStep: 4 },
      { type: 'user_message', text: rewindNote(2, 'conversation') },
    ];
    const log = [...h.events, ...rewind];
    const h2 = await startHarness({
      sandbox: h.sandbox,
      script: [tools(call('end_task', { summary: 'done after rewind' }))],
      budget: { reminderEverySteps: 1000 },
    });
    try {
      // The snapshot (if any) predates the rewind: the tail holds the rewind, so the whole log is replayed.
      const last = h.snapshots.at(-1)!;
      const resumed = AgentSession.restore(
        h2.deps,
        {
          state: last.state,
          tail: log.slice(last.events),
          freshContext: h2.freshContext,
          history: () => log,
        },
        estimateCounter,
      );
      // Spend is what was really spent, including the abandoned steps; step numbers go on.
      assert.deepEqual(resumed.totals, spent);
      assert.equal(resumed.step, 4);
      const done = await resumed.run();
      assert.deepEqual(done, { status: 'done', reason: 'end_task', summary: 'done after rewind' });
      const next = h2.server.requests[0]!;
      const n = step3.messages.length;
      assert.deepEqual(next.messages.slice(0, n), step3.messages, 'same context as after step 2');
      const rest = JSON.stringify(next.messages.slice(n));
      assert.match(rest, /rewound the conversation to step 2/);
      assert.doesNotMatch(JSON.stringify(next.messages), /three|four/, 'nothing of steps 3 and 4');
      // The new step is numbered after every step in the log.
      const req = h2.events.find((e) => e.type === 'model_request');
      assert.equal(req?.type === 'model_request' && req.step, 5);
    } finally {
      await h2.close();
    }
  } finally {
    await h.close();
  }
});
