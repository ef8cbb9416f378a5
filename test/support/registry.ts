/**
 * A real image registry on 127.0.0.1 for tests: Debian's `docker-registry` package (distribution 2.x),
 * started on a free port with its own config and storage in a temp folder, stopped by PID. dockerd
 * treats registries on 127.0.0.0/8 as insecure-allowed, so pushes and pulls need no TLS or daemon flag.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REGISTRY_BIN = process.env.KLONG_REGISTRY_BIN ?? 'docker-registry';

/** Why no registry can be started here, or false. */
export function registryProblem(): string | false {
  const r = spawnSync(REGISTRY_BIN, ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0)
    return `${REGISTRY_BIN} is not installed (Debian package docker-registry: apt-get install docker-registry)`;
  return false;
}

export interface LocalRegistry {
  /** host:port, e.g. 127.0.0.1:41234 (for image names such as 127.0.0.1:41234/klong/base:1). */
  address: string;
  pid: number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function v2Status(address: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(`http://${address}/v2/`, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', () => resolve(0));
    req.setTimeout(2000, () => req.destroy());
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Starts a registry; a port taken between choosing and binding is retried on another one. */
export async function startRegistry(): Promise<LocalRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'klong-registry-'));
  let lastLog = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const config = join(dir, `config-${attempt}.yml`);
    writeFileSync(
      config,
      [
        'version: 0.1',
        'log:',
        '  level: warn',
        'storage:',
        '  filesystem:',
        `    rootdirectory: ${join(dir, 'storage')}`,
        '  delete:',
        '    enabled: true',
        'http:',
        `  addr: ${address}`,
        '',
      ].join('\n'),
    );
    const logFile = join(dir, `registry-${attempt}.log`);
    const out = openSync(logFile, 'w');
    const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', out, out] });
    const pid = child.pid;
    if (!pid) throw new Error(`${REGISTRY_BIN} did not start`);
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        process.kill(pid, 'SIGTERM');
        await exited(child);
      }
      rmSync(dir, { recursive: true, force: true });
    };
    for (let i = 0; i < 100; i++) {
      if ((await v2Status(address)) === 200) return { address, pid, stop };
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    lastLog = readFileSync(logFile, 'utf8');
    if (child.exitCode === null) {
      process.kill(pid, 'SIGTERM');
      await exited(child);
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`docker-registry did not answer on 127.0.0.1: ${lastLog.slice(-2000)}`);
}
