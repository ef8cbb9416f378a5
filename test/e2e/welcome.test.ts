/**
 * First run and the container in a real VS Code (code-server + chromium): the welcome view, the
 * walkthrough's checks, a terminal in a session's container and its files. The container is a
 * real sandbox (network none) made here for a session id the suite (welcome.suite.ts) uses.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSandbox } from '../../src/sandbox';
import { removeContainers } from '../support/docker';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import { WELCOME_ENV } from './suite/welcome-env';

const IMAGE = process.env.KLONG_CLI_TEST_IMAGE ?? 'klong/python-min:bookworm';
const LABEL = 'klong.test.welcome';
const { missing, skip } = hostPreconditions(IMAGE);

test('welcome view, walkthrough, sandbox terminal and files in a real VS Code', {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-welcome'));
  const files = mkdtempSync(join(tmpdir(), 'klong-welcome-ws-'));
  const sessionId = `e2e-welcome-${process.pid}-${Date.now().toString(36)}`;
  try {
    mkdirSync(join(files, 'logs'));
    writeFileSync(
      join(files, 'logs', 'train.log'),
      'epoch 1 loss 0.50\nepoch 2 loss 0.25\nepoch 3 loss 0.12\n',
    );
    copyFileSync(join(repoRoot, 'media', 'icon.png'), join(files, 'plot.png'));
    const sandbox = await openSandbox({
      workspace: files,
      sessionId,
      network: 'none',
      image: IMAGE,
      labels: { [LABEL]: '1' },
    });
    await sandbox.dispose();
    await withRunDir('klong-e2e-welcome-', join(repoRoot, 'test-artifacts'), (dirs) =>
      runSuiteInHost({
        dirs,
        testsPath,
        grep: 'first run|the sandbox from VS Code',
        env: { [WELCOME_ENV.session]: sessionId, [WELCOME_ENV.image]: IMAGE },
        timeoutMs: 12 * 60_000,
        name: 'the welcome suite',
      }),
    );
  } finally {
    removeContainers(`${LABEL}=1`);
    rmSync(files, { recursive: true, force: true });
  }
});
