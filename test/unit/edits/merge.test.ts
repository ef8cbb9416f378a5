import assert from 'node:assert/strict';
import { test } from 'node:test';
import { merge3 } from '../../../src/edits/merge';
import { splitLines } from '../../../src/edits/text';

const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');

test('merge3: changes in different places merge cleanly', () => {
  const base = lines(30);
  const ours = base.replace('line 2\n', 'line two (user)\n');
  const theirs = base.replace('line 25\n', 'line 25 (agent)\n');
  const m = merge3(base, ours, theirs);
  assert.equal(m.clean, true);
  assert.equal(
    m.text,
    base.replace('line 2\n', 'line two (user)\n').replace('line 25\n', 'line 25 (agent)\n'),
  );
});

test('merge3: overlapping changes give markers and regions, with both sides kept', () => {
  const base = 'a\nb\nc\n';
  const m = merge3(base, 'a\nB-user\nc\n', 'a\nB-agent\nc\n');
  assert.equal(m.clean, false);
  assert.equal(m.conflicts.length, 1);
  assert.equal(
    m.text,
    'a\n<<<<<<< yours (workspace)\nB-user\n||||||| base\nb\n=======\nB-agent\n>>>>>>> agent proposal\nc\n',
  );
  const c = m.conflicts[0]!;
  assert.deepEqual([c.ours, c.base, c.theirs], ['B-user\n', 'b\n', 'B-agent\n']);
  assert.equal(splitLines(m.text)[c.startLine], '<<<<<<< yours (workspace)\n');
  assert.equal(splitLines(m.text)[c.endLine], '>>>>>>> agent proposal\n');
});

test('merge3: the same change on both sides is not a conflict; a missing final newline gets its own marker line', () => {
  assert.deepEqual(merge3('a\nb\n', 'a\nX\n', 'a\nX\n'), { clean: true, text: 'a\nX\n', conflicts: [] });
  const m = merge3('a\nb', 'a\nuser', 'a\nagent');
  assert.equal(m.clean, false);
  assert.ok(m.text.includes('user\n||||||| base\nb\n=======\nagent\n>>>>>>>'));
});
