/** Moving the step history between the container's shadow git and the host's history.git. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryRefs, HostHistory } from './host-history';
import { failed, type GitTarget, gitFast, gitStream } from './shadow-git';
import { importHistory, MIRROR_SCRIPT } from './step-commits';
import { tarStream } from './tar-writer';

const OID = /^[0-9a-f]{40}([0-9a-f]{24})?$/;

/**
 * Sends the container's new step commits, baseline and root to the host history (only the objects
 * the host lacks) and moves the host's refs. Returns the refs as they are now.
 */
export async function mirrorHistory(t: GitTarget, history: HostHistory): Promise<HistoryRefs> {
  await history.init();
  const known = await history.refs();
  const tips = [...new Set([known.steps, known.baseline, known.root].filter((x): x is string => !!x))];
  const r = await gitFast(t, MIRROR_SCRIPT, tips);
  if (r.exitCode !== 0) throw failed('history mirror', r.stderr);
  const out = r.stdout.toString('utf8');
  const nl = out.indexOf('\n');
  const [steps, baseline, root] = out
    .slice(0, nl < 0 ? undefined : nl)
    .trim()
    .split(' ');
  // What the container says is not trusted blindly: only object ids become refs on the host.
  for (const oid of [baseline, root, steps === '-' ? undefined : steps])
    if (oid !== undefined && !OID.test(oid))
      throw new Error(`Unexpected history mirror output: ${out.slice(0, 200)}`);
  if (nl >= 0 && nl + 1 < out.length) {
    const nl2 = out.indexOf('\n', nl + 1);
    const [how, a, b] = out.slice(nl + 1, nl2).split(' ');
    const recv = history.receiver();
    try {
      if (how === 'B64') await recv.write(Buffer.from(out.slice(nl2 + 1), 'base64'));
      else if (how === 'FILE' && a && b) {
        // A big pack (a large file the agent wrote): streamed from the container, never held whole.
        const s = await gitStream(t, 'cat -- "$1" && rm -f -- "$1"', [a], (chunk) => recv.write(chunk));
        if (s.exitCode !== 0) throw failed('history read', s.stderr);
      } else throw new Error(`Unexpected history mirror output: ${out.slice(nl + 1, nl + 200)}`);
      await recv.end();
    } catch (err) {
      recv.abort();
      throw err;
    }
  }
  const now: HistoryRefs = {
    ...(steps && steps !== '-' ? { steps } : {}),
    ...(baseline ? { baseline } : {}),
    ...(root ? { root } : {}),
  };
  const moved: HistoryRefs = {};
  if (now.steps && now.steps !== known.steps) moved.steps = now.steps;
  if (now.baseline && now.baseline !== known.baseline) moved.baseline = now.baseline;
  if (now.root && now.root !== known.root) moved.root = now.root;
  await history.setRefs(moved);
  return { ...known, ...now };
}

/** Where the pack of a history import is put in the container (removed once imported). */
const IMPORT_PACK = '/var/lib/klong/history-import.pack';

/**
 * Gives a new container the session's history: every object of the host history goes into its
 * shadow git (through putArchive, which works on remote engines too) and its step ref and root are
 * set to the host's. Returns the host refs, or undefined when the host has no history.
 */
export async function importHostHistory(
  t: GitTarget,
  history: HostHistory,
): Promise<HistoryRefs | undefined> {
  if (!history.exists()) return undefined;
  const refs = await history.refs();
  if (!refs.steps && !refs.root) return undefined;
  const tmp = mkdtempSync(join(tmpdir(), 'klong-history-'));
  try {
    const file = join(tmp, 'history.pack');
    if (!(await history.packAll(file))) return undefined;
    const size = statSync(file).size;
    const tar = tarStream([
      { name: 'history-import.pack', type: 'file', size, mode: 0o644, mtime: new Date(), source: file },
    ]);
    await t.container.putArchive(tar, { path: '/var/lib/klong' });
    await importHistory(t, IMPORT_PACK, refs);
    return refs;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
