/**
 * Acceptance in a real VS Code: "KLong: Reproduce this paper" on the real fixture paper, with the
 * scripted model (real HTTP on 127.0.0.1), a real container (network none) and a real window
 * reload in the middle. The suite is test/e2e/suite/reproduce.suite.ts (it runs in two phases:
 * before and after the reload, which re-runs the suite in the new extension host).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startModelServer } from '../support/model-server';
import { RESAMPLING_RUBRIC, resamplingScript } from '../support/resampling-agent';
import { buildSuite } from './buildSuite';
import { codeServerInstalled, repoRoot, startCodeServer, xdgEnv } from './harness/codeServer';
import { ENV } from './harness/driverProtocol';
import { chromiumPath, runWorkbench } from './harness/workbench';
import { REPRODUCE_ENV } from './suite/reproduceEnv';

const fixture = join(repoRoot, '..', 'shared', 'fixtures', 'papers', 'etherington-lieske-resampling');
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
const why = existsSync(fixture) ? missing() : '';
const skip = !existsSync(fixture)
  ? `fixture paper not found at ${fixture} (../shared is absent)`
  : why && !required
    ? `${why}; set KLONG_REQUIRE_E2E=1 to fail instead of skipping`
    : false;

test('Reproduce this paper in a real VS Code, with a reload in the middle', {
  skip,
  timeout: 25 * 60_000,
}, async () => {
  assert.equal(why, '', `KLONG_REQUIRE_E2E=1 but ${why}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-reproduce'));
  const runDir = mkdtempSync(join(tmpdir(), 'klong-e2e-repro-'));
  const workspace = join(runDir, 'workspace');
  const replyDir = join(runDir, 'replies');
  const artifacts = join(repoRoot, 'test-artifacts', 'reproduce');
  for (const d of [workspace, replyDir, artifacts]) mkdirSync(d, { recursive: true });
  writeFileSync(join(workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));

  const server = await startModelServer(resamplingScript());
  const env: Record<string, string> = {
    [ENV.replyDir]: replyDir,
    [ENV.artifacts]: artifacts,
    [ENV.repoRoot]: repoRoot,
    [ENV.grep]: 'acceptance: reproduce',
    [REPRODUCE_ENV.modelUrl]: server.url,
    [REPRODUCE_ENV.paper]: join(fixture, 'paper.pdf'),
    [REPRODUCE_ENV.phaseFile]: join(runDir, 'phase.json'),
    KLONG_API_KEY: 'sk-e2e-not-a-secret',
    KLONG_TEST_LABEL: 'klong.test.e2e',
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
      timeoutMs: 20 * 60_000,
      onOutput: (line) => {
        lines.push(line);
        console.log(`  │ ${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s ${line}`);
      },
    });
    assert.equal(result.exitCode, 0, `the reproduce suite failed:\n${lines.slice(-60).join('\n')}`);
    assert.deepEqual(result.offLoopback, [], 'the workbench tried to reach the network');

    const phase = JSON.parse(readFileSync(join(runDir, 'phase.json'), 'utf8')) as { phase: number };
    assert.equal(phase.phase, 3, 'the suite did not run to its last phase after the reload');
    // The accepted files are the user's now.
    for (const f of ['resampling.py', 'reproduce.sh', 'README.md', 'REPRODUCTION.md'])
      assert.ok(existsSync(join(workspace, f)), `${f} was not accepted into the workspace`);
    assert.match(readFileSync(join(workspace, 'REPRODUCTION.md'), 'utf8'), /100(\.0)?\s?%/);

    // The agent resumed after the reload: its requests continue the same conversation with the
    // paper pinned, and the agent never repeated a step that had completed before the reload.
    const agent = server.requests.filter((r) => r.tools?.length);
    for (const r of agent) assert.match(JSON.stringify(r.messages.slice(0, 3)), /Resampling methods/);
    const writes = agent
      .flatMap((r) => r.messages)
      .filter((m) => m.role === 'tool' && m.tool_call_id === 'call_code');
    assert.ok(writes.length > 0, 'resampling.py was written');
    assert.ok(server.authHeaders.every((h) => h === 'Bearer sk-e2e-not-a-secret'));
  } finally {
    await server.close();
    await code.stop();
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=klong.test.e2e=1'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')]);
    if (!process.env.KLONG_E2E_KEEP) rmSync(runDir, { recursive: true, force: true });
  }
});
