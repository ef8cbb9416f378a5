/**
 * proposals.patch without the container (the fallback): paths quoted exactly as git quotes them,
 * and `git apply` of the patch turns the user's files into the agent's, whatever the names.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DirUserFiles, EditQueue, gitQuotePath, proposalsPatch } from '../../../src/edits';
import { decodePath, encodePath, hasEscapedBytes } from '../../../src/sandbox/path-bytes';
import { DirSandbox } from '../../support/dir-sandbox';

const NAMES = [
  'plain.txt',
  'with space.txt',
  'new\nline.txt',
  'tab\there.txt',
  'q"uote.txt',
  "apos'trophe.txt",
  'back\\slash.txt',
  'caf\u00e9.txt',
  'bell\u0007.txt',
];

function git(cwd: string, args: string[], input?: string) {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('gitQuotePath quotes every name exactly as git does (core.quotePath on), bytes that are not UTF-8 too', () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-quote-'));
  try {
    git(dir, ['init', '-q']);
    for (const n of NAMES) writeFileSync(join(dir, n), 'x\n');
    const latin1 = Buffer.from('bad-\xe9-\xff.txt', 'latin1');
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), latin1]), 'y\n');
    git(dir, ['add', '-A']);
    const listed = git(dir, ['-c', 'core.quotepath=true', 'ls-files']).trimEnd().split('\n').sort();
    assert.deepEqual(listed, [...NAMES, decodePath(latin1)].map(gitQuotePath).sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('git apply of proposalsPatch reproduces the agent’s files for any name: add, modify, delete, rename', async () => {
  const files: Record<string, string> = {};
  for (const [i, n] of NAMES.entries()) files[`d/${n}`] = `line 1 of ${i}\nline 2\n`;
  const sb = await DirSandbox.create(files);
  const user = mkdtempSync(join(tmpdir(), 'klong-apply-'));
  try {
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(user, 'd'), { recursive: true });
      writeFileSync(join(user, p), c);
    }
    const box = (p: string) => join(sb.workdir, p);
    writeFileSync(box('d/new\nline.txt'), 'line 1 of 2\nchanged\n');
    writeFileSync(box('added\ttab "q".txt'), 'fresh\n');
    rmSync(box('d/q"uote.txt'));
    // Same content under a new name: a rename proposal.
    writeFileSync(box('moved\\here.txt'), readFileSync(box('d/back\\slash.txt')));
    rmSync(box('d/back\\slash.txt'));
    const queue = new EditQueue({ sandbox: sb, user: new DirUserFiles(user) });
    const pending = await queue.refresh(1);
    assert.equal(pending.length, 4);
    const patch = join(user, '..', `${user.split('/').pop()}.patch`);
    writeFileSync(patch, proposalsPatch(queue.list()));
    const r = spawnSync('git', ['apply', '--verbose', patch], { cwd: user, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const tree = (root: string) =>
      readdirSync(root, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => {
          const rel = join(e.parentPath, e.name).slice(root.length + 1);
          return `${JSON.stringify(rel)}=${readFileSync(join(root, rel), 'utf8')}`;
        })
        .sort();
    assert.deepEqual(tree(user), tree(sb.workdir));
    rmSync(patch, { force: true });
  } finally {
    rmSync(user, { recursive: true, force: true });
    rmSync(sb.workdir, { recursive: true, force: true });
  }
});

test('the user files never write inside a .git folder, in any letter case', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'klong-dotgit-'));
  try {
    const u = new DirUserFiles(dir);
    for (const p of ['.git/config', '.Git/hooks/pre-commit', 'sub/.GIT/HEAD'])
      await assert.rejects(u.apply([{ path: p, content: 'x' }]), /never writes inside a \.git folder/);
    assert.deepEqual(readdirSync(dir), []);
    assert.ok(await u.apply([{ path: '.github/ci.yml', content: 'ok\n' }]), '.github is not .git');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('file names that are not UTF-8 round-trip through strings byte for byte', () => {
  const samples = [
    Buffer.from('plain/caf\u00e9.txt'),
    Buffer.from([0x62, 0xe9, 0x2e, 0x74]),
    Buffer.from([0xff, 0xfe, 0x80, 0xc3]),
    Buffer.from([0xf0, 0x9f, 0x98, 0x80, 0xed, 0xa0, 0x80, 0x41]),
  ];
  for (let i = 0; i < 300; i++)
    samples.push(Buffer.from(Array.from({ length: 12 }, () => Math.floor(Math.random() * 256))));
  for (const b of samples) {
    const s = decodePath(b);
    assert.ok(encodePath(s).equals(b), b.toString('hex'));
    assert.equal(hasEscapedBytes(s), !Buffer.from(b.toString('utf8'), 'utf8').equals(b), b.toString('hex'));
  }
  assert.equal(decodePath(Buffer.from('caf\u00e9')), 'caf\u00e9', 'valid UTF-8 is unchanged');
});
