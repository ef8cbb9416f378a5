/** Shared by the sandbox integration tests: skip reasons, temp workspaces, cleanup of test containers. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const TEST_IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python:bookworm';
export const TEST_LABELS = { 'klong.test': '1' };

function dockerSkip(): string | false {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    encoding: 'utf8',
    timeout: 20000,
  });
  if (info.status !== 0)
    return `Docker is not available here (\`docker info\` failed: ${(info.stderr || info.error?.message || '').trim().split('\n')[0]}); sandbox integration tests skipped`;
  const img = spawnSync('docker', ['image', 'inspect', TEST_IMAGE], { encoding: 'utf8' });
  if (img.status !== 0)
    return `Image ${TEST_IMAGE} is missing: run scripts/build-default-image.sh; sandbox integration tests skipped`;
  return false;
}

/** A reason to skip (string) or false when Docker and the test image are there. */
export const skipDocker: string | false = dockerSkip();
if (skipDocker && process.env.KLONG_REQUIRE_DOCKER === '1')
  throw new Error(`KLONG_REQUIRE_DOCKER=1 but ${skipDocker}`);
if (skipDocker) console.log(`# ${skipDocker}`);

export function tempWorkspace(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'klong-sbx-test-'));
  for (const [rel, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), data);
  }
  return dir;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export function uniqueSession(name: string): string {
  return `test-${name}-${process.pid}-${Date.now().toString(36)}`;
}
