import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyHunks, computeHunks, describeHunk, statsOf } from '../../../src/edits/hunks';
import { splitLines } from '../../../src/edits/text';

const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');

test('hunks: scattered changes give separate hunks; applying all gives after, none gives before', () => {
  const before = lines(200);
  const after = before.replace('line 10\n', 'line ten\n').replace('line 150\n', 'line 150\nnew line\n');
  const hunks = computeHunks(before, after);
  assert.equal(hunks.length, 2);
  assert.deepEqual(statsOf(hunks), { additions: 2, deletions: 1 });
  assert.equal(
    applyHunks(before, after, hunks, () => true),
    after,
  );
  assert.equal(
    applyHunks(before, after, hunks, () => false),
    before,
  );
  const onlyFirst = applyHunks(before, after, hunks, (h) => h.index === 0);
  assert.ok(onlyFirst.includes('line ten\n') && !onlyFirst.includes('new line'));
  const onlySecond = applyHunks(before, after, hunks, (h) => h.index === 1);
  assert.ok(!onlySecond.includes('line ten') && onlySecond.includes('line 150\nnew line\nline 151'));
  assert.equal(hunks[0]!.anchorLine, 9, 'anchor is the first changed line of the proposal (0-based)');
  assert.equal(describeHunk(hunks[0]!), 'line 10');
  assert.equal(describeHunk(hunks[1]!), 'line 151');
});

test('hunks: missing final newline on either side survives any subset', () => {
  const before = 'a\nb\nc';
  const after = 'A\nb\nc\n';
  const hunks = computeHunks(before, after, { context: 0 });
  assert.equal(hunks.length, 2);
  assert.equal(
    applyHunks(before, after, hunks, () => true),
    after,
  );
  assert.equal(
    applyHunks(before, after, hunks, (h) => h.index === 0),
    'A\nb\nc',
  );
  assert.equal(
    applyHunks(before, after, hunks, (h) => h.index === 1),
    'a\nb\nc\n',
  );
});

test('hunks: insertion at the start, into an empty file, and deleting everything', () => {
  for (const [before, after] of [
    ['x\ny\n', 'new\nx\ny\n'],
    ['', 'a\nb\n'],
    ['a\nb\n', ''],
    ['a\n', 'a\nb'],
  ] as const) {
    for (const context of [0, 3]) {
      const hunks = computeHunks(before, after, { context });
      assert.equal(
        applyHunks(before, after, hunks, () => true),
        after,
        `${JSON.stringify([before, after])}`,
      );
      assert.equal(
        applyHunks(before, after, hunks, () => false),
        before,
      );
    }
  }
});

test('hunks: random edits round-trip for every subset of hunks', () => {
  let seed = 7;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let trial = 0; trial < 40; trial++) {
    const a = splitLines(lines(60, (i) => `l${i % 7}`));
    const b = [...a];
    for (let k = 0; k < 6; k++) {
      const at = rnd(b.length);
      const op = rnd(3);
      if (op === 0) b.splice(at, 1);
      else if (op === 1) b.splice(at, 0, `ins${k}\n`);
      else b[at] = `mod${k}\n`;
    }
    const before = a.join('');
    const after = b.join('');
    const hunks = computeHunks(before, after, { context: rnd(4) });
    assert.equal(
      applyHunks(before, after, hunks, () => true),
      after,
    );
    // Applying a subset, then the rest as a new diff, also lands on `after`.
    const mid = applyHunks(before, after, hunks, (h) => h.index % 2 === 0);
    const rest = computeHunks(mid, after);
    assert.equal(
      applyHunks(mid, after, rest, () => true),
      after,
    );
  }
});
