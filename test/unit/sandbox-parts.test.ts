import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { parseSize } from '../../src/sandbox/container';
import { checkConfigSyntax, findConfigFile } from '../../src/sandbox/devcontainer';
import { modemOptions, resolveDockerHost } from '../../src/sandbox/docker-client';
import { SandboxError } from '../../src/sandbox/errors';
import { CappedOutput, Demuxer } from '../../src/sandbox/output-buffer';
import { resolveWorkspacePath } from '../../src/sandbox/sandbox';
import { ansiCQuote, EndScanner } from '../../src/sandbox/shell';
import { listWorkspace, tarEntries } from '../../src/sandbox/workspace-archive';

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'klong-sbx-unit-'));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  return dir;
}

describe('CappedOutput', () => {
  test('keeps everything under the cap', () => {
    const o = new CappedOutput(100);
    o.push(Buffer.from('hello '));
    o.push(Buffer.from('world'));
    assert.equal(o.toString(), 'hello world');
    assert.equal(o.truncated, false);
    assert.equal(o.totalBytes, 11);
  });

  test('keeps head + tail in fixed memory and counts what it drops', () => {
    const o = new CappedOutput(10);
    for (let i = 0; i < 1000; i++) o.push(Buffer.from(`${i % 10}`));
    o.push(Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZ'));
    assert.equal(o.totalBytes, 1026);
    assert.equal(o.truncated, true);
    assert.equal(o.toString(), '01234\n[... 1016 bytes of output omitted ...]\nVWXYZ');
  });

  test('tail ring wraps correctly with small pushes', () => {
    const o = new CappedOutput(8);
    for (const c of 'abcdefghijklmnop') o.push(Buffer.from(c));
    assert.equal(o.toString(), 'abcd\n[... 8 bytes of output omitted ...]\nmnop');
  });
});

describe('Demuxer', () => {
  test('splits frames across chunk boundaries', () => {
    const frame = (t: number, s: string) => {
      const h = Buffer.alloc(8);
      h[0] = t;
      h.writeUInt32BE(Buffer.byteLength(s), 4);
      return Buffer.concat([h, Buffer.from(s)]);
    };
    const all = Buffer.concat([frame(1, 'out1'), frame(2, 'err'), frame(1, 'out2')]);
    const got: string[] = [];
    const d = new Demuxer((t, b) => got.push(`${t}:${b.toString()}`));
    for (let i = 0; i < all.length; i += 3) d.push(all.subarray(i, i + 3));
    assert.deepEqual(got, ['1:out1', '2:err', '1:out2']);
  });
});

describe('ansiCQuote', () => {
  test('round-trips any bytes through bash', { skip: spawnSync('bash', ['-c', 'true']).status !== 0 }, () => {
    const s = `it's a "test" \\ $HOME \`x\` \n\ttab é 😀 \x01 end`;
    const r = spawnSync('bash', ['-c', `printf %s ${ansiCQuote(s)}`], { encoding: 'utf8' });
    assert.equal(r.stdout, s);
  });
});

describe('paths and sizes', () => {
  test('resolveWorkspacePath normalises and refuses escapes', () => {
    assert.equal(resolveWorkspacePath('a/./b//c.txt'), 'a/b/c.txt');
    assert.equal(resolveWorkspacePath('a/../b.txt'), 'b.txt');
    assert.throws(() => resolveWorkspacePath('../x'), /escapes/);
    assert.throws(() => resolveWorkspacePath('a/../../x'), /escapes/);
    assert.throws(() => resolveWorkspacePath('/etc/passwd'), /relative/);
    assert.throws(() => resolveWorkspacePath(''), /Not a file path/);
  });

  test('parseSize', () => {
    assert.equal(parseSize('8g'), 8 * 1024 ** 3);
    assert.equal(parseSize('512m'), 512 * 1024 ** 2);
    assert.equal(parseSize('1.5GB'), 1.5 * 1024 ** 3);
    assert.equal(parseSize(1000), 1000);
    assert.equal(parseSize(undefined), undefined);
    assert.throws(
      () => parseSize('lots'),
      (e: unknown) => e instanceof SandboxError && e.code === 'CONFIG_INVALID',
    );
  });
});

describe('Docker host addresses', () => {
  test('unix, tcp and ssh map to docker-modem options', () => {
    assert.deepEqual(modemOptions('unix:///run/user/1000/docker.sock'), {
      socketPath: '/run/user/1000/docker.sock',
      host: undefined,
      port: undefined,
      protocol: undefined,
    });
    const tcp = modemOptions('tcp://10.0.0.5:2375');
    assert.equal(tcp.host, '10.0.0.5');
    assert.equal(tcp.port, '2375');
    assert.equal(tcp.protocol, 'http');
    assert.equal(tcp.socketPath, undefined);
    const ssh = modemOptions('ssh://alice@gpu-box:2222');
    assert.equal(ssh.protocol, 'ssh');
    assert.equal(ssh.host, 'gpu-box');
    assert.equal(ssh.username, 'alice');
    assert.equal(ssh.port, '2222');
  });

  test('explicit setting wins over DOCKER_HOST; a bare host:port means tcp', () => {
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = 'tcp://from-env:2375';
    try {
      assert.equal(resolveDockerHost('unix:///x.sock'), 'unix:///x.sock');
      assert.equal(resolveDockerHost(''), 'tcp://from-env:2375');
      assert.equal(resolveDockerHost('box:2375'), 'tcp://box:2375');
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});

describe('workspace listing', () => {
  test('honours .gitignore (root and nested), .klongignore, extra patterns, always-ignored folders', async () => {
    const dir = tree({
      '.gitignore': '*.log\n/build/\n',
      '.klongignore': 'datasets/\n',
      'keep.py': '',
      'a.log': '',
      'build/x.o': '',
      'src/build/kept.txt': '',
      'datasets/big.csv': '',
      'node_modules/m/index.js': '',
      '.git/config': '',
      'sub/.gitignore': 'secret.txt\n',
      'sub/secret.txt': '',
      'sub/ok.txt': '',
      'other/secret.txt': '',
      'extra/skip.me': '',
    });
    symlinkSync('keep.py', join(dir, 'link.py'));
    try {
      const rels = (await listWorkspace(dir, { ignore: ['*.me'] })).map((e) => `${e.type[0]}:${e.rel}`);
      assert.deepEqual(rels, [
        'f:.gitignore',
        'f:.klongignore',
        'd:extra',
        'f:keep.py',
        's:link.py',
        'd:other',
        'f:other/secret.txt',
        'd:src',
        'd:src/build',
        'f:src/build/kept.txt',
        'd:sub',
        'f:sub/.gitignore',
        'f:sub/ok.txt',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('devcontainer.json discovery and syntax', () => {
  test('finds .devcontainer/devcontainer.json, .devcontainer.json, then a named sub-folder', () => {
    const a = tree({ '.devcontainer/devcontainer.json': '{}', '.devcontainer.json': '{}' });
    const b = tree({ '.devcontainer.json': '{}' });
    const c = tree({ '.devcontainer/gpu/devcontainer.json': '{}' });
    const d = tree({ 'x.txt': '' });
    try {
      assert.equal(findConfigFile(a), join(a, '.devcontainer', 'devcontainer.json'));
      assert.equal(findConfigFile(b), join(b, '.devcontainer.json'));
      assert.equal(findConfigFile(c), join(c, '.devcontainer', 'gpu', 'devcontainer.json'));
      assert.equal(findConfigFile(d), undefined);
    } finally {
      for (const x of [a, b, c, d]) rmSync(x, { recursive: true, force: true });
    }
  });

  test('syntax errors carry file:line:column; comments and trailing commas pass', async () => {
    const dir = tree({
      'ok.json': '// c\n{ "image": "x", /* y */ "features": {}, }\n',
      'bad.json': '{\n  "image": "x"\n  "remoteUser": "root"\n}\n',
      'unclosed.json': '{\n  "image": "x",\n  "build": {\n',
      'array.json': '[1, 2]',
    });
    try {
      await checkConfigSyntax(join(dir, 'ok.json'), dir);
      await assert.rejects(checkConfigSyntax(join(dir, 'bad.json'), dir), (e: unknown) => {
        assert.ok(e instanceof SandboxError);
        assert.equal(e.code, 'CONFIG_SYNTAX');
        assert.match(e.message, /bad\.json:3:3: CommaExpected/);
        return true;
      });
      await assert.rejects(
        checkConfigSyntax(join(dir, 'unclosed.json'), dir),
        /unclosed\.json:\d+:\d+: CloseBraceExpected/,
      );
      await assert.rejects(checkConfigSyntax(join(dir, 'array.json'), dir), /must be a JSON object/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tar writer', () => {
  test('GNU tar extracts long, non-ASCII and nested names, symlinks, modes and big files exactly', async () => {
    const long = `${'deep/'.repeat(30)}name-${'x'.repeat(120)}.txt`;
    const dir = tree({
      'a.txt': 'a\n',
      'empty.txt': '',
      [long]: 'long\n',
      'données/été.py': 'print("é")\n',
      'big.bin': 'y'.repeat(3 * 1024 * 1024 + 7),
    });
    symlinkSync('a.txt', join(dir, 'link'));
    spawnSync('chmod', ['755', join(dir, 'a.txt')]);
    const out = mkdtempSync(join(tmpdir(), 'klong-sbx-untar-'));
    try {
      const entries = await listWorkspace(dir);
      const tarBytes: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        const s = tarEntries(entries);
        s.on('data', (c: Buffer) => tarBytes.push(c));
        s.on('end', resolve);
        s.on('error', reject);
      });
      const r = spawnSync('tar', ['-x', '-C', out], { input: Buffer.concat(tarBytes) });
      assert.equal(r.status, 0, r.stderr.toString());
      const diff = spawnSync('diff', ['-r', '--no-dereference', dir, out], { encoding: 'utf8' });
      assert.equal(diff.status, 0, diff.stdout);
      assert.equal(
        spawnSync('stat', ['-c', '%a', join(out, 'a.txt')], { encoding: 'utf8' }).stdout.trim(),
        '755',
      );
      assert.equal(spawnSync('readlink', [join(out, 'link')], { encoding: 'utf8' }).stdout.trim(), 'a.txt');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(out, { recursive: true, force: true });
    }
  });
});

describe('EndScanner', () => {
  test('finds the end marker wherever the chunks split, and passes every byte before it exactly once', () => {
    const id = 'abc123';
    const body = `out\x1e not a marker \x1eKE other 1\x1e\n${'z'.repeat(50)}`;
    const stream = Buffer.from(`${body}\x1eKE ${id} 42\x1e\nLATER`);
    for (let a = 1; a < stream.length; a++) {
      for (const b of [a + 1, a + 7, stream.length]) {
        const parts = [stream.subarray(0, a), stream.subarray(a, b), stream.subarray(b)];
        const sc = new EndScanner(id);
        const got: Buffer[] = [];
        let rc: number | null | undefined;
        for (const part of parts) {
          if (rc !== undefined) break;
          rc = sc.push(part, (o) => got.push(Buffer.from(o)));
        }
        assert.equal(rc, 42, `split at ${a}/${b}`);
        assert.equal(Buffer.concat(got).toString(), body, `split at ${a}/${b}`);
      }
    }
  });
});
