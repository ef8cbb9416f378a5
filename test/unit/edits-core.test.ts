import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diff3Merge } from 'node-diff3';
import { diff3Regions } from '../../src/edits/diff3';
import { applyHunks, computeHunks, describeHunk, statsOf } from '../../src/edits/hunks';
import { merge3 } from '../../src/edits/merge';
import { decodeText, dominantEol, fromString, splitLines, toStyle } from '../../src/edits/text';

const lines = (n: number, f = (i: number) => `line ${i}`) =>
  Array.from({ length: n }, (_, i) => `${f(i + 1)}\n`).join('');

test('splitLines keeps terminators and a last line without newline', () => {
  assert.deepEqual(splitLines('a\nb\nc'), ['a\n', 'b\n', 'c']);
  assert.deepEqual(splitLines('a\n'), ['a\n']);
  assert.deepEqual(splitLines(''), []);
});

test('decodeText normalises CRLF and remembers the style; binary is null', () => {
  const d = decodeText(new TextEncoder().encode('\ufeffa\r\nb\r\nc\n'));
  assert.deepEqual(d, { text: 'a\nb\nc\n', eol: '\r\n', bom: true });
  assert.equal(toStyle(d!.text, d!), '\ufeffa\r\nb\r\nc\r\n');
  assert.equal(decodeText(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2])), null);
  assert.equal(decodeText(new Uint8Array([0xff, 0xfe, 0xfd])), null, 'invalid UTF-8 is not text');
  assert.equal(dominantEol('a\nb\n'), '\n');
  assert.equal(fromString('x\r\ny').eol, '\r\n');
});

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

test('diff3Regions agrees with node-diff3 on random three-way edits', () => {
  let seed = 11;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const edit = (base: string[], tag: string, shared: string[][]) => {
    const out = [...base];
    for (let k = 0, n = 1 + rnd(5); k < n; k++) {
      const at = rnd(out.length + 1);
      const op = rnd(4);
      if (op === 0 && out.length) out.splice(Math.min(at, out.length - 1), 1 + rnd(2));
      else if (op === 1) out.splice(at, 0, `${tag}${k}\n`);
      else if (op === 2 && at < out.length) out[at] = `${tag}${k}*\n`;
      else if (shared.length) out.splice(at, 1, ...shared[rnd(shared.length)]!);
    }
    return out;
  };
  const norm = (rs: { ok?: string[]; conflict?: { a: string[]; o: string[]; b: string[] } }[]) => {
    const out: unknown[] = [];
    for (const r of rs) {
      if (r.ok) {
        const last = out[out.length - 1] as { ok?: string[] } | undefined;
        if (last?.ok) last.ok.push(...r.ok);
        else if (r.ok.length) out.push({ ok: [...r.ok] });
      } else if (r.conflict) out.push({ conflict: { a: r.conflict.a, o: r.conflict.o, b: r.conflict.b } });
    }
    return out;
  };
  let conflicts = 0;
  for (let trial = 0; trial < 300; trial++) {
    const o = Array.from({ length: 5 + rnd(30) }, (_, i) => `l${i}\n`);
    const shared = [[`same${trial}\n`], [`both${trial}\n`, `both${trial}b\n`]];
    const a = edit(o, 'a', shared);
    const b = edit(o, 'b', shared);
    const ours = norm(diff3Regions(a, o, b) as never);
    const ref = norm(diff3Merge(a, o, b, { excludeFalseConflicts: true }) as never);
    assert.deepEqual(ours, ref, `trial ${trial}: ${JSON.stringify({ o, a, b })}`);
    if (ours.some((r) => (r as { conflict?: unknown }).conflict)) conflicts++;
  }
  assert.ok(conflicts > 30, `the random cases include conflicts (${conflicts})`);
});
