import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  headingId,
  type MdElement,
  type MdNode,
  parseMarkdown,
  safeHref,
  textOf,
} from '../../../../webview-ui/shared/markdown';

/** Every element of a tree, depth first. */
function elements(nodes: MdNode[]): MdElement[] {
  return nodes.flatMap((n) => (typeof n === 'string' ? [] : [n, ...elements(n.children)]));
}
const tags = (nodes: MdNode[]) => new Set(elements(nodes).map((e) => e.tag));

test('headings, lists, code and links become their elements', () => {
  const tree = parseMarkdown(
    '## Plan\n\n- read the paper\n- write `train.py`\n\n```python\nprint("hi")\n```\n\nSee [the repo](https://example.org/repo).',
  );
  const all = elements(tree);
  const h2 = all.find((e) => e.tag === 'h2');
  assert.equal(h2 && textOf([h2]), 'Plan');
  assert.equal(h2?.attrs.id, 'md-plan');
  assert.deepEqual(
    all.filter((e) => e.tag === 'li').map((e) => textOf([e])),
    ['read the paper', 'write train.py'],
  );
  const pre = all.find((e) => e.tag === 'pre');
  assert.equal(pre && textOf([pre]), 'print("hi")\n');
  assert.equal(elements(pre?.children ?? []).find((e) => e.tag === 'code')?.attrs.class, 'language-python');
  const a = all.find((e) => e.tag === 'a');
  assert.equal(a?.attrs.href, 'https://example.org/repo');
  assert.equal(a && textOf([a]), 'the repo');
});

test('raw HTML stays text: no script, handler or style ever becomes an element or attribute', () => {
  const src = [
    '<script>alert(1)</script>',
    '',
    'inline <img src=x onerror=alert(2)> and <b onclick="x()">bold</b>',
    '',
    '<div style="position:fixed">block</div>',
    '',
    '<iframe src="evil.html"></iframe>',
  ].join('\n');
  const tree = parseMarkdown(src);
  for (const t of tags(tree)) assert.ok(['p'].includes(t), `unexpected element <${t}>`);
  for (const e of elements(tree)) assert.deepEqual(e.attrs, {}, `attributes on <${e.tag}>`);
  const text = textOf(tree);
  assert.match(text, /<script>alert\(1\)<\/script>/);
  assert.match(text, /<img src=x onerror=alert\(2\)>/);
  assert.match(text, /<iframe src="evil\.html"><\/iframe>/);
});

test('links keep an href only for http(s), mailto and #fragments', () => {
  const tree = parseMarkdown(
    [
      '[js](javascript:alert(1)) [vb](vbscript:x) [data](data:text/html;base64,PHNjcmlwdD4=)',
      '[file](file:///etc/passwd) [rel](../secrets.md) [cmd](command:workbench.action.quit)',
      '[web](https://example.org/a?b=1) [mail](mailto:ada@example.org) [frag](#method)',
      '![pixel](https://tracker.example/p.png) ![local](./plot.png) www.example.com',
    ].join('\n'),
  );
  const hrefs = elements(tree)
    .filter((e) => e.tag === 'a')
    .map((e) => e.attrs.href);
  assert.deepEqual(hrefs, [
    'https://example.org/a?b=1',
    'mailto:ada@example.org',
    '#method',
    'https://tracker.example/p.png',
    'http://www.example.com/',
  ]);
  // No image element: an image is a link to it (the webview loads nothing remote).
  assert.ok(!tags(tree).has('img'));
  const text = textOf(tree);
  assert.match(text, /\[js\]\(javascript:alert\(1\)\)/, 'a refused link shows as the text it was');
  assert.match(text, /\[local\]/);
  assert.match(text, /cmd/);
});

test('math stays as written: underscores and stars are not emphasis', () => {
  const tree = parseMarkdown(
    'The loss $L = \\sum_i w_i * x_i$ and \\(a_b\\) cost $5 or $6.\n\n$$\n\\hat{y}_t = \\frac{1}{n} \\sum_{k} y_k\n$$\n',
  );
  const maths = elements(tree).filter((e) => e.attrs.class?.startsWith('math'));
  assert.deepEqual(
    maths.map((e) => [e.tag, e.attrs.class, textOf([e])]),
    [
      ['span', 'math', 'L = \\sum_i w_i * x_i'],
      ['span', 'math', 'a_b'],
      ['div', 'math display', '\\hat{y}_t = \\frac{1}{n} \\sum_{k} y_k'],
    ],
  );
  assert.ok(!tags(tree).has('em'), 'no emphasis made from the math');
  assert.match(textOf(tree), /cost \$5 or \$6\./, 'money is not math');
});

test('safeHref and headingId', () => {
  assert.equal(safeHref(' https://example.org '), 'https://example.org/');
  assert.equal(safeHref('JAVASCRIPT:alert(1)'), undefined);
  assert.equal(safeHref('#x y'), undefined);
  assert.equal(safeHref('https://'), undefined);
  assert.equal(safeHref(null), undefined);
  assert.equal(headingId('2.1 Résumé: the *Method*!'), 'md-21-résumé-the-method');
  assert.equal(headingId('app'), 'md-app', 'never a bare id that could clobber #app');
});

test('a long message parses in bounded time and keeps all its text', () => {
  const para = 'word '.repeat(50);
  const src = Array.from({ length: 2000 }, (_, i) => `### Step ${i}\n\n${para}\n`).join('\n');
  const tree = parseMarkdown(src);
  assert.equal(elements(tree).filter((e) => e.tag === 'h3').length, 2000);
});
