/**
 * AgentSession (src/agent/loop.ts) step by step: real HTTP to the scripted model server, real files
 * and processes in a DirSandbox (no Docker). What each test checks is what a user would see: the
 * requests the model got, the files, the events, and how a run ends. Whole sessions through faults,
 * deadlines and resumes are in test/integration/agent-session.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentSession } from '../../../src/agent/loop';
import type { AgentEventBody } from '../../../src/events/events';
import { estimateCounter } from '../../../src/llm/tokens';
import { type Harness, headOf, PAPER_MD, startHarness, typesOf } from '../../support/agent-harness';
import {
  type ChatBody,
  call,
  faults,
  lastObservation,
  reply,
  textOf,
  tools,
} from '../../support/model-server';

/** Index of the first event of this type (and step, when given) after `from`. */
function indexOf(events: AgentEventBody[], type: AgentEventBody['type'], from = 0): number {
  const i = events.findIndex((e, k) => k >= from && e.type === type);
  assert.ok(i >= 0, `no ${type} event after #${from}: ${typesOf(events).join(' ')}`);
  return i;
}

function toolResults(events: AgentEventBody[]) {
  return events.flatMap((e) => (e.type === 'tool_result' ? [e] : []));
}

async function withHarness(h: Harness, body: (h: Harness) => Promise<void>): Promise<void> {
  try {
    await body(h);
  } finally {
    await h.close();
  }
}

test('tool calls run in order in the sandbox and their results go back in the next request, each under its call id', async () => {
  const h = await startHarness({
    script: [
      tools(
        call('write_file', { path: 'a.txt', content: 'first line\n' }, 'c-write'),
        call('bash', { command: 'cat a.txt && echo second >> a.txt' }, 'c-bash'),
      ),
      tools(call('end_task', { summary: 'done' })),
    ],
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'done' });
    // The calls really ran, in order: bash saw the file write_file made.
    assert.equal(readFileSync(join(h.sandbox.workdir, 'a.txt'), 'utf8'), 'first line\nsecond\n');
    const second = h.server.requests[1]!.messages;
    const assistant = second.findLast((m) => m.role === 'assistant')!;
    assert.deepEqual(
      assistant.tool_calls?.map((c) => c.id),
      ['c-write', 'c-bash'],
    );
    const answers = second.slice(second.indexOf(assistant) + 1);
    assert.deepEqual(
      answers.map((m) => [m.role, m.tool_call_id]),
      [
        ['tool', 'c-write'],
        ['tool', 'c-bash'],
      ],
    );
    assert.match(textOf(answers[1]!.content), /first line\n\[exit code: 0\]/);
    assert.equal(h.server.requests.length, 2);
  });
});

test('end_task ends the session: later calls of its step are answered unrun and the model is not asked again', async () => {
  const h = await startHarness({
    script: [
      tools(call('end_task', { summary: 'reproduced' }), call('bash', { command: 'touch after-end.txt' })),
      tools(call('bash', { command: 'echo never' })),
    ],
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'reproduced' });
    assert.equal(h.server.requests.length, 1);
    assert.equal(existsSync(join(h.sandbox.workdir, 'after-end.txt')), false);
    const bash = toolResults(h.events).find((e) => e.name === 'bash')!;
    assert.equal(bash.ok, false);
    assert.match(bash.output, /Not run: end_task was called earlier in this step/);
    assert.deepEqual(typesOf(h.events).slice(-2), ['end', 'status']);
    assert.ok(
      h.events.some((e) => e.type === 'end' && e.reason === 'end_task' && e.summary === 'reproduced'),
    );
  });
});

