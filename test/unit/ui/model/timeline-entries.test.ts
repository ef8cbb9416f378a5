import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEventBody } from '../../../../src/events/events';
import { detailFor, entryFor, plainTitle } from '../../../../src/ui/model/timeline-entries';

const response = (content: string): AgentEventBody => ({
  type: 'model_response',
  step: 3,
  message: {
    role: 'assistant',
    content,
    toolCalls: [{ id: 'c', name: 'bash', arguments: '{"command":"ls"}' }],
  },
  usage: { promptTokens: 10, cachedTokens: 0, completionTokens: 5 },
  costUsd: 0,
});

test('messages are marked as Markdown for the view; commands, outputs and usage stay plain text', () => {
  const sections = detailFor([
    response('## Plan\n\n- read'),
    { type: 'user_message', text: 'Use **small** data' },
    {
      type: 'tool_result',
      step: 3,
      callId: 'c',
      name: 'bash',
      ok: true,
      output: '# not a heading',
      durationMs: 5,
    },
  ]);
  assert.deepEqual(
    sections.map((s) => [s.label, s.markdown ?? false]),
    [
      ['Assistant', true],
      ['Tool call bash', false],
      ['Usage', false],
      ['Message', true],
      ['Output (ok, 0.0 s)', false],
    ],
  );
});

test('a Markdown message makes a plain row title', () => {
  assert.equal(
    plainTitle('## Plan\n\n1. read **Section 2** of [the paper](https://x.org)\n2. write `train.py`'),
    'Plan read Section 2 of the paper write train.py',
  );
  assert.equal(plainTitle('Cost is $5 * 2 and a_b_c'), 'Cost is $5 * 2 and a_b_c');
  const e = entryFor({ ...response('### Done: `reproduce.sh` works'), seq: 1, ts: 1 } as never);
  assert.equal(e?.title, 'Done: reproduce.sh works');
});
