/**
 * Rewind in a real VS Code: the suite test/e2e/suite/rewind.suite.ts right-clicks a step in the
 * timeline of a running session and rewinds it, with the scripted model (real HTTP on 127.0.0.1) and
 * a real container (network none). Here: the agent's next request after the rewind.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PAPER_MD } from '../support/agent-harness';
import { call, faults, startModelServer, tools } from '../support/model-server';
import { RESAMPLING_RUBRIC } from '../support/resampling-agent';
import { buildSuite } from './buildSuite';
import { codeServerInstalled, repoRoot, startCodeServer, xdgEnv } from './harness/codeServer';
import { ENV } from './harness/driverProtocol';
import { chromiumPath, runWorkbench } from './harness/workbench';
import { REWIND_ENV } from './suite/rewindEnv';

const IMAGE = 'klong/python:bookworm';
const required = process.env.KLONG_REQUIRE_E2E === '1';

function missing(): string {
  if (!codeServerInstalled()) return 'code-server is not installed (run scripts/install-code-server.sh)';
  if (!existsSync(chromiumPath)) return `chromium not found at ${chromiumPath}`;
  if (spawnSync('docker', ['info'], { timeout: 20_000 }).status !== 0) return 'Docker is not available';
  if (spawnSync('docker', ['image', 'inspect', IMAGE]).status !== 0)
    return `image ${IMAGE} is missing (scripts/build-default-image.sh)`;
  return '';
}
const why = missing();
const skip = why && !required ? `${why}; set KLONG_REQUIRE_E2E=1 to fail instead of skipping` : false;

test('Rewind from the timeline in a real VS Code', { skip, timeout: 15 * 60_000 }, async () => {
  assert.equal(why, '', `KLONG_REQUIRE_E2E=1 but ${why}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-rewind'));
  const runDir = mkdtempSync(join(tmpdir(), 'klong-e2e-rewind-'));
  const workspace = join(runDir, 'workspace');
  const replyDir = join(runDir, 'replies');
  const artifacts = join(repoRoot, 'test-artifacts');
  for (const d of [workspace, replyDir, artifacts]) mkdirSync(d, { recursive: true });
  writeFileSync(join(workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));
  const paper = join(runDir, 'paper.md');
  writeFileSync(paper, PAPER_MD);

  const steps = [
    tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
    tools(call('write_file', { path: 'b.txt', content: 'two\n' })),
    tools(call('bash', { command: 'rm a.txt && echo removed-a' })),
  ];
  // Then the model keeps the agent waiting until the user acts.
  const server = await startModelServer((_req, i) => steps[i] ?? faults.stall());
  const env: Record<string, string> = {
    [ENV.replyDir]: replyDir,
    [ENV.artifacts]: artifacts,
    [ENV.repoRoot]: repoRoot,
    [ENV.grep]: 'rewind from the timeline',
    [REWIND_ENV.modelUrl]: server.url,
    [REWIND_ENV.paper]: paper,
    KLONG_API_KEY: 'sk-e2e-not-a-secret',
    KLONG_TEST_LABEL: 'klong.test.e2e.rewind',
  };
  const code = await startCodeServer({ runDir, workspace, env });
  const t0 = Date.now();
  try {
    const lines: string[] = [];
    const result = await runWorkbench({
      url: code.url,
      workspace,
      extensionPath: repoRoot,
      testsPath,
      replyDir,
      artifacts,
      env: xdgEnv(runDir),
      timeoutMs: 12 * 60_000,
      onOutput: (line) => {
        lines.push(line);
        console.log(`  │ ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s ${line}`);
      },
    });
    assert.equal(result.exitCode, 0, `the rewind suite failed:\n${lines.slice(-60).join('\n')}`);
    assert.deepEqual(result.offLoopback, [], 'the workbench tried to reach the network');

    // The agent's next request after the rewind: the conversation as after step 1, plus the note.
    const after = server.requests.filter((r) =>
      JSON.stringify(r.messages).includes('rewound the session to step 1'),
    );
    assert.ok(after.length > 0, 'the agent asked the model again after the rewind');
    const next = JSON.stringify(after[0]!.messages);
    assert.match(next, /a\.txt/);
    assert.doesNotMatch(next, /b\.txt|removed-a/, 'nothing of the abandoned steps 2 and 3');
  } finally {
    await server.close();
    await code.stop();
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=klong.test.e2e.rewind=1'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')]);
    if (!process.env.KLONG_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
  }
});
