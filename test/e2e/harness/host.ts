/**
 * What the e2e runners (vscode, reproduce, rewind .test.ts) share: whether they can run here, a
 * fresh run directory, and one mocha suite run in code-server + chromium with its output streamed,
 * failing when mocha fails or when the workbench tried to reach anything off loopback.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dockerProblem } from '../../support/docker';
import { codeServerInstalled, repoRoot, startCodeServer, xdgEnv } from './code-server';
import { ENV } from './driver-protocol';
import { chromiumPath, runWorkbench, type WorkbenchResult } from './workbench';

/** The extension's default sandbox image: what a session started from the UI runs in. */
export const DEFAULT_IMAGE = 'klong/python:bookworm';

/**
 * Why the e2e host cannot run here ('' when it can; with `image`, Docker and that image are needed
 * too) and the node:test `skip` for it. CI sets KLONG_REQUIRE_E2E=1: then nothing is skipped and
 * the test fails on `assert.equal(missing, '')`.
 */
export function hostPreconditions(image?: string): { missing: string; skip: string | false } {
  const missing = !codeServerInstalled()
    ? 'code-server is not installed (run scripts/install-code-server.sh)'
    : !existsSync(chromiumPath)
      ? `chromium not found at ${chromiumPath} (apt-get install chromium, or set KLONG_CHROMIUM)`
      : (image && dockerProblem(image)) || '';
  const required = process.env.KLONG_REQUIRE_E2E === '1';
  const skip =
    missing && !required ? `${missing}; set KLONG_REQUIRE_E2E=1 to fail instead of skipping` : false;
  return { missing, skip };
}

export interface HostDirs {
  runDir: string;
  /** The folder VS Code opens. */
  workspace: string;
  /** Where the driver writes its answers to the suite. */
  replyDir: string;
  /** Screenshots. */
  artifacts: string;
}

/**
 * Runs `fn` with a fresh run directory (`prefix` in tmpdir). Removes it afterwards, unless `fn`
 * failed or KLONG_E2E_KEEP is set: then it stays for code-server.log and the browser console.
 */
export async function withRunDir<T>(
  prefix: string,
  artifacts: string,
  fn: (dirs: HostDirs) => Promise<T>,
): Promise<T> {
  const runDir = mkdtempSync(join(tmpdir(), prefix));
  const dirs = { runDir, workspace: join(runDir, 'workspace'), replyDir: join(runDir, 'replies'), artifacts };
  for (const d of [dirs.workspace, dirs.replyDir, artifacts]) mkdirSync(d, { recursive: true });
  let ok = false;
  try {
    const result = await fn(dirs);
    ok = true;
    return result;
  } finally {
    if (ok && !process.env.KLONG_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
    else console.log(`[e2e] run directory kept: ${runDir}`);
  }
}

export interface SuiteRun {
  dirs: HostDirs;
  /** The bundled suite's index.js (buildSuite). */
  testsPath: string;
  /** Only the mocha tests whose title matches (KLONG_E2E_GREP). */
  grep?: string;
  /** More environment for the extension host (the suite reads it). */
  env?: Record<string, string>;
  /** User settings for the run (read at activation, before the suite starts). */
  settings?: Record<string, unknown>;
  timeoutMs: number;
  /** Names the suite in the failure message. */
  name: string;
}

/**
 * Starts code-server on the run's workspace, runs the suite in the workbench (its output on the
 * console, timed), stops the server; fails when the suite fails or the workbench went off loopback.
 */
export async function runSuiteInHost(run: SuiteRun): Promise<WorkbenchResult> {
  const { runDir, workspace, replyDir, artifacts } = run.dirs;
  const env: Record<string, string> = {
    [ENV.replyDir]: replyDir,
    [ENV.artifacts]: artifacts,
    [ENV.repoRoot]: repoRoot,
    ...(run.grep ? { [ENV.grep]: run.grep } : {}),
    ...run.env,
  };
  const server = await startCodeServer({
    runDir,
    workspace,
    env,
    ...(run.settings ? { settings: run.settings } : {}),
  });
  const t0 = Date.now();
  const lines: string[] = [];
  try {
    const result = await runWorkbench({
      url: server.url,
      workspace,
      extensionPath: repoRoot,
      testsPath: run.testsPath,
      replyDir,
      artifacts,
      env: xdgEnv(runDir),
      timeoutMs: run.timeoutMs,
      onOutput: (line) => {
        lines.push(line);
        console.log(`  │ ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s ${line}`);
      },
    });
    if (result.pageErrors.length)
      console.log(`[e2e] page errors:\n  ${result.pageErrors.slice(0, 20).join('\n  ')}`);
    assert.equal(
      result.exitCode,
      0,
      `${run.name} failed (exit ${result.exitCode}); server log: ${server.logFile}; ` +
        `screenshots: ${artifacts}\n${lines.slice(-60).join('\n')}`,
    );
    assert.deepEqual(result.offLoopback, [], 'the workbench tried to reach the network');
    return result;
  } finally {
    await server.stop();
  }
}