test('a malformed or unknown tool call gets an error answer and the loop goes on', async () => {
  const seen: string[] = [];
  const h = await startHarness({
    script: [
      faults.malformedArgs('write_file'),
      (req: ChatBody) => {
        seen.push(lastObservation(req));
        return tools(call('no_such_tool', { x: 1 }));
      },
      (req: ChatBody) => {
        seen.push(lastObservation(req));
        return tools(call('write_file', { path: 'a.py', content: 'x = 1\n' }));
      },
      tools(call('end_task', { summary: 'done' })),
    ],
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.match(seen[0]!, /The arguments of write_file are not valid JSON/);
    assert.match(seen[1]!, /Unknown tool "no_such_tool"\. Available tools: .*bash/);
    const results = toolResults(h.events);
    assert.deepEqual(
      results.map((e) => [e.name, e.ok]),
      [
        ['write_file', false],
        ['no_such_tool', false],
        ['write_file', true],
        ['end_task', true],
      ],
    );
    // The broken call wrote nothing; the corrected one did.
    assert.equal(readFileSync(join(h.sandbox.workdir, 'a.py'), 'utf8'), 'x = 1\n');
  });
});

test('a pause during a step takes effect at its end: the step finishes, no request while paused, resume goes on', async () => {
  let session!: AgentSession;
  let events!: AgentEventBody[];
  let requestsWhilePaused = -1;
  let requests = () => 0;
  const h = await startHarness({
    script: [
      tools(call('bash', { command: 'echo one' }), call('bash', { command: 'echo two' })),
      tools(call('end_task', { summary: 'done' })),
    ],
    deps: {
      afterTool: async (info) => {
        if (info.outcome.output.includes('one')) session.pause();
      },
      // Called with the session paused (after its 'paused' status): look, then resume.
      onStepEnd: () => {
        const last = events.at(-1);
        if (last?.type === 'status' && last.status === 'paused') {
          requestsWhilePaused = requests();
          session.resume();
        }
      },
    },
  });
  session = h.session;
  events = h.events;
  requests = () => h.server.requests.length;
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'done' });
    // The second call of the paused step still ran.
    assert.deepEqual(
      toolResults(h.events)
        .slice(0, 2)
        .map((e) => [e.ok, e.output.split('\n')[0]]),
      [
        [true, 'one'],
        [true, 'two'],
      ],
    );
    const paused = h.events.findIndex((e) => e.type === 'status' && e.status === 'paused');
    assert.ok(paused > h.events.findLastIndex((e) => e.type === 'tool_result' && e.output.startsWith('two')));
    assert.equal(requestsWhilePaused, 1, 'no request went out while paused');
    const running = h.events.findIndex((e, i) => i > paused && e.type === 'status' && e.status === 'running');
    assert.ok(running > paused);
    assert.equal(indexOf(h.events, 'model_request', paused) > running, true);
    assert.equal(h.server.requests.length, 2);
  });
});

test('a stop at a step boundary: for good it ends the session; as an interrupt it stays resumable and a resume goes on', async () => {
  let session!: AgentSession;
  const ended = await startHarness({
    script: [tools(call('bash', { command: 'echo one' })), tools(call('bash', { command: 'echo never' }))],
    deps: { onStepEnd: ({ final }) => (final ? undefined : session.stop('end')) },
  });
  session = ended.session;
  await withHarness(ended, async (h) => {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'stopped' });
    assert.equal(h.server.requests.length, 1);
    assert.ok(h.events.some((e) => e.type === 'end' && e.reason === 'stopped'));
  });

  const interrupted = await startHarness({
    script: [tools(call('bash', { command: 'echo one' })), tools(call('bash', { command: 'echo never' }))],
    deps: { onStepEnd: ({ final }) => (final ? undefined : session.stop('interrupt')) },
  });
  session = interrupted.session;
  await withHarness(interrupted, async (h) => {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'stopped', reason: 'interrupted' });
    assert.equal(h.server.requests.length, 1);
    assert.ok(!h.events.some((e) => e.type === 'end'), 'not ended: resumable');

    const h2 = await startHarness({
      sandbox: h.sandbox,
      script: [
        (req: ChatBody) => {
          assert.match(lastObservation(req), /^one\n\[exit code: 0\]/);
          return tools(call('end_task', { summary: 'resumed' }));
        },
      ],
    });
    await withHarness(h2, async () => {
      const resumed = AgentSession.restore(
        h2.deps,
        { tail: h.events, freshContext: h.freshContext },
        estimateCounter,
      );
      assert.equal(resumed.step, 1);
      const r2 = await resumed.run();
      assert.deepEqual(r2, { status: 'done', reason: 'end_task', summary: 'resumed' });
      assert.equal(h2.server.requests.length, 1);
    });
  });
});

