import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { ContextManager, ContextOverflowError, capText } from '../../../src/agent/context';
import { buildHead } from '../../../src/agent/context/head';
import { estimateCounter, estimateTokens } from '../../../src/llm/tokens';
import type { ChatMessage } from '../../../src/llm/types';
import type { Paper, RubricNode } from '../../../src/paper/types';

function paperOf(sections: { title: string; body: string }[]): Paper {
  let md = '';
  const out: Paper['sections'] = [];
  sections.forEach((s, i) => {
    const start = md.length;
    md += `## ${i + 1} ${s.title}\n\n${s.body}\n\n`;
    out.push({ id: String(i + 1), title: s.title, level: 1, start, end: md.length });
  });
  return {
    title: 'A Test Paper',
    authors: ['A. Author'],
    abstract: 'We test things.',
    markdown: md,
    sections: out,
    source: 'x.md',
  };
}

function turn(i: number, outputChars = 200): ChatMessage[] {
  return [
    {
      role: 'assistant',
      content: `step ${i}`,
      toolCalls: [{ id: `c${i}`, name: 'bash', arguments: `{"command":"echo ${i}"}` }],
    },
    { role: 'tool', toolCallId: `c${i}`, content: `output ${i} `.repeat(outputChars / 10) },
  ];
}

