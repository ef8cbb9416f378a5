/** Hunks between two texts (package `diff`) and applying any subset of them. */
import { structuredPatch } from 'diff';
import { splitLines } from './text';

export interface Hunk {
  /** Position in the proposal's hunk list; changes when the list is recomputed (see Proposal.version). */
  index: number;
  /** 1-based, as in a unified diff header. */
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Unified-diff body: ' ' context, '-' removed, '+' added, '\' no newline at end of file. */
  lines: string[];
  additions: number;
  deletions: number;
  /** 0-based line of the proposal's text where this hunk's first change is (CodeLens anchor). */
  anchorLine: number;
}

export interface DiffStats {
  additions: number;
  deletions: number;
}

export interface HunkOptions {
  /** Context lines around each change (3, as git). */
  context?: number;
  /** Give up on a minimal diff after this long and replace the whole file in one hunk. */
  timeoutMs?: number;
}

/** Hunks turning `before` into `after` (both LF-normalised). */
export function computeHunks(before: string, after: string, opts: HunkOptions = {}): Hunk[] {
  if (before === after) return [];
  const patch = structuredPatch('a', 'b', before, after, '', '', {
    context: opts.context ?? 3,
    timeout: opts.timeoutMs ?? 3000,
  });
  if (!patch) return [wholeFileHunk(before, after)];
  return patch.hunks.map((h, index) => {
    let additions = 0;
    let deletions = 0;
    let lead = 0;
    let seenChange = false;
    for (const l of h.lines) {
      if (l[0] === '+') additions++;
      else if (l[0] === '-') deletions++;
      if (l[0] === '+' || l[0] === '-') seenChange = true;
      else if (!seenChange && l[0] === ' ') lead++;
    }
    const anchorLine = Math.max(
      0,
      Math.min(h.newStart - 1 + lead, h.newStart - 1 + Math.max(h.newLines - 1, 0)),
    );
    return { index, ...pick(h), additions, deletions, anchorLine };
  });
}

function pick(h: {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: string[];
}) {
  return {
    oldStart: h.oldStart,
    oldLines: h.oldLines,
    newStart: h.newStart,
    newLines: h.newLines,
    lines: h.lines,
  };
}

/** The fallback when the diff took too long: every old line out, every new line in. */
function wholeFileHunk(before: string, after: string): Hunk {
  const a = splitLines(before);
  const b = splitLines(after);
  const lines = [...a.map((l) => `-${l.replace(/\n$/, '')}`), ...b.map((l) => `+${l.replace(/\n$/, '')}`)];
  return {
    index: 0,
    oldStart: 1,
    oldLines: a.length,
    newStart: 1,
    newLines: b.length,
    lines,
    additions: b.length,
    deletions: a.length,
    anchorLine: 0,
  };
}

export function statsOf(hunks: Hunk[]): DiffStats {
  let additions = 0;
  let deletions = 0;
  for (const h of hunks) {
    additions += h.additions;
    deletions += h.deletions;
  }
  return { additions, deletions };
}

/**
 * `before` with only the chosen hunks of before→after applied. Works on lines with their
 * terminators, so a missing final newline on either side is kept exactly.
 */
export function applyHunks(before: string, after: string, hunks: Hunk[], keep: (h: Hunk) => boolean): string {
  const a = splitLines(before);
  const b = splitLines(after);
  const out: string[] = [];
  let pos = 0;
  for (const h of hunks) {
    // jsdiff reports a zero-length range by the line it precedes, 1-based, so start - 1 is the index.
    const oldAt = h.oldStart - 1;
    const newAt = h.newStart - 1;
    for (let i = pos; i < oldAt; i++) out.push(a[i]!);
    if (keep(h)) for (let i = newAt; i < newAt + h.newLines; i++) out.push(b[i]!);
    else for (let i = oldAt; i < oldAt + h.oldLines; i++) out.push(a[i]!);
    pos = oldAt + h.oldLines;
  }
  for (let i = pos; i < a.length; i++) out.push(a[i]!);
  return out.join('');
}

/** "lines 10-14" of the proposal (1-based, the changed lines only), for messages. */
export function describeHunk(h: Hunk): string {
  let line = h.newStart;
  let first = 0;
  let last = 0;
  for (const l of h.lines) {
    if (l[0] === '+') {
      first ||= line;
      last = line;
      line++;
    } else if (l[0] === ' ') line++;
    else if (l[0] === '-') {
      first ||= line;
      last = Math.max(last, line - 1, first);
    }
  }
  if (first === 0) first = last = h.newStart;
  return first >= last ? `line ${first}` : `lines ${first}-${last}`;
}
