/**
 * Workspace Trust in a real VS Code (code-server + chromium, trust on, the folder not trusted): no
 * way in starts an agent or an engine there (test/e2e/suite/untrusted.suite.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import { UNTRUSTED_ENV } from './suite/untrusted-env';

const { missing, skip } = hostPreconditions();

test('an untrusted workspace starts no engine', { skip, timeout: 10 * 60_000 }, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-untrusted'));
  await withRunDir('klong-e2e-untrusted-', join(repoRoot, 'test-artifacts', 'untrusted'), (dirs) =>
    runSuiteInHost({
      dirs,
      testsPath,
      grep: 'untrusted workspace',
      env: { [UNTRUSTED_ENV.on]: '1', KLONG_API_KEY: 'sk-e2e-not-a-secret' },
      settings: {
        'security.workspace.trust.enabled': true,
        'security.workspace.trust.startupPrompt': 'never',
        'security.workspace.trust.banner': 'never',
        // Were the gate broken, the engine it started would find no Docker: no container, no network.
        'klong.docker.host': 'unix:///nonexistent/klong-e2e/docker.sock',
        'klong.docker.network': 'none',
      },
      timeoutMs: 8 * 60_000,
      name: 'the untrusted-workspace suite',
    }),
  );
});
