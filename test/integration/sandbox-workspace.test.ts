import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DockerSandbox, removeSandbox, SandboxError } from '../../src/sandbox/index';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

const text = (b: Uint8Array | null) => (b === null ? null : Buffer.from(b).toString('utf8'));

describe('sandbox workspace copy and shadow-git baseline', { skip: skipDocker }, () => {
  const session = uniqueSession('ws');
  let ws: string;
  let sb: DockerSandbox;

  before(async () => {
    ws = tempWorkspace({
      'README.md': 'hello\n',
      'src/main.py': 'print(1)\n',
      'src/util.py': 'X = 1\n',
      'run.sh': '#!/bin/sh\necho run\n',
      '.gitignore': 'data/\n*.log\n',
      'data/big.bin': 'ignored data\n',
      'train.log': 'ignored log\n',
      'node_modules/pkg/index.js': 'ignored\n',
      'sub/.gitignore': 'local-only.txt\n',
      'sub/local-only.txt': 'ignored by a nested .gitignore\n',
      'sub/kept.txt': 'kept\n',
    });
    sb = await openTestSandbox(ws, session);
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('the copy honours .gitignore (nested too), node_modules and .git; the user has no shadow git', async () => {
    const r = await sb.exec('find . -type f | sort; git status 2>&1 | head -1');
    assert.equal(r.exitCode, 0);
    const files = r.output.split('\n').filter((l) => l.startsWith('./'));
    assert.deepEqual(files, [
      './.gitignore',
      './README.md',
      './run.sh',
      './src/main.py',
      './src/util.py',
      './sub/.gitignore',
      './sub/kept.txt',
    ]);
    assert.match(r.output, /not a git repository/, 'the shadow baseline is outside the workspace');
    assert.deepEqual(await sb.changes(), []);
    assert.equal(sb.info.network, 'none');
  });

  test('changes() reports added, modified, deleted and binary files with sizes', async () => {
    await sb.exec(
      "printf 'hello\\nworld\\n' > README.md && rm src/util.py && printf 'a\\0b\\0c' > blob.bin && mkdir -p out && echo new > out/new.txt",
    );
    await sb.writeFile('src/added.py', 'Y = 2\n');
    const changes = await sb.changes();
    const plain = { executable: false, wasExecutable: false }; // no mode changes here
    assert.deepEqual(changes, [
      { path: 'README.md', kind: 'modified', binary: false, size: 12, ...plain },
      { path: 'blob.bin', kind: 'added', binary: true, size: 5, ...plain },
      { path: 'out/new.txt', kind: 'added', binary: false, size: 4, ...plain },
      { path: 'src/added.py', kind: 'added', binary: false, size: 6, ...plain },
      { path: 'src/util.py', kind: 'deleted', binary: false, size: 6 },
    ]);
    assert.equal(text(await sb.baselineFile('README.md')), 'hello\n');
    assert.equal(await sb.baselineFile('src/added.py'), null);
    assert.equal(text(await sb.readFile('README.md')), 'hello\nworld\n');
    assert.deepEqual([...(await sb.readFile('blob.bin'))], [97, 0, 98, 0, 99]);
  });

  test('revert() restores modified and deleted files and removes added ones', async () => {
    await sb.revert('README.md');
    await sb.revert('src/util.py');
    await sb.revert('out/new.txt');
    assert.equal(text(await sb.readFile('README.md')), 'hello\n');
    assert.equal(text(await sb.readFile('src/util.py')), 'X = 1\n');
    await assert.rejects(
      sb.readFile('out/new.txt'),
      (e: unknown) => e instanceof SandboxError && e.code === 'FILE_NOT_FOUND',
    );
    const paths = (await sb.changes()).map((c) => c.path);
    assert.deepEqual(paths, ['blob.bin', 'src/added.py']);
  });

  test('acceptIntoBaseline() makes the current content the baseline', async () => {
    await sb.acceptIntoBaseline(['src/added.py']);
    assert.deepEqual(
      (await sb.changes()).map((c) => c.path),
      ['blob.bin'],
    );
    assert.equal(text(await sb.baselineFile('src/added.py')), 'Y = 2\n');
    await sb.exec('rm src/added.py');
    await sb.acceptIntoBaseline(['src/added.py']);
    assert.equal(await sb.baselineFile('src/added.py'), null);
    await sb.revert('blob.bin');
    assert.deepEqual(await sb.changes(), []);
  });

  test('writeFile keeps the mode of an existing file and creates parent folders', async () => {
    await sb.exec('chmod 755 run.sh');
    await sb.acceptIntoBaseline(['run.sh']);
    await sb.writeFile('run.sh', '#!/bin/sh\necho changed\n');
    const r = await sb.exec('./run.sh; stat -c %a run.sh');
    assert.equal(r.output, 'changed\n755\n');
    await sb.writeFile('a/b/c.txt', new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await sb.readFile('a/b/c.txt'))], [1, 2, 3]);
    await sb.revert('run.sh');
    await sb.revert('a/b/c.txt');
    assert.deepEqual(await sb.changes(), []);
  });

  test('paths that escape the workspace are refused (.., absolute, symlinks)', async () => {
    await sb.exec('ln -s /etc etc-link && ln -s /etc/hostname host-link && ln -s src src-link');
    const escapes = [
      '../outside.txt',
      'src/../../etc/passwd',
      '/etc/passwd',
      'etc-link/passwd',
      'host-link',
      'etc-link/new.txt',
    ];
    for (const p of escapes) {
      await assert.rejects(
        sb.readFile(p),
        (e: unknown) => e instanceof SandboxError && e.code === 'PATH_ESCAPE',
        `read ${p}`,
      );
      await assert.rejects(
        sb.writeFile(p, 'x'),
        (e: unknown) => e instanceof SandboxError && e.code === 'PATH_ESCAPE',
        `write ${p}`,
      );
    }
    await assert.rejects(
      sb.revert('etc-link/passwd'),
      (e: unknown) => e instanceof SandboxError && e.code === 'PATH_ESCAPE',
    );
    await assert.rejects(
      sb.baselineFile('../x'),
      (e: unknown) => e instanceof SandboxError && e.code === 'PATH_ESCAPE',
    );
    const etc = await sb.exec('test -e /etc/new.txt && echo LEAK || echo none');
    assert.equal(etc.output, 'none\n');
    // A symlink that stays inside the workspace is fine.
    assert.equal(text(await sb.readFile('src-link/main.py')), 'print(1)\n');
    await sb.exec('rm etc-link host-link src-link');
  });

  test('a workspace over the size limit gives WORKSPACE_TOO_LARGE naming the largest files', async () => {
    const big = tempWorkspace({ 'weights.bin': Buffer.alloc(300_000), 'small.txt': 'x' });
    try {
      await assert.rejects(
        openTestSandbox(big, uniqueSession('big'), { sizeLimit: 100_000 }),
        (e: unknown) =>
          e instanceof SandboxError &&
          e.code === 'WORKSPACE_TOO_LARGE' &&
          /weights\.bin/.test(e.message) &&
          /\.klongignore/.test(e.hint),
      );
    } finally {
      removeDir(big);
    }
  });
});
