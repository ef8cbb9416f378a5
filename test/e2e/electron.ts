/**
 * The same mocha suite in desktop VS Code (Electron), for machines with internet access:
 * @vscode/test-electron downloads a VS Code build. Run: `npx tsx test/e2e/electron.ts [version]`.
 * Suites that need the Playwright driver (screenshots, webview clicks) skip themselves here.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { ENV } from './harness/driver-protocol';

async function main(): Promise<void> {
  const extensionTestsPath = await buildSuite();
  const runDir = mkdtempSync(join(tmpdir(), 'klong-e2e-electron-'));
  const workspace = join(runDir, 'workspace');
  mkdirSync(workspace, { recursive: true });
  const code = await runTests({
    version: process.argv[2] ?? '1.100.3',
    extensionDevelopmentPath: repoRoot,
    extensionTestsPath,
    launchArgs: [
      workspace,
      '--disable-extensions',
      '--disable-workspace-trust',
      `--user-data-dir=${join(runDir, 'ud')}`,
    ],
    extensionTestsEnv: {
      [ENV.repoRoot]: repoRoot,
      ...(process.env[ENV.grep] ? { [ENV.grep]: process.env[ENV.grep] } : {}),
    },
  });
  process.exitCode = code;
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
