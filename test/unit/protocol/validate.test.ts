import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isExternalUrl } from '../../../src/protocol/links';
import { fromPaperSchema, paperViewStateSchema, toPaperSchema } from '../../../src/protocol/paper';
import { fromProgressSchema, TIMELINE_PAGE_MAX, toProgressSchema } from '../../../src/protocol/progress';
import { capText, receive } from '../../../src/protocol/validate';
import { initialState } from '../../../src/ui/model/session-model';

function logs(): { lines: string[]; log: (m: string) => void } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(m) };
}

test('valid messages from the progress view pass through typed', () => {
  const { lines, log } = logs();
  assert.deepEqual(
    receive(fromProgressSchema, { type: 'timeline/range', start: 100, end: 300 }, log, 'view'),
    {
      type: 'timeline/range',
      start: 100,
      end: 300,
    },
  );
  assert.deepEqual(
    receive(fromProgressSchema, { type: 'proposal', action: 'accept', path: 'src/a.py' }, log, 'view'),
    {
      type: 'proposal',
      action: 'accept',
      path: 'src/a.py',
    },
  );
  assert.deepEqual(lines, []);
});

test('invalid messages are dropped and logged with the reason', () => {
  const { lines, log } = logs();
  const bad: unknown[] = [
    null,
    'ready',
    { type: 'nope' },
    { type: 'timeline/range', start: 0, end: TIMELINE_PAGE_MAX + 1 }, // too many rows at once
    { type: 'timeline/range', start: 10, end: 5 },
    { type: 'timeline/range', start: -1, end: 5 },
    { type: 'timeline/detail', index: 1.5 },
    { type: 'proposal', action: 'delete-everything', path: 'a' },
    { type: 'proposal', action: 'accept', path: '' },
    { type: 'session', action: 'reboot' },
  ];
  for (const raw of bad)
    assert.equal(receive(fromProgressSchema, raw, log, 'the progress view'), undefined, JSON.stringify(raw));
  assert.equal(lines.length, bad.length);
  assert.match(lines[3]!, /dropped an invalid message from the progress view \(type timeline\/range\)/);
  assert.match(lines[3]!, /at most 500 rows/);
  assert.match(lines[7]!, /action/);
});

test('the whole state and partial updates validate; wrong fields do not', () => {
  const s = initialState();
  assert.ok(toProgressSchema.safeParse({ type: 'state', full: true, state: s }).success);
  assert.ok(toProgressSchema.safeParse({ type: 'state', full: false, state: { status: 'paused' } }).success);
  assert.ok(
    !toProgressSchema.safeParse({ type: 'state', full: false, state: { status: 'sleeping' } }).success,
  );
  assert.ok(!toProgressSchema.safeParse({ type: 'state', full: false, state: { grade: 1.5 } }).success);
  const rubric = {
    id: 'r',
    requirements: 'root',
    weight: 1,
    category: null,
    score: 0.5,
    children: [
      { id: 'a', requirements: 'leaf', weight: 2, category: 'Code Development', score: 1, children: [] },
    ],
  };
  assert.ok(toProgressSchema.safeParse({ type: 'state', full: false, state: { rubric } }).success);
  const badRubric = { ...rubric, children: [{ ...rubric.children[0], score: 2 }] };
  assert.ok(
    !toProgressSchema.safeParse({ type: 'state', full: false, state: { rubric: badRubric } }).success,
  );
});

test('paper messages: bytes must be a Uint8Array, not a plain object', () => {
  const base = {
    type: 'paper/load',
    uri: 'file:///p.pdf',
    title: 'P',
    sections: [{ id: '1', title: 'Intro', level: 1 }],
  };
  assert.ok(toPaperSchema.safeParse({ ...base, data: new Uint8Array([37, 80, 68, 70]) }).success);
  // What a Node Buffer becomes after postMessage in VS Code: a plain object.
  const { lines, log } = logs();
  assert.equal(receive(toPaperSchema, { ...base, data: { 0: 37, 1: 80 } }, log, 'the extension'), undefined);
  assert.match(lines[0]!, /Uint8Array/);
  assert.ok(
    !toPaperSchema.safeParse({
      ...base,
      data: new Uint8Array(1),
      sections: [{ id: '', title: 'x', level: 1 }],
    }).success,
  );
  assert.ok(fromPaperSchema.safeParse({ type: 'paper/page', page: 3, zoom: 1.2 }).success);
  assert.ok(!fromPaperSchema.safeParse({ type: 'paper/page', page: 0, zoom: 1.2 }).success);
  assert.ok(!fromPaperSchema.safeParse({ type: 'paper/page', page: 1, zoom: 50 }).success);
});

test('capText keeps head and tail and says how much was cut', () => {
  assert.deepEqual(capText('short', 100), { text: 'short', truncated: false });
  const long = `${'a'.repeat(5000)}MIDDLE${'z'.repeat(5000)}`;
  const c = capText(long, 1000);
  assert.equal(c.truncated, true);
  assert.ok(c.text.startsWith('a'.repeat(600)));
  assert.ok(c.text.endsWith('z'.repeat(400)));
  assert.match(c.text, /9,006 characters not shown/);
  assert.ok(!c.text.includes('MIDDLE'));
});

test('link/open from either webview: only absolute http(s) and mailto URLs reach the host', () => {
  for (const schema of [fromPaperSchema, fromProgressSchema]) {
    for (const url of [
      'https://arxiv.org/abs/2602.17547',
      'http://127.0.0.1:8080/x?y=1#z',
      'mailto:a@b.org',
    ]) {
      assert.deepEqual(receive(schema, { type: 'link/open', url }, logs().log, 'view'), {
        type: 'link/open',
        url,
      });
    }
    for (const url of [
      'javascript:alert(1)',
      'JavaScript:alert(1)',
      'file:///etc/passwd',
      'command:workbench.action.terminal.new',
      'vscode://ms-python.python/x',
      'data:text/html,<script>1</script>',
      '/relative/path',
      '#fragment',
      'https://',
      `https://example.org/${'a'.repeat(5000)}`,
    ]) {
      const { lines, log } = logs();
      assert.equal(receive(schema, { type: 'link/open', url }, log, 'the webview'), undefined, url);
      assert.match(lines[0]!, /dropped an invalid message from the webview \(type link\/open\): url:/);
    }
    assert.equal(receive(schema, { type: 'link/open' }, logs().log, 'view'), undefined);
    assert.equal(receive(schema, { type: 'link/open', url: 42 }, logs().log, 'view'), undefined);
  }
  assert.equal(isExternalUrl('mailto:'), false);
  assert.equal(isExternalUrl('https://example.org'), true);
});

test('paper/markdown carries the text and sections; a restored state may name its source', () => {
  const md = {
    type: 'paper/markdown',
    uri: 'file:///p/paper.md',
    source: 'https://example.org/paper.md',
    title: 'P',
    markdown: '# P\n\ntext',
    sections: [{ id: '1', title: 'P', level: 1 }],
  };
  assert.ok(toPaperSchema.safeParse(md).success);
  assert.ok(!toPaperSchema.safeParse({ ...md, markdown: 7 }).success);
  assert.ok(!toPaperSchema.safeParse({ ...md, source: '' }).success);
  const state = { uri: 'file:///p.pdf', title: 'P', sections: [], page: 1, zoom: 1 };
  assert.ok(paperViewStateSchema.safeParse(state).success, 'states saved before the source field still load');
  assert.ok(paperViewStateSchema.safeParse({ ...state, source: '2602.17547' }).success);
});
