/**
 * End-to-end: the extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3, real Node
 * extension host), offline on 127.0.0.1, driven by Debian chromium through playwright-core.
 * The mocha suite test/e2e/suite/*.suite.ts runs inside the extension host; this node test fails
 * when it fails. Screenshots land in test-artifacts/. Install code-server with
 * scripts/install-code-server.sh; without it this test skips, unless KLONG_REQUIRE_E2E=1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { ENV } from './harness/driver-protocol';
import { hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';

const { missing, skip } = hostPreconditions();

test('mocha suite in a real VS Code (code-server + chromium)', { skip, timeout: 20 * 60_000 }, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  if (!existsSync(join(repoRoot, 'dist', 'extension.js')) || !existsSync(join(repoRoot, 'dist', 'webview'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const testsPath = await buildSuite();
  await withRunDir('klong-e2e-', join(repoRoot, 'test-artifacts'), (dirs) =>
    runSuiteInHost({
      dirs,
      testsPath,
      grep: process.env[ENV.grep],
      timeoutMs: 15 * 60_000,
      name: 'the e2e mocha suite',
    }),
  );
});
