/**
 * history.git on the host (real git, no Docker): thin packs of each step received one by one, refs
 * moved, diff and file reads from it, the background repack that keeps the pack count bounded, and
 * a clear error when git is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HostGitMissingError, HostHistory } from '../../../src/sandbox/host-history';

const hasGit = spawnSync('git', ['--version']).status === 0;
const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'klong-host-history-'));
  temps.push(d);
  return d;
};

/** A work repository standing in for the container's shadow git. */
function work() {
  const dir = temp();
  const g = (...args: string[]) => {
    const r = spawnSync('git', ['-C', dir, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 'k',
        GIT_AUTHOR_EMAIL: 'k@l',
        GIT_COMMITTER_NAME: 'k',
        GIT_COMMITTER_EMAIL: 'k@l',
      },
    });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
  };
  g('init', '-q');
  return { dir, g };
}

/** The thin pack of `tip` against `known`, as the container sends it. */
function thinPack(dir: string, tip: string, known: string[]): Buffer {
  const r = spawnSync('git', ['-C', dir, 'pack-objects', '--revs', '--stdout', '--thin', '-q'], {
    input: `${tip}\n${known.map((k) => `^${k}\n`).join('')}`,
  });
  assert.equal(r.status, 0, String(r.stderr));
  return r.stdout;
}

test('steps arrive as thin packs; diff, changed files and file contents read from the host', {
  skip: !hasGit && 'git is not installed',
}, async () => {
  const w = work();
  const h = HostHistory.of(temp());
  await h.init();
  const commits: string[] = [];
  for (let i = 1; i <= 30; i++) {
    writeFileSync(join(w.dir, `f${i % 4}.txt`), `line ${i}\n`.repeat(200));
    w.g('add', '-A');
    w.g('commit', '-qm', `step ${i}`);
    const tip = w.g('rev-parse', 'HEAD');
    const known = await h.refs();
    const recv = h.receiver();
    await recv.write(thinPack(w.dir, tip, known.steps ? [known.steps] : []));
    await recv.end();
    await h.setRefs({ steps: tip, ...(i === 1 ? { root: tip } : {}) });
    commits.push(tip);
  }
  await h.settle();
  const refs = await new HostHistory(h.dir).refs(); // read back from disk, not the cache
  assert.equal(refs.steps, commits[29]);
  assert.equal(refs.root, commits[0]);
  assert.ok(h.packCount() <= 17, `the background repack keeps the packs few (${h.packCount()})`);
  const diff = await h.diff(commits[0]!, commits[1]!);
  assert.match(diff, /^\+\+\+ b\/f2\.txt$/m);
  assert.deepEqual(await h.changedBetween(commits[3]!, commits[4]!), [{ path: 'f1.txt', kind: 'modified' }]);
  assert.equal(Buffer.from((await h.contentAt(commits[29]!, 'f2.txt'))!).toString(), 'line 30\n'.repeat(200));
  assert.equal(await h.contentAt(commits[0]!, 'f3.txt'), null);
  const fsck = spawnSync('git', ['--git-dir', h.dir, 'fsck', '--strict'], { encoding: 'utf8' });
  assert.equal(fsck.status, 0, fsck.stderr);
});

test('without git on PATH the error says what is missing and how to fix it', async () => {
  const path = process.env.PATH;
  process.env.PATH = temp();
  try {
    const h = HostHistory.of(temp());
    await assert.rejects(h.init(), (err: unknown) => {
      assert.ok(err instanceof HostGitMissingError);
      assert.match(err.message, /git is not installed on this machine/);
      assert.match(err.hint, /Install git/);
      return true;
    });
  } finally {
    process.env.PATH = path;
  }
});
