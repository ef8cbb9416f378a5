/**
 * Proposed edits on a 10,000-line file with 100 scattered changes: computing the hunks (jsdiff's
 * Myers diff) and rendering them (the unified text a reviewer reads + the proposal document), against
 * naive approaches measured in the same run: an O(n·m) LCS table for computing, and a positional
 * line-by-line compare (no alignment) for what a reviewer gets to read.
 */
import { formatPatch } from 'diff';
import { diff3Merge } from 'node-diff3';
import { applyHunks, computeHunks } from '../src/edits/hunks';
import { merge3 } from '../src/edits/merge';
import { splitLines } from '../src/edits/text';
import { type BenchRow, median, row } from './types';

const N = 10_000;
const CHANGES = 100;

function fixture(): { before: string; after: string } {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const a = Array.from(
    { length: N },
    (_, i) => `    value_${i} = compute(${i % 97}, scale=${i % 13})  # step ${i}\n`,
  );
  const b = [...a];
  // 100 changes spread over the file: replacements, insertions and deletions.
  const at = Array.from({ length: CHANGES }, (_, k) => Math.floor(((k + 0.5) * N) / CHANGES) + rnd(20) - 10);
  for (const [k, i] of at.sort((x, y) => y - x).entries()) {
    const op = k % 3;
    if (op === 0) b[i] = `    value_${i} = compute_fast(${i % 97})  # changed\n`;
    else if (op === 1) b.splice(i, 0, `    log(value_${i})  # inserted\n`);
    else b.splice(i, 1);
  }
  return { before: a.join(''), after: b.join('') };
}

function time(fn: () => unknown, runs: number): number {
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    fn();
    ts.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(ts);
}

interface NaiveHunk {
  oldStart: number;
  newStart: number;
  lines: string[];
}

/** Textbook LCS dynamic programme over lines (O(n·m) time and memory), grouped into hunks. */
function naiveLcsHunks(before: string, after: string): NaiveHunk[] {
  const a = before.split('\n');
  const b = after.split('\n');
  const ids = new Map<string, number>();
  const id = (s: string) => {
    const v = ids.get(s);
    if (v !== undefined) return v;
    ids.set(s, ids.size);
    return ids.size - 1;
  };
  const x = Int32Array.from(a, id);
  const y = Int32Array.from(b, id);
  const n = x.length;
  const m = y.length;
  const w = m + 1;
  const t = new Uint16Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      t[i * w + j] =
        x[i] === y[j] ? t[(i + 1) * w + j + 1]! + 1 : Math.max(t[(i + 1) * w + j]!, t[i * w + j + 1]!);
    }
  }
  const hunks: NaiveHunk[] = [];
  let cur: NaiveHunk | null = null;
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      cur = null;
      i++;
      j++;
    } else {
      cur ??= hunks[hunks.push({ oldStart: i + 1, newStart: j + 1, lines: [] }) - 1]!;
      if (j < m && (i >= n || t[i * w + j + 1]! >= t[(i + 1) * w + j]!)) cur.lines.push(`+${b[j++]}`);
      else cur.lines.push(`-${a[i++]}`);
    }
  }
  return hunks;
}

/** Positional compare: line i against line i, no alignment; one insertion shifts every line after it. */
function positionalRender(before: string, after: string): string {
  const a = before.split('\n');
  const b = after.split('\n');
  const out: string[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === b[i]) continue;
    if (a[i] !== undefined) out.push(`-${a[i]}`);
    if (b[i] !== undefined) out.push(`+${b[i]}`);
  }
  return out.join('\n');
}

function renderOurs(before: string, after: string): { text: string; doc: string } {
  const hunks = computeHunks(before, after);
  const text = formatPatch({
    oldFileName: 'a/model.py',
    newFileName: 'b/model.py',
    oldHeader: '',
    newHeader: '',
    hunks,
  });
  return { text, doc: after };
}

const changedLines = (text: string) => text.split('\n').filter((l) => /^[+-](?![+-]{2} )/.test(l)).length;

export default async function bench(): Promise<BenchRow[]> {
  const { before, after } = fixture();
  const hunks = computeHunks(before, after);
  if (applyHunks(before, after, hunks, () => true) !== after)
    throw new Error('hunks do not reproduce the proposal');
  const naive = naiveLcsHunks(before, after);
  const naiveChanged = naive.reduce((s, h) => s + h.lines.length, 0);
  const ourChanged = hunks.reduce((s, h) => s + h.additions + h.deletions, 0);
  if (naiveChanged !== ourChanged)
    throw new Error(`minimal diffs disagree: ${ourChanged} vs ${naiveChanged} lines`);

  const compute = time(() => computeHunks(before, after), 9);
  const computeNaive = time(() => naiveLcsHunks(before, after), 3);
  const render = time(() => renderOurs(before, after), 9);
  const renderNaive = time(() => positionalRender(before, after), 9);
  const shown = changedLines(renderOurs(before, after).text);
  const shownNaive = changedLines(positionalRender(before, after));

  // Accepting one hunk then re-diffing what is left, as a per-hunk click does.
  const acceptOne = time(() => {
    const mid = applyHunks(before, after, hunks, (h) => h.index === 50);
    computeHunks(mid, after);
  }, 9);
  const ours = before.replace('value_5 = compute(5', 'value_5 = compute_user(5');
  const merge = time(() => merge3(before, ours, after), 3);
  const [mo, ma, mb] = [splitLines(before), splitLines(ours), splitLines(after)];
  const mergeLib = time(() => diff3Merge(ma, mo, mb, { excludeFalseConflicts: true }), 3);

  return [
    row(
      'edits: compute hunks, 10k lines / 100 changes',
      'ms',
      compute,
      computeNaive,
      { max: 0.1 },
      `baseline: O(n·m) LCS table; ${hunks.length} hunks, ${ourChanged} changed lines (both minimal)`,
    ),
    row(
      'edits: render diff (unified text + proposal doc)',
      'ms',
      render,
      renderNaive,
      { max: 50, label: '≤ 50× (it aligns lines)' },
      'baseline: positional line-by-line compare (no alignment); ours includes computing the hunks',
    ),
    row(
      'edits: lines a reviewer must read',
      'lines',
      shown,
      shownNaive,
      { max: 0.1 },
      'baseline: positional compare flags every line after an insertion/deletion',
    ),
    row(
      'edits: accept one hunk + re-diff the rest',
      'ms',
      acceptOne,
      computeNaive,
      { max: 0.1 },
      'baseline: recomputing with the LCS table',
    ),
    row(
      'edits: three-way merge with a user change',
      'ms',
      merge,
      mergeLib,
      { max: 0.5 },
      'baseline: node-diff3 diff3Merge (quadratic LCS) on the same three texts',
    ),
  ];
}
