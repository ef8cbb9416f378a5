/**
 * End-to-end: the extension in a real VS Code (code-server 4.100.3 = VS Code 1.100.3, real Node
 * extension host), offline on 127.0.0.1, driven by Debian chromium through playwright-core.
 * The mocha suite test/e2e/suite/*.suite.ts runs inside the extension host; this node test fails
 * when it fails. Screenshots land in test-artifacts/. Install code-server with
 * scripts/install-code-server.sh; without it this test skips, unless KLONG_REQUIRE_E2E=1.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildSuite } from './buildSuite';
import { codeServerInstalled, repoRoot, startCodeServer, xdgEnv } from './harness/codeServer';
import { ENV } from './harness/driverProtocol';
import { chromiumPath, runWorkbench } from './harness/workbench';

const required = process.env.KLONG_REQUIRE_E2E === '1';
const missing = !codeServerInstalled()
  ? 'code-server is not installed (run scripts/install-code-server.sh)'
  : !existsSync(chromiumPath)
    ? `chromium not found at ${chromiumPath} (apt-get install chromium, or set KLONG_CHROMIUM)`
    : '';
const skip = missing && !required ? `${missing}; set KLONG_REQUIRE_E2E=1 to fail instead of skipping` : false;

test('mocha suite in a real VS Code (code-server + chromium)', { skip, timeout: 20 * 60_000 }, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  if (!existsSync(join(repoRoot, 'dist', 'extension.js')) || !existsSync(join(repoRoot, 'dist', 'webview'))) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repoRoot, stdio: 'inherit' });
  }
  const t0 = Date.now();
  const testsPath = await buildSuite();

  const runDir = mkdtempSync(join(tmpdir(), 'klong-e2e-'));
  const workspace = join(runDir, 'workspace');
  const replyDir = join(runDir, 'replies');
  const artifacts = join(repoRoot, 'test-artifacts');
  for (const d of [workspace, replyDir, artifacts]) mkdirSync(d, { recursive: true });

  const env: Record<string, string> = {
    [ENV.replyDir]: replyDir,
    [ENV.artifacts]: artifacts,
    [ENV.repoRoot]: repoRoot,
    ...(process.env[ENV.grep] ? { [ENV.grep]: process.env[ENV.grep] as string } : {}),
  };
  const server = await startCodeServer({ runDir, workspace, env });
  let keep = false;
  try {
    const lines: string[] = [];
    const result = await runWorkbench({
      url: server.url,
      workspace,
      extensionPath: repoRoot,
      testsPath,
      replyDir,
      artifacts,
      env: xdgEnv(runDir),
      timeoutMs: 15 * 60_000,
      onOutput: (line) => {
        lines.push(line);
        console.log(`  │ ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s ${line}`);
      },
    });
    if (result.pageErrors.length)
      console.log(`[e2e] page errors:\n  ${result.pageErrors.slice(0, 20).join('\n  ')}`);
    if (result.exitCode !== 0) keep = true;
    assert.equal(
      result.exitCode,
      0,
      `the e2e mocha suite failed (exit ${result.exitCode}); server log: ${server.logFile}; ` +
        `screenshots: ${artifacts}\n${lines.slice(-40).join('\n')}`,
    );
    assert.deepEqual(result.offLoopback, [], 'the workbench tried to reach the network');
  } finally {
    await server.stop();
    if (!keep && !process.env.KLONG_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
    else console.log(`[e2e] run directory kept: ${runDir}`);
  }
});
