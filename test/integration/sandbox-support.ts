/** Shared by the sandbox integration tests: skip reasons, temp workspaces, cleanup of test containers. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type DockerSandbox, type OpenSandboxOptions, openSandbox } from '../../src/sandbox/index';
import { dockerProblem, FULL_IMAGE, skipUnlessRequired } from '../support/docker';

export const TEST_IMAGE = FULL_IMAGE;
export const TEST_LABELS = { 'klong.test': '1' };

/** A reason to skip (string) or false when Docker and the test image are there; throws under KLONG_REQUIRE_DOCKER=1. */
export const skipDocker: string | false = skipUnlessRequired(dockerProblem(TEST_IMAGE));
if (skipDocker) console.log(`# ${skipDocker}; sandbox integration tests skipped`);

/** openSandbox as the tests use it: network none, the test image and label; `more` on top. */
export function openTestSandbox(
  workspace: string,
  sessionId: string,
  more: Partial<OpenSandboxOptions> = {},
): Promise<DockerSandbox> {
  return openSandbox({
    workspace,
    sessionId,
    network: 'none',
    image: TEST_IMAGE,
    labels: TEST_LABELS,
    ...more,
  });
}

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
