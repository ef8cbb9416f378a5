import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildSync } from 'esbuild';
import { checkDocker, openSandbox, SandboxError } from '../../../src/sandbox';

const isCode = (code: string) => (e: unknown) =>
  e instanceof SandboxError && e.code === code && e.hint.length > 0;

describe('Docker not usable: one clear message each', () => {
  let dir: string;
  let server: Server;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'klong-sbx-err-'));
    // A socket file with nobody listening (the daemon crashed or was stopped).
    const dead = createServer();
    await new Promise<void>((r) => dead.listen(join(dir, 'dead.sock'), r));
    spawnSync('cp', ['-a', join(dir, 'dead.sock'), join(dir, 'stale.sock')]);
    await new Promise<void>((r) => dead.close(() => r()));
    // A live socket only its owner (root) may use, for the permission case.
    server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(join(dir, 'private.sock'), r));
    chmodSync(join(dir, 'private.sock'), 0o600);
    chmodSync(dir, 0o755);
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('daemon down: DOCKER_HOST at a dead unix socket', async () => {
    await assert.rejects(checkDocker(`unix://${join(dir, 'stale.sock')}`), (e: unknown) => {
      assert.ok(e instanceof SandboxError);
      assert.equal(e.code, 'DOCKER_DOWN');
      assert.match(e.message, /not running/);
      assert.match(e.hint, /Start Docker/);
      return true;
    });
  });

  test('daemon down also fails openSandbox before anything else happens', async () => {
    const ws = mkdtempSync(join(tmpdir(), 'klong-sbx-ws-'));
    try {
      await assert.rejects(
        openSandbox({
          workspace: ws,
          sessionId: 'x',
          network: 'none',
          dockerHost: `unix://${join(dir, 'stale.sock')}`,
        }),
        isCode('DOCKER_DOWN'),
      );
    } finally {
      rmSync(ws, { recursive: true, force: true });
    }
  });

  test('no socket and no docker command: Docker is not installed', async () => {
    const path = process.env.PATH;
    process.env.PATH = dir; // no `docker` here
    try {
      await assert.rejects(checkDocker(`unix://${join(dir, 'missing.sock')}`), (e: unknown) => {
        assert.ok(e instanceof SandboxError);
        assert.equal(e.code, 'DOCKER_NOT_INSTALLED');
        assert.match(e.hint, /Install Docker/);
        return true;
      });
    } finally {
      process.env.PATH = path;
    }
  });

  test('remote engine not listening: says which address', async () => {
    await assert.rejects(checkDocker('tcp://127.0.0.1:1'), (e: unknown) => {
      assert.ok(e instanceof SandboxError);
      assert.equal(e.code, 'DOCKER_DOWN');
      assert.match(e.message, /tcp:\/\/127\.0\.0\.1:1/);
      assert.match(e.hint, /remote engine/);
      return true;
    });
  });

  test('an address that is not a Docker host', async () => {
    await assert.rejects(checkDocker('ftp://example.invalid'), isCode('DOCKER_HOST_INVALID'));
  });

  test('permission denied on the socket (run as an unprivileged user)', {
    skip: process.getuid?.() !== 0 ? 'needs root to start a child as nobody' : false,
  }, () => {
    // The child runs as nobody, who may not be able to read the checkout (CI clones into a root-only
    // folder): it gets checkDocker bundled into the test's own world-readable folder.
    const bundle = join(dir, 'check-docker.cjs');
    buildSync({
      entryPoints: [join(import.meta.dirname, '..', '..', '..', 'src', 'sandbox', 'docker-client.ts')],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: bundle,
      external: ['cpu-features', '*.node'],
      logLevel: 'error',
    });
    chmodSync(bundle, 0o644);
    const script = `require(${JSON.stringify(bundle)}).checkDocker('unix://${join(dir, 'private.sock')}')
      .then(() => console.log('NO ERROR'))
      .catch((e) => console.log(JSON.stringify({ code: e.code, message: e.message, hint: e.hint })));`;
    const r = spawnSync(process.execPath, ['-e', script], {
      uid: 65534,
      gid: 65534,
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    assert.ok(line.startsWith('{'), `child output: ${r.stdout} ${r.stderr}`);
    const e = JSON.parse(line) as { code: string; message: string; hint: string };
    assert.equal(e.code, 'DOCKER_PERMISSION', line);
    assert.match(e.message, /Permission denied/);
    assert.match(e.hint, /docker group/);
  });
});
