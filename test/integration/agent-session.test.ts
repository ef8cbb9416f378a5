/** Whole sessions: real HTTP to the scripted model server, real files and processes (DirSandbox). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { TimeBudget } from '../../src/agent/budget';
import { AgentSession } from '../../src/agent/loop';
import { OpenAIModelClient } from '../../src/llm/openai-client';
import { estimateCounter } from '../../src/llm/tokens';
import { headOf, startHarness, typesOf } from '../support/agent-harness';
import {
  type ChatBody,
  call,
  faults,
  lastObservation,
  reply,
  type StepResult,
  tools,
} from '../support/model-server';

const HELLO = 'import sys\nprint("hello", 6 * 7)\n';

test('plan → write → run → end_task through every transient fault', async () => {
  const seen: string[] = [];
  const observe = (next: StepResult) => (req: ChatBody) => {
    seen.push(
      req.messages
        .slice(-2)
        .map((m) => m.content ?? '')
        .join('\n'),
    );
    return next;
  };
  const h = await startHarness({
    script: [
      tools(call('read_paper', { section: '2' })),
      observe(
        tools(
          call('update_plan', {
            items: [
              { text: 'write hello.py', status: 'doing' },
              { text: 'run it', status: 'todo' },
            ],
          }),
        ),
      ),
      tools(call('write_file', { path: 'hello.py', content: HELLO })),
      faults.rateLimit(1),
      tools(call('bash', { command: 'python3 hello.py > out.txt && cat out.txt' })),
      faults.serverError(),
      observe(faults.malformedArgs('write_file')),
      faults.stall(),
      observe(tools(call('bash', { command: 'git clone https://github.com/tiny/official' }))),
      observe(reply('Thinking about what is left.')),
      observe(
        tools(call('write_file', { path: 'reproduce.sh', content: 'python3 hello.py > reproduce.log\n' })),
      ),
      tools(call('end_task', { summary: 'hello 42 reproduced' })),
    ],
  });
  try {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'hello 42 reproduced' });
    // Files produced by the agent's own commands.
    assert.equal(readFileSync(join(h.sandbox.workdir, 'hello.py'), 'utf8'), HELLO);
    assert.equal(readFileSync(join(h.sandbox.workdir, 'out.txt'), 'utf8'), 'hello 42\n');
    assert.ok(readFileSync(join(h.sandbox.workdir, 'reproduce.sh'), 'utf8').includes('reproduce.log'));
    // The server saw the faults and the retries.
    assert.deepEqual(h.server.served, [
      'reply',
      'reply',
      'reply',
      'rate_limit',
      'reply',
      'server_error',
      'reply',
      'stall',
      'reply',
      'reply',
      'reply',
      'reply',
    ]);
    assert.equal(h.server.exhausted, 0);
    // Retries resend the identical body.
    assert.deepEqual(h.server.requests[3], h.server.requests[4]);
    assert.deepEqual(h.server.requests[7], h.server.requests[8]);
    // Observations the model got: the section, the JSON error, the blacklist refusal, the nudge.
    assert.match(seen[0]!, /Run hello\.py/);
    assert.match(seen[1]!, /hello 42\n\[exit code: 0\]/);
    assert.match(seen[2]!, /not valid JSON/);
    assert.match(seen[3]!, /Command refused: the official code is blacklisted/);
    assert.match(seen[4]!, /You did not call a tool/);
    // Pinned head byte-identical in every request; prompt only grows (no split here).
    const head = headOf(h.server.requests[0]!);
    assert.match(head, /Tiny Paper/);
    assert.match(head, /Run hello\.py; expect/);
    for (const req of h.server.requests) assert.equal(headOf(req), head);
    for (let i = 1; i < h.server.requests.length; i++) {
      assert.ok(h.server.requests[i]!.messages.length >= h.server.requests[i - 1]!.messages.length);
    }
    assert.ok(
      h.server.cachedTokens.slice(1).every((c) => c > 0),
      'every request after the first hits the cache',
    );
    // Events: plan, tool calls and results, usage with cost, end.
    const types = typesOf(h.events);
    assert.equal(types[0], 'status');
    assert.ok(types.includes('plan'));
    assert.equal(types.at(-2), 'end');
    const responses = h.events.filter((e) => e.type === 'model_response');
    assert.equal(responses.length, 9);
    assert.ok(
      responses.every((e) => e.type === 'model_response' && e.usage.promptTokens > 0 && e.costUsd > 0),
    );
    assert.ok(h.session.totals.cachedTokens > 0);
    assert.deepEqual(
      h.session.plan.map((p) => p.text),
      ['write hello.py', 'run it'],
    );
    const reminders = h.events.filter((e) => e.type === 'reminder' && e.text.startsWith('Info:'));
    assert.ok(reminders.length >= 1, 'a time reminder every 4 steps');
  } finally {
    await h.close();
  }
});

function bigOutputStep(i: number): StepResult {
  return tools(call('bash', { command: `seq 1 ${400 + i} | sed 's/^/line of output number /'` }));
}

test('long session: splits at the watermark, overlap kept, never over the limit, head pinned', async () => {
  const steps = 60;
  const h = await startHarness({
    script: (_req, i) => (i < steps ? bigOutputStep(i) : tools(call('end_task', { summary: 'done' }))),
    server: { contextLimit: 12_000 },
    context: { contextLimit: 12_000, reserveOutput: 1000, keepTurns: 3, toolResultChars: 4000 },
    deps: { maxSteps: 200, summarizeSplits: false },
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.equal(h.server.overLimit, 0, 'no request over the limit');
    assert.ok(Math.max(...h.server.promptTokens) <= 12_000 - 1000);
    const splits = h.events.filter((e) => e.type === 'split');
    assert.ok(splits.length >= 3, `expected several splits, got ${splits.length}`);
    const head = headOf(h.server.requests[0]!);
    let sawOverlap = 0;
    for (let i = 1; i < h.server.requests.length; i++) {
      const prev = h.server.requests[i - 1]!;
      const cur = h.server.requests[i]!;
      assert.equal(headOf(cur), head);
      const note = cur.messages[2];
      if (
        note?.role === 'user' &&
        note.content?.startsWith('[Context window') &&
        prev.messages[2]?.content !== note.content
      ) {
        // Split between prev and cur: the messages after the note are the tail of prev (+ this step's additions).
        assert.match(note.content, /## Plan[\s\S]*## Done[\s\S]*ran: seq 1/);
        const kept = cur.messages.slice(3);
        // An assistant turn, or the reminder that came just before it (it travels with its turn).
        const lead = kept[0]!.role === 'user' && /^Info:/.test(kept[0]!.content ?? '') ? 1 : 0;
        assert.equal(kept[lead]!.role, 'assistant', 'overlap starts with an assistant turn');
        const tail = prev.messages.slice(prev.messages.length - kept.length + 2);
        assert.deepEqual(kept.slice(0, tail.length), tail);
        assert.ok(kept.length >= 2);
        sawOverlap++;
      }
    }
    assert.equal(sawOverlap, splits.length);
    // Prefix sharing: most requests are cached beyond the head.
    const cachedShare =
      h.server.cachedTokens.reduce((a, b) => a + b, 0) / h.server.promptTokens.reduce((a, b) => a + b, 0);
    assert.ok(cachedShare > 0.7, `cached share ${cachedShare}`);
  } finally {
    await h.close();
  }
});

test('a context-length error from the endpoint splits and retries', async () => {
  const h = await startHarness({
    script: [
      bigOutputStep(1),
      bigOutputStep(2),
      bigOutputStep(3),
      faults.contextLength(),
      tools(call('end_task', { summary: 'ok' })),
    ],
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    const [before, after] = [h.server.requests[3]!, h.server.requests[4]!];
    assert.equal(headOf(after), headOf(before));
    assert.match(after.messages[2]!.content!, /^\[Context window 2/);
    assert.ok(h.server.promptTokens[4]! < h.server.promptTokens[3]!, 'the retry is smaller');
    const err = h.events.find((e) => e.type === 'error');
    assert.ok(err && err.type === 'error' && !err.fatal && /Context length exceeded/.test(err.message));
  } finally {
    await h.close();
  }
});

test('401 stops cleanly without losing the session; resume from snapshot + tail finishes it', async () => {
  const h = await startHarness({
    script: [
      tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
      tools(call('bash', { command: 'cat a.txt' })),
      faults.unauthorized(),
    ],
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'stopped');
    assert.match(r.status === 'stopped' ? r.reason : '', /rejected the API key \(401\)/);
    const fatal = h.events.find((e) => e.type === 'error');
    assert.ok(fatal && fatal.type === 'error' && fatal.fatal);
    assert.ok(!h.events.some((e) => e.type === 'end'), 'not ended: resumable');
    assert.doesNotMatch(JSON.stringify(h.events), /sk-test/, 'the key never reaches the events');

    // Resume from the snapshot after step 1 + the events after it (as the session store does).
    const snap = h.snapshots[0]!;
    const tail = h.events.slice(snap.events);
    const h2 = await startHarness({
      sandbox: h.sandbox,
      script: [
        (req) => {
          assert.match(lastObservation(req), /one\n\[exit code: 0\]/);
          return tools(call('end_task', { summary: 'resumed and done' }));
        },
      ],
    });
    try {
      const resumed = AgentSession.restore(
        { ...h2.deps, budget: new TimeBudget({ totalMs: 3600_000 }, undefined, snap.state.budget) },
        { state: snap.state, tail, freshContext: h2.freshContext },
        estimateCounter,
      );
      // The resumed request continues exactly where the failed one was.
      const r2 = await resumed.run();
      assert.deepEqual(r2, { status: 'done', reason: 'end_task', summary: 'resumed and done' });
      const failed = h.server.requests[2]!;
      const first = h2.server.requests[0]!;
      assert.deepEqual(first.messages, failed.messages);
      // A full replay (no snapshot) rebuilds the same context too.
      const replayed = AgentSession.restore(
        h2.deps,
        { tail: h.events, freshContext: h.freshContext },
        estimateCounter,
      );
      assert.deepEqual(replayed.context.messages(), h.session.context.messages());
      assert.equal(replayed.step, 2);
    } finally {
      await h2.close();
    }
  } finally {
    await h.close();
  }
});

test('wrong model name: fatal 404 message names model and URL', async () => {
  const h = await startHarness({ script: [], server: { models: ['real-model'] } });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'stopped');
    assert.match(
      r.status === 'stopped' ? r.reason : '',
      /Model "test-model" not found at http:\/\/127\.0\.0\.1:\d+\/v1 \(404\)/,
    );
  } finally {
    await h.close();
  }
});

test('pause/resume, stop, user messages from afterTool, and the spend cap', async () => {
  let hookCalls = 0;
  let session!: AgentSession;
  const h = await startHarness({
    script: [
      tools(call('write_file', { path: 'x.py', content: 'x = 1\n' })),
      () => {
        // Pause while this request is in flight: it is abandoned and redone after resume.
        setTimeout(() => session.pause(), 30);
        setTimeout(() => session.resume(), 120);
        return faults.stall();
      },
      (req) => {
        assert.match(lastObservation(req), /user rejected edit to x\.py: use y instead/);
        return tools(call('bash', { command: 'echo after-pause' }));
      },
      tools(call('bash', { command: 'sleep 20' })),
      tools(call('bash', { command: 'echo unreachable' })),
    ],
    deps: {
      afterTool: async (info) => {
        hookCalls++;
        if (info.call.name === 'write_file') {
          const decision = await info.whileWaiting(Promise.resolve('rejected'));
          session.injectUserMessage(`user rejected edit to x.py: use y instead (${decision})`);
        }
        if (info.call.name === 'bash' && info.outcome.output.includes('after-pause'))
          setTimeout(() => session.stop(), 200);
      },
    },
  });
  session = h.session;
  try {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'stopped' });
    assert.equal(hookCalls >= 2, true);
    const statuses = h.events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
    assert.deepEqual(statuses.slice(0, 3), ['running', 'paused', 'running']);
    assert.equal(statuses.at(-1), 'stopped');
    const sleep = h.events.find(
      (e) =>
        e.type === 'tool_result' &&
        e.name === 'bash' &&
        /Interrupted|exit code: null|timed out/.test(e.output),
    );
    assert.ok(sleep, 'the running command was interrupted by stop');
    assert.ok(!h.server.requests.some((q) => JSON.stringify(q).includes('unreachable')));
  } finally {
    await h.close();
  }

  const capped = await startHarness({
    script: (_r, i) => tools(call('bash', { command: `echo ${i}` })),
    deps: { spendCap: { tokens: 3000 }, onSpendCap: async () => undefined },
  });
  try {
    const r = await capped.session.run();
    assert.equal(r.status, 'stopped');
    assert.match(r.status === 'stopped' ? r.reason : '', /token cap reached/);
    const paused = capped.events.find((e) => e.type === 'status' && e.status === 'paused');
    assert.ok(paused);
  } finally {
    await capped.close();
  }
});

test('hard deadline ends the session and runs the final reproduction; wrap-up comes first', async () => {
  let now = 0;
  const clock = { now: () => now };
  let finalRan = '';
  const h = await startHarness({
    script: (_req, i) => {
      now += 5 * 60_000; // each model call "takes" 5 minutes
      return tools(call('bash', { command: `echo step ${i}` }));
    },
    clock,
    budget: { totalMs: 60 * 60_000, softFraction: 0.75 },
    deps: {
      finalReproduction: async (reason) => {
        finalRan = reason;
        return { ok: true, output: 'reproduce.sh: ok' };
      },
    },
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.equal(r.status === 'done' && r.reason, 'deadline');
    assert.equal(finalRan, 'deadline');
    const wrap = h.server.requests.findIndex((q) => JSON.stringify(q).includes('Wrap up now'));
    assert.ok(wrap > 0 && wrap < h.server.requests.length - 1);
    assert.ok(
      h.events.some(
        (e) => e.type === 'tool_result' && e.name === 'final_reproduction' && e.output === 'reproduce.sh: ok',
      ),
    );
    const stages = h.events.flatMap((e) => (e.type === 'stage' ? [e.stage] : []));
    assert.deepEqual(stages, ['plan', 'implement', 'run', 'reproduce']);
  } finally {
    await h.close();
  }
});

test('a non-streaming endpoint works the same', async () => {
  const h = await startHarness({
    script: [
      tools(call('write_file', { path: 'n.txt', content: 'n' })),
      tools(call('end_task', { summary: 's' })),
    ],
    client: { stream: false },
  });

  try {
    assert.equal((await h.session.run()).status, 'done');
    assert.equal(readFileSync(join(h.sandbox.workdir, 'n.txt'), 'utf8'), 'n');
  } finally {
    await h.close();
  }
  void OpenAIModelClient;
});

test('with summarizeSplits the model writes part of the progress note; a replay rebuilds the same context', async () => {
  let summaries = 0;
  const h = await startHarness({
    script: (req, i) => {
      const last = req.messages.at(-1)!;
      if (last.role === 'user' && last.content?.startsWith('Your context is about to be condensed')) {
        summaries++;
        assert.equal(req.tool_choice, 'none');
        return reply(`SUMMARY-${summaries}: trained 3 models, accuracy 91%.`);
      }
      return i < 40 ? bigOutputStep(i) : tools(call('end_task', { summary: 'done' }));
    },
    server: { contextLimit: 12_000 },
    context: { contextLimit: 12_000, reserveOutput: 1000, keepTurns: 3, toolResultChars: 4000 },
    deps: { maxSteps: 200, summarizeSplits: true },
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'done');
    assert.ok(summaries >= 2, `summaries: ${summaries}`);
    assert.equal(h.server.overLimit, 0);
    const notes = h.server.requests
      .map((q) => q.messages[2]?.content ?? '')
      .filter((c) => c.startsWith('[Context window'));
    assert.ok(
      notes.some((n) => /## Your own summary of the previous window\nSUMMARY-1: trained 3 models/.test(n)),
    );
    // The summary request shares the prefix of the request before it (cache hit).
    const idx = h.server.requests.findIndex((q) =>
      q.messages.at(-1)?.content?.startsWith('Your context is about'),
    );
    assert.ok(h.server.cachedTokens[idx]! > 0.8 * h.server.promptTokens[idx]!);
    // Summary calls are billed but never enter the conversation.
    const summaryEvents = h.events.filter((e) => e.type === 'model_response' && e.purpose === 'summary');
    assert.equal(summaryEvents.length, summaries);
    const replayed = AgentSession.restore(
      h.deps,
      { tail: h.events, freshContext: h.freshContext },
      estimateCounter,
    );
    assert.deepEqual(replayed.context.messages(), h.session.context.messages());
    assert.deepEqual(replayed.totals, h.session.totals);
  } finally {
    await h.close();
  }
});

test('a crash between a tool call and its result: resume answers the call and goes on', async () => {
  const h = await startHarness({
    script: [
      tools(call('bash', { command: 'echo first' }), call('bash', { command: 'echo second' })),
      faults.unauthorized(),
    ],
  });
  try {
    await h.session.run();
    // The log as a crash would leave it: cut right after the second tool_call.
    const cut = h.events.findIndex((e) => e.type === 'tool_call' && e.args.includes('second'));
    const tail = h.events.slice(0, cut + 1);
    const h2 = await startHarness({
      sandbox: h.sandbox,
      script: [
        (req) => {
          const toolMsgs = req.messages.filter((m) => m.role === 'tool');
          assert.equal(toolMsgs.length, 2, 'both calls answered');
          assert.match(toolMsgs[0]!.content!, /^first\n\[exit code: 0\]/);
          assert.match(
            toolMsgs[1]!.content!,
            /^Interrupted: the session stopped before this tool call finished/,
          );
          return tools(call('end_task', { summary: 'ok' }));
        },
      ],
    });
    try {
      const resumed = AgentSession.restore(h2.deps, { tail, freshContext: h.freshContext }, estimateCounter);
      assert.deepEqual(await resumed.run(), { status: 'done', reason: 'end_task', summary: 'ok' });
    } finally {
      await h2.close();
    }
  } finally {
    await h.close();
  }
});

test('a provider outage longer than the client retries: the loop waits and goes on, then stops resumably', async () => {
  const e = faults.serverError();
  const h = await startHarness({
    script: [e, e, e, e, tools(call('end_task', { summary: 'back' }))],
    client: { maxRetries: 1 },
    deps: { outageWaitMs: 30, outageRetries: 2 },
  });
  try {
    assert.deepEqual(await h.session.run(), { status: 'done', reason: 'end_task', summary: 'back' });
    const waits = h.events.filter(
      (x) => x.type === 'error' && /Waiting 0 s before trying again \(\d\/2\)/.test(x.message),
    );
    assert.equal(waits.length, 2);
    assert.ok(waits.every((x) => x.type === 'error' && !x.fatal));
  } finally {
    await h.close();
  }
  const down = await startHarness({
    script: () => e,
    client: { maxRetries: 1 },
    deps: { outageWaitMs: 30, outageRetries: 2 },
  });
  try {
    const r = await down.session.run();
    assert.equal(r.status, 'stopped');
    assert.match(
      r.status === 'stopped' ? r.reason : '',
      /kept failing \(500[^)]*\) after 2 attempts\. The session is saved; resume it later\./,
    );
    assert.equal(down.server.requests.length, 6, '3 rounds of 2 attempts');
  } finally {
    await down.close();
  }
});

test('a context-length refusal that outlasts three splits stops resumable and names the setting to change', async () => {
  const h = await startHarness({
    script: [
      bigOutputStep(1),
      bigOutputStep(2),
      faults.contextLength(),
      faults.contextLength(),
      faults.contextLength(),
      faults.contextLength(),
    ],
  });
  try {
    const r = await h.session.run();
    assert.equal(r.status, 'stopped');
    const reason = r.status === 'stopped' ? r.reason : '';
    assert.doesNotMatch(reason, /internal error/);
    assert.match(reason, /--context-limit/);
    assert.match(reason, /klong\.model\.contextLimit/);
    assert.equal(h.server.requests.length, 6, 'three split retries, then it stops');
  } finally {
    await h.close();
  }
});
