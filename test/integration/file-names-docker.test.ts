/**
 * File names on the real Docker sandbox: names with a newline, a tab, quotes, a backslash or bytes
 * that are not UTF-8 go through the step history, the proposals and proposals.patch; `.git` in any
 * letter case (and a nested repository's .git) never enters the history or the user's files, and
 * does not stop later step commits.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DirUserFiles, EditQueue } from '../../src/edits';
import { type DockerSandbox, removeSandbox } from '../../src/sandbox/index';
import { decodePath } from '../../src/sandbox/path-bytes';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

/** UTF-8 names a user can have: each must come back byte for byte. */
const NAMES = ['new\nline.txt', 'tab\there.txt', 'q"uote\'s.txt', 'back\\slash.txt', 'sp ace/caf\u00e9.txt'];
/** Bytes that are not UTF-8 (Latin-1 "é"), as printf writes them in the container. */
const LATIN1 = Buffer.from('bad-\xe9-name.txt', 'latin1');

/** Every file under root, as JSON-quoted relative names (raw bytes as hex when not UTF-8) → content. */
function tree(root: string, sub = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, sub), { withFileTypes: true, encoding: 'buffer' })) {
    const nameBuf = e.name as unknown as Buffer;
    const utf8 = nameBuf.toString('utf8');
    const name = Buffer.from(utf8, 'utf8').equals(nameBuf) ? utf8 : `hex:${nameBuf.toString('hex')}`;
    const rel = sub ? `${sub}/${name}` : name;
    const abs = Buffer.concat([Buffer.from(join(root, sub, '/')), nameBuf]);
    if (e.isDirectory()) out.push(...tree(root, rel));
    else out.push(`${JSON.stringify(rel)}=${readFileSync(abs, 'utf8')}`);
  }
  return out.sort();
}

describe('file names on the docker sandbox', { skip: skipDocker }, () => {
  const session = uniqueSession('names');
  let ws: string;
  let sb: DockerSandbox;

  before(async () => {
    ws = tempWorkspace({ 'README.md': '# r\n' });
    sb = await openTestSandbox(ws, session);
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('history, patch and proposals keep every name; .git in any case stays out', async () => {
    const make = [
      ...NAMES.map((n, i) => `mkdir -p "$(dirname -- ${q(n)})" && printf 'content %s\\n' ${i} > ${q(n)}`),
      `printf 'latin1\\n' > $'${[...LATIN1].map((b) => `\\x${b.toString(16)}`).join('')}'`,
      'mkdir -p .Git/hooks .GIT sub/.git && echo x > .Git/hooks/pre-commit && echo y > .GIT/config',
      'echo z > sub/.git/HEAD && echo keep > sub/file.txt',
      '(mkdir nested && cd nested && git init -q && echo inner > inner.txt)',
    ].join(' && ');
    const r = await sb.exec(make);
    assert.equal(r.exitCode, 0, r.output);

    // Step history: both commits work, .git stays out, every name is in it.
    const root = await sb.rootCommit();
    const c1 = await sb.commitStep(1);
    assert.ok(c1, 'a step commit');
    assert.equal((await sb.exec('echo later > later.txt')).exitCode, 0);
    const c2 = await sb.commitStep(2);
    assert.ok(c2, 'the next step commit works too');
    const changed = (await sb.changedBetween(root, c2)).map((c) => c.path);
    for (const n of NAMES) assert.ok(changed.includes(n), `${JSON.stringify(n)} in the history`);
    assert.ok(changed.includes('sub/file.txt'));
    // A nested repository is its own: passed over (its .git never enters), later commits still work.
    assert.equal(changed.filter((p) => p.startsWith('nested')).length, 0, changed.join(', '));
    assert.equal(changed.filter((p) => /(^|\/)\.git(\/|$)/i.test(p)).length, 0, changed.join(', '));
    assert.equal(changed.length, NAMES.length + 3, `the Latin-1 name too: ${changed.join(', ')}`);
    assert.equal(text(await sb.fileAt(c1, 'new\nline.txt')), 'content 0\n');
    await sb.restoreCommit(c1);
    assert.equal((await sb.exec('test ! -e later.txt && test -e .Git/hooks/pre-commit')).exitCode, 0);

    // proposals.patch by git: `git apply` in a copy of the user's folder gives the container's files.
    const copy = mkdtempSync(join(tmpdir(), 'klong-names-apply-'));
    try {
      cpSync(ws, copy, { recursive: true });
      const patch = join(copy, '..', `${copy.split('/').pop()}.patch`);
      await sb.pendingPatch(patch);
      const a = spawnSync('git', ['apply', patch], { cwd: copy, encoding: 'utf8' });
      assert.equal(a.status, 0, a.stderr);
      const expected = [
        ...NAMES.map((n, i) => `${JSON.stringify(n)}=content ${i}\n`),
        `${JSON.stringify(`hex:${LATIN1.toString('hex')}`)}=latin1\n`,
        '"README.md"=# r\n',
        '"sub/file.txt"=keep\n',
      ].sort();
      assert.deepEqual(tree(copy), expected);
      removeDir(patch);
    } finally {
      removeDir(copy);
    }

    // Proposals: every UTF-8 name, no .git path; accepting writes them on the host byte for byte.
    const warnings: string[] = [];
    const queue = new EditQueue({
      sandbox: sb,
      user: new DirUserFiles(ws),
      onWarning: (m) => warnings.push(m),
    });
    const proposed = (await queue.refresh(3)).map((p) => p.path);
    // The name that is not UTF-8 keeps its bytes (as lone surrogates, see path-bytes.ts).
    assert.ok(proposed.includes(decodePath(LATIN1)), proposed.map((p) => JSON.stringify(p)).join(', '));
    assert.deepEqual(warnings, []);
    for (const p of proposed) {
      const o = await queue.accept(p);
      assert.equal(o.status, 'accepted', o.message);
    }
    const host = tree(ws);
    for (const [i, n] of NAMES.entries()) assert.ok(host.includes(`${JSON.stringify(n)}=content ${i}\n`), n);
    assert.ok(host.includes(`${JSON.stringify(`hex:${LATIN1.toString('hex')}`)}=latin1\n`), host.join('\n'));
    assert.equal(host.filter((l) => /\.git/i.test(l)).length, 0, host.join('\n'));
    // Later step commits still work after the accepts moved the baseline.
    assert.equal((await sb.exec('echo more > .GIT/more && echo next > next.txt')).exitCode, 0);
    assert.ok(await sb.commitStep(4));
  });
});

function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function text(b: Uint8Array | null): string | null {
  return b === null ? null : Buffer.from(b).toString('utf8');
}
