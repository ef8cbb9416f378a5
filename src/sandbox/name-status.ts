/**
 * `git diff --name-status -z` read into paths and how they changed. Its own module because the
 * host's history (host-history.ts) and the container's step commits (step-commits.ts) both read it.
 */

export interface ChangedPath {
  path: string;
  kind: 'added' | 'modified' | 'deleted';
}

export function parseNameStatus(z: string): ChangedPath[] {
  const f = z.split('\0').filter((x) => x !== '');
  const out: ChangedPath[] = [];
  for (let i = 0; i + 1 < f.length; i += 2) {
    const s = f[i]!;
    out.push({ path: f[i + 1]!, kind: s === 'A' ? 'added' : s === 'D' ? 'deleted' : 'modified' });
  }
  return out;
}
