/**
 * Three-way merge of the user's current file (ours) and the agent's proposal (theirs) against the
 * baseline both started from (diff3, see diff3.ts). A conflict is reported with git-style markers
 * and regions; nothing is ever resolved by picking a side silently.
 */
import { diff3Regions } from './diff3';
import { splitLines } from './text';

export interface ConflictRegion {
  /** 0-based line of the `<<<<<<<` marker in the merged text. */
  startLine: number;
  /** 0-based line of the `>>>>>>>` marker. */
  endLine: number;
  ours: string;
  base: string;
  theirs: string;
}

export interface MergeResult {
  clean: boolean;
  /** The merge; with conflict markers when not clean. */
  text: string;
  conflicts: ConflictRegion[];
}

export interface MergeLabels {
  ours?: string;
  base?: string;
  theirs?: string;
}

/** All three texts LF-normalised. */
export function merge3(base: string, ours: string, theirs: string, labels: MergeLabels = {}): MergeResult {
  if (ours === base || ours === theirs) return { clean: true, text: theirs, conflicts: [] };
  if (theirs === base) return { clean: true, text: ours, conflicts: [] };
  const regions = diff3Regions(splitLines(ours), splitLines(base), splitLines(theirs));
  const out: string[] = [];
  const conflicts: ConflictRegion[] = [];
  // Lines are kept with their terminators; a side's last line may lack one, so markers get their own.
  const push = (lines: string[]) => {
    for (const l of lines) out.push(l);
  };
  const endLine = () => {
    const last = out[out.length - 1];
    if (last !== undefined && !last.endsWith('\n')) out[out.length - 1] = `${last}\n`;
  };
  for (const r of regions) {
    if ('ok' in r) {
      push(r.ok);
      continue;
    }
    const c = r.conflict;
    endLine();
    const startLine = out.length;
    out.push(`<<<<<<< ${labels.ours ?? 'yours (workspace)'}\n`);
    push(c.a);
    endLine();
    out.push(`||||||| ${labels.base ?? 'base'}\n`);
    push(c.o);
    endLine();
    out.push('=======\n');
    push(c.b);
    endLine();
    conflicts.push({
      startLine,
      endLine: out.length,
      ours: c.a.join(''),
      base: c.o.join(''),
      theirs: c.b.join(''),
    });
    out.push(`>>>>>>> ${labels.theirs ?? 'agent proposal'}\n`);
  }
  return { clean: conflicts.length === 0, text: out.join(''), conflicts };
}
