/**
 * Real endpoints' ways through the whole loop (scripted model over real HTTP, DirSandbox): lenient
 * tool arguments reach the tools, an unparseable call gets an error the model acts on and the
 * session goes on, reasoning stays in the log but out of the next request, and a stream without
 * usage is estimated and marked.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentSession } from '../../src/agent/loop';
import { ProgressLine } from '../../src/cli/progress';
import type { AgentEventBody } from '../../src/events/events';
import { estimateCounter } from '../../src/llm/tokens';
import { startHarness } from '../support/agent-harness';
import { type ChatBody, call, lastObservation, tools } from '../support/model-server';

const REASONING = 'The file is written; now I should run it.';

/** An Ollama-style stream: `reasoning` deltas, the whole tool call in one chunk, no usage chunk. */
function ollamaStream(model: string) {
  const env = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1765000000, model };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    ...env,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const args = JSON.stringify({ command: 'python3 hello.py' });
  return {
    kind: 'recorded' as const,
    sse: [
      chunk({ role: 'assistant', content: '', reasoning: REASONING.slice(0, 20) }),
      chunk({ role: 'assistant', content: '', reasoning: REASONING.slice(20) }),
      chunk({
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_x1', index: 0, type: 'function', function: { name: 'bash', arguments: args } },
        ],
      }),
      chunk({ role: 'assistant', content: '' }, 'tool_calls'),
      '[DONE]',
    ],
  };
}

test('lenient arguments, a malformed call, reasoning and missing usage through the agent loop', async () => {
  const seen: string[] = [];
  const observe =
    <T>(step: T) =>
    (req: ChatBody) => {
      seen.push(lastObservation(req));
      return step;
    };
  const fenced = `\`\`\`json\n${JSON.stringify({ path: 'notes.md', content: 'plan\n' })}\n\`\`\``;
  const h = await startHarness({
    budget: { reminderEverySteps: 1000 }, // observations are the tool results, not reminders
    script: [
      // Double-encoded plan with plain-string items.
      tools(call('update_plan', JSON.stringify(JSON.stringify({ items: ['write hello.py', 'run it'] })))),
      // Fenced arguments with a stray end token.
      observe(tools(call('write_file', `${fenced}<|call|>`))),
      // Cut off mid-string: nothing can be recovered.
      observe(tools(call('write_file', '{"path": "hello.py", "content": "print(\'hello'))),
      observe(tools(call('write_file', { path: 'hello.py', content: "print('hello 42')\n" }))),
      observe(ollamaStream('test-model')),
      observe(tools(call('end_task', { summary: 'done' }))),
    ],
  });
  try {
    const r = await h.session.run();
    assert.deepEqual(r, { status: 'done', reason: 'end_task', summary: 'done' });
    assert.equal(h.server.exhausted, 0);

    const plan = h.events.find((e) => e.type === 'plan');
    assert.deepEqual(plan && plan.type === 'plan' ? plan.items : undefined, [
      { text: 'write hello.py', status: 'todo' },
      { text: 'run it', status: 'todo' },
    ]);
    assert.match(seen[0]!, /Plan updated: 2 items/);
    assert.equal(readFileSync(join(h.sandbox.workdir, 'notes.md'), 'utf8'), 'plan\n');
    assert.match(seen[1]!, /Created notes\.md/);
    // The malformed call: an error naming what to send, then the session went on.
    assert.match(seen[2]!, /The arguments of write_file are not valid JSON/);
    assert.match(seen[2]!, /Expected arguments: \{"path": string, "content": string\}/);
    assert.match(seen[2]!, /Example: \{"path":"…","content":"…"\}/);
    const bad = h.events.filter((e) => e.type === 'tool_result' && !e.ok);
    assert.equal(bad.length, 1);
    assert.equal(readFileSync(join(h.sandbox.workdir, 'hello.py'), 'utf8'), "print('hello 42')\n");
    assert.match(seen[4]!, /hello 42\n\[exit code: 0\]/);

    // Reasoning: in the log, not in the context, not in the next request.
    const withReasoning = h.events.filter(
      (e): e is Extract<AgentEventBody, { type: 'model_response' }> =>
        e.type === 'model_response' && e.reasoning !== undefined,
    );
    assert.equal(withReasoning.length, 1);
    assert.equal(withReasoning[0]!.reasoning, REASONING);
    assert.equal((withReasoning[0]!.message as { reasoning?: string }).reasoning, undefined);
    const after = JSON.stringify(h.server.requests[5]!.messages);
    assert.ok(after.includes('python3 hello.py'), 'the call itself goes back');
    assert.ok(!after.includes('now I should run it'), 'its reasoning does not');
    // No usage in that stream: estimated, marked, and shown with "~".
    const usages = h.events.flatMap((e) => (e.type === 'model_response' ? [e.usage] : []));
    assert.equal(usages.filter((u) => u.estimated).length, 1);
    assert.ok(withReasoning[0]!.usage.estimated && withReasoning[0]!.usage.promptTokens > 500);
    assert.ok(withReasoning[0]!.costUsd > 0, 'the estimate is priced too');
    const line = new ProgressLine({ write: () => {} }, 3600_000, () => 0);
    for (const e of h.events) line.onEvent(e);
    assert.match(line.line(), / ~\d[\d.]*k? tok /);

    // A replay of the log rebuilds the same context (the reasoning stays out of it).
    const replayed = AgentSession.restore(
      h.deps,
      { freshContext: h.freshContext, tail: h.events },
      estimateCounter,
    );
    assert.deepEqual(replayed.context.messages(), h.session.context.messages());
  } finally {
    await h.close();
  }
});
