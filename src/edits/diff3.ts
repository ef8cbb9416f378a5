/**
 * diff3 regions over line arrays, on top of jsdiff's O(ND) diff. node-diff3's LCS is quadratic
 * (20,000 lines: ~5 s per side, in the extension host's only thread); this is the same classic
 * algorithm (changes of each side against the base, overlapping or touching ones grouped into one
 * region, a region changed identically on both sides is not a conflict) at the cost of two diffs.
 * The unit tests check it against node-diff3 on random inputs.
 */
import { diffArrays } from 'diff';

export type Diff3Region = { ok: string[] } | { conflict: { a: string[]; o: string[]; b: string[] } };

interface Change {
  /** Base range [oStart, oEnd) replaced by side range [sStart, sEnd). */
  oStart: number;
  oEnd: number;
  sStart: number;
  sEnd: number;
}

function changes(base: string[], side: string[]): Change[] {
  const out: Change[] = [];
  let o = 0;
  let s = 0;
  let cur: Change | null = null;
  for (const part of diffArrays(base, side)) {
    const n = part.count ?? part.value.length;
    if (!part.added && !part.removed) {
      if (cur) out.push(cur);
      cur = null;
      o += n;
      s += n;
      continue;
    }
    cur ??= { oStart: o, oEnd: o, sStart: s, sEnd: s };
    if (part.removed) o = cur.oEnd = o + n;
    else s = cur.sEnd = s + n;
  }
  if (cur) out.push(cur);
  return out;
}

/** The side's lines for base range [from, to), given that side's changes lying inside it. */
function sideSlice(side: string[], cs: Change[], deltaBefore: number, from: number, to: number): string[] {
  let delta = deltaBefore;
  for (const c of cs) delta += c.sEnd - c.sStart - (c.oEnd - c.oStart);
  return side.slice(from + deltaBefore, to + delta);
}

const sameLines = (x: string[], y: string[]) => x.length === y.length && x.every((l, i) => l === y[i]);

/** Regions in order: stable (`ok`) and `conflict`. `a` is ours, `b` theirs, `o` the base. */
export function diff3Regions(a: string[], o: string[], b: string[]): Diff3Region[] {
  const ca = changes(o, a).map((c) => ({ ...c, side: 0 as const }));
  const cb = changes(o, b).map((c) => ({ ...c, side: 1 as const }));
  const all = [...ca, ...cb].sort((x, y) => x.oStart - y.oStart || x.oEnd - y.oEnd);
  const out: Diff3Region[] = [];
  const push = (lines: string[]) => {
    if (lines.length === 0) return;
    const last = out[out.length - 1];
    if (last && 'ok' in last) last.ok.push(...lines);
    else out.push({ ok: [...lines] });
  };
  let pos = 0;
  // Running offsets (side line index − base line index) before the current region.
  const delta: [number, number] = [0, 0];
  for (let i = 0; i < all.length; ) {
    const start = all[i]!.oStart;
    let end = all[i]!.oEnd;
    const group = [all[i]!];
    // Changes that overlap or touch belong to one region (as in diff3 and git).
    for (i++; i < all.length && all[i]!.oStart <= end; i++) {
      group.push(all[i]!);
      end = Math.max(end, all[i]!.oEnd);
    }
    push(o.slice(pos, start));
    const mine = group.filter((c) => c.side === 0);
    const theirs = group.filter((c) => c.side === 1);
    const aLines = sideSlice(a, mine, delta[0], start, end);
    const bLines = sideSlice(b, theirs, delta[1], start, end);
    if (theirs.length === 0) push(aLines);
    else if (mine.length === 0 || sameLines(aLines, bLines)) push(bLines);
    else out.push({ conflict: { a: aLines, o: o.slice(start, end), b: bLines } });
    for (const c of mine) delta[0] += c.sEnd - c.sStart - (c.oEnd - c.oStart);
    for (const c of theirs) delta[1] += c.sEnd - c.sStart - (c.oEnd - c.oStart);
    pos = end;
  }
  push(o.slice(pos));
  return out;
}