test('a short paper is pinned whole; a long one as abstract + index + key sections', () => {
  const short = paperOf([{ title: 'Method', body: 'We do X.' }]);
  const h1 = buildHead({ systemPrompt: 'sys', task: 'Reproduce it.', paper: short }, estimateCounter);
  assert.equal(h1.length, 2);
  assert.equal(h1[0]!.content, 'sys');
  assert.ok(h1[1]!.content!.includes(short.markdown.trim()));

  const filler = (w: string) => `${w} `.repeat(3000);
  const long = paperOf([
    { title: 'Introduction', body: filler('intro') },
    { title: 'Related Work', body: filler('related') },
    { title: 'Method', body: `METHOD-CORE ${'method '.repeat(500)}` },
    { title: 'Experiments', body: `EXPERIMENT-SETUP ${'setup '.repeat(500)}` },
    { title: 'Appendix', body: filler('appendix') },
  ]);
  const h2 = buildHead(
    {
      systemPrompt: 'sys',
      task: 'Reproduce it.',
      paper: long,
      paperBudget: 2500,
      blacklist: ['github.com/x/y'],
    },
    estimateCounter,
  )[1]!.content!;
  assert.match(h2, /## Section index/);
  assert.match(h2, /\[5\] Appendix/);
  assert.match(h2, /METHOD-CORE/);
  assert.match(h2, /EXPERIMENT-SETUP/);
  assert.doesNotMatch(h2, /related related/);
  assert.match(h2, /use read_paper: .*2/);
  assert.match(h2, /github\.com\/x\/y/);
  assert.ok(estimateTokens(h2) < 2500 + 300);
});

test('the head carries the rubric as an outline with weights and categories', () => {
  const leaf = (id: string, w: number): RubricNode => ({
    id,
    requirements: `req ${id}`,
    weight: w,
    sub_tasks: [],
    task_category: 'Code Development',
    finegrained_task_category: null,
  });
  const root: RubricNode = {
    ...leaf('root', 1),
    requirements: 'Reproduce',
    sub_tasks: [{ ...leaf('a', 3), sub_tasks: [leaf('a1', 2)] }],
  };
  const head = buildHead(
    { systemPrompt: 'sys', task: 'task', paper: paperOf([{ title: 'M', body: 'x' }]), rubric: root },
    estimateCounter,
  )[1]!.content!;
  assert.match(head, /# Rubric \(how the reproduction will be graded\)\n\nRubric: 1 gradable requirements/);
  assert.match(head, /\n {2}- \[w3 100%\] \(dev\) req a\n {4}- \[w2 100%\] \(dev\) req a1/);
});

test('splits keep the head byte-identical, keep whole turns, and stay under the limit', () => {
  const head = buildHead(
    { systemPrompt: 'sys', task: 'task', paper: paperOf([{ title: 'M', body: 'x' }]) },
    estimateCounter,
  );
  const cm = new ContextManager(head, estimateCounter, {
    contextLimit: 4000,
    reserveOutput: 500,
    keepTurns: 3,
  });
  const headJson = JSON.stringify(cm.head);
  let splits = 0;
  for (let i = 0; i < 200; i++) {
    if (cm.needsSplit()) {
      const r = cm.split(`note at ${i}`);
      splits++;
      assert.ok(r.keptMessages > 0 && r.keptMessages <= 6);
      const body = cm.body;
      assert.equal(body[0]!.role, 'user');
      assert.match(body[0]!.content!, /note at/);
      assert.equal(body[1]!.role, 'assistant', 'overlap starts at a turn boundary');
      // every tool result follows its assistant call
      for (let k = 1; k < body.length; k++) {
        const m = body[k]!;
        if (m.role === 'tool') {
          const owner = body
            .slice(0, k)
            .reverse()
            .find((x) => x.role === 'assistant');
          assert.ok(
            owner && owner.role === 'assistant' && owner.toolCalls?.some((c) => c.id === m.toolCallId),
          );
        }
      }
    }
    cm.check();
    assert.equal(JSON.stringify(cm.messages().slice(0, 2)), headJson);
    for (const m of turn(i)) cm.append(m);
  }
  assert.ok(splits >= 5, `expected several splits, got ${splits}`);
});

test('check() refuses a request over the limit', () => {
  const cm = new ContextManager([{ role: 'system', content: 'x' }], estimateCounter, {
    contextLimit: 1000,
    reserveOutput: 100,
  });
  cm.append({ role: 'user', content: 'word '.repeat(2000) });
  assert.throws(() => cm.check(), ContextOverflowError);
});

test('tool results enter capped, head + tail with a note', () => {
  const cm = new ContextManager([], estimateCounter, { toolResultChars: 1000 });
  const out = `START${'x'.repeat(50_000)}END`;
  cm.appendToolResult('c1', out);
  const c = cm.body[0]!.content!;
  assert.ok(c.length < 1600);
  assert.ok(c.startsWith('START') && c.endsWith('END'));
  assert.match(c, /characters \(0 lines\) omitted/);
  assert.equal(capText('short', 10), 'short');
});

test('snapshot/restore round-trips and keeps counting', () => {
  const cm = new ContextManager([{ role: 'system', content: 'head' }], estimateCounter, {
    contextLimit: 3000,
    reserveOutput: 200,
  });
  for (let i = 0; i < 30; i++) for (const m of turn(i)) cm.append(m);
  cm.split('n');
  cm.observeUsage(100, 150);
  const snap = JSON.parse(JSON.stringify(cm.snapshot()));
  const back = ContextManager.restore(snap, estimateCounter);
  assert.deepEqual(back.messages(), cm.messages());
  assert.equal(back.tokens(), cm.tokens());
  assert.equal(back.window, 1);
  assert.ok(back.factor > 1.5);
});

test('the estimate does not under-count o200k on prose, code, JSON, logs and numbers', (t) => {
  const repo = join(__dirname, '..', '..', '..');
  const samples = [
    readFileSync(join(repo, 'README.md'), 'utf8'),
    readFileSync(join(repo, 'src', 'agent', 'context', 'index.ts'), 'utf8'),
    readFileSync(join(repo, 'package.json'), 'utf8'),
    Array.from({ length: 300 }, (_, i) => `epoch ${i} loss=${(1 / (i + 1)).toFixed(4)} lr=1e-4`).join('\n'),
    Array.from({ length: 1000 }, (_, i) => (i * 0.12345).toFixed(5)).join(' '),
  ];
  for (const s of samples) {
    const ratio = (estimateTokens(s) * 1.1) / countTokens(s);
    t.diagnostic(`estimate/o200k = ${ratio.toFixed(2)}`);
    assert.ok(ratio >= 1 && ratio < 1.7, `ratio ${ratio}`);
  }
});
