import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diff3Merge } from 'node-diff3';
import { diff3Regions } from '../../../src/edits/diff3';

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