test('a user message waits for the step boundary: the running calls finish, then it follows their results', async () => {
  let session!: AgentSession;
  const h = await startHarness({
    script: [
      tools(
        call('write_file', { path: 'x.py', content: 'x = 1\n' }),
        call('bash', { command: 'sleep 0.2; echo finished' }),
      ),
      tools(call('end_task', { summary: 'done' })),
    ],
    deps: {
      afterTool: async (info) => {
        if (info.call.name === 'write_file') session.injectUserMessage('Please use y instead of x.');
      },
    },
  });
  session = h.session;
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    // The call after the message ran to its end, not interrupted by it.
    const bash = toolResults(h.events).find((e) => e.name === 'bash')!;
    assert.equal(bash.ok, true);
    assert.match(bash.output, /finished\n\[exit code: 0\]/);
    const msg = indexOf(h.events, 'user_message');
    assert.ok(msg > h.events.indexOf(bash), 'logged after the last result of the step');
    assert.ok(indexOf(h.events, 'model_request', msg) > msg);
    // In the request: the assistant's calls, both answers, then the message.
    const second = h.server.requests[1]!.messages;
    assert.deepEqual(
      second.slice(-4).map((m) => m.role),
      ['assistant', 'tool', 'tool', 'user'],
    );
    assert.match(textOf(second.at(-1)!.content), /Please use y instead of x\./);
    assert.equal(
      h.server.requests[0]!.messages.some((m) => textOf(m.content).includes('use y instead')),
      false,
    );
  });
});

test('a reply without tool calls gets a nudge and the loop asks again', async () => {
  const h = await startHarness({
    script: [reply('I think I am done.'), tools(call('end_task', { summary: 'done' }))],
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.equal(h.server.requests.length, 2);
    assert.match(lastObservation(h.server.requests[1]!), /You did not call a tool/);
  });
});

test('near the context limit the context splits into a new window; the paper stays pinned in every request', async () => {
  const big = (i: number) => tools(call('bash', { command: `seq ${i * 1000} ${i * 1000 + 700}` }));
  const h = await startHarness({
    script: (_req, i) => (i < 14 ? big(i) : tools(call('end_task', { summary: 'done' }))),
    server: { contextLimit: 9000 },
    context: { contextLimit: 9000, reserveOutput: 800, keepTurns: 2, toolResultChars: 3000 },
    deps: { summarizeSplits: false },
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.equal(h.server.overLimit, 0, 'no request over the limit');
    const splits = h.events.filter((e) => e.type === 'split');
    assert.ok(splits.length >= 1, 'the context was split');
    // Split at the watermark, before it is full: the new window goes on from the last turns.
    for (const sp of splits) assert.ok(sp.type === 'split' && sp.keptMessages > 0, 'the last turns are kept');
    const head = headOf(h.server.requests[0]!);
    const paperLine = 'We show that printing hello works.';
    assert.ok(PAPER_MD.includes(paperLine));
    for (const req of h.server.requests) {
      assert.equal(headOf(req), head, 'the head (system prompt, task and paper) never changes');
      const withPaper = req.messages.filter((m) => textOf(m.content).includes(paperLine));
      assert.equal(withPaper.length, 1, 'the paper is in every request, once');
    }
    const last = h.server.requests.at(-1)!;
    assert.match(textOf(last.messages[2]!.content), /^\[Context window/);
  });
});

test('a head alone over the limit: the session stops resumable before any request, with the numbers', async () => {
  const h = await startHarness({
    script: [tools(call('end_task', { summary: 'never' }))],
    context: { contextLimit: 1500, reserveOutput: 200 },
  });
  await withHarness(h, async () => {
    const r = await h.session.run();
    assert.equal(r.status, 'stopped');
    assert.match(r.status === 'stopped' ? r.reason : '', /over the \d+ available \(limit 1500/);
    assert.equal(h.server.requests.length, 0);
    assert.ok(h.events.some((e) => e.type === 'error' && e.fatal));
    assert.ok(!h.events.some((e) => e.type === 'end'));
  });
});
