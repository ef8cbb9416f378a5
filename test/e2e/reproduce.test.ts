/**
 * Acceptance in a real VS Code: "KLong: Reproduce this paper" on the real fixture paper, with the
 * scripted model (real HTTP on 127.0.0.1), a real container (network none) and a real window
 * reload in the middle, which the session's engine (a process of its own) goes on through. The
 * suite is test/e2e/suite/reproduce.suite.ts (it runs in two phases: before and after the reload,
 * which re-runs the suite in the new extension host).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { until } from '../support/cli-run';
import { removeContainers } from '../support/docker';
import { startModelServer } from '../support/model-server';
import {
  RESAMPLING_FIXTURE as fixture,
  RESAMPLING_RUBRIC,
  resamplingScript,
} from '../support/resampling-agent';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { DEFAULT_IMAGE, hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import { REPRODUCE_ENV } from './suite/reproduce-env';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const { missing, skip } = existsSync(fixture)
  ? hostPreconditions(DEFAULT_IMAGE)
  : { missing: '', skip: `fixture paper not found at ${fixture} (../shared is absent)` };

test('Reproduce this paper in a real VS Code, with a reload in the middle', {
  skip,
  timeout: 25 * 60_000,
}, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-reproduce'));
  await withRunDir('klong-e2e-repro-', join(repoRoot, 'test-artifacts', 'reproduce'), async (dirs) => {
    const { runDir, workspace } = dirs;
    writeFileSync(join(workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));
    const server = await startModelServer(resamplingScript());
    let enginePid: number | undefined;
    try {
      await runSuiteInHost({
        dirs,
        testsPath,
        grep: 'acceptance: reproduce',
        env: {
          [REPRODUCE_ENV.modelUrl]: server.url,
          [REPRODUCE_ENV.paper]: join(fixture, 'paper.pdf'),
          [REPRODUCE_ENV.phaseFile]: join(runDir, 'phase.json'),
          KLONG_API_KEY: 'sk-e2e-not-a-secret',
          KLONG_TEST_LABEL: 'klong.test.e2e',
        },
        timeoutMs: 20 * 60_000,
        name: 'the reproduce suite',
      });

      const phase = JSON.parse(readFileSync(join(runDir, 'phase.json'), 'utf8')) as {
        phase: number;
        enginePid?: number;
      };
      assert.equal(phase.phase, 3, 'the suite did not run to its last phase after the reload');
      // The session's engine exited once the session ended and its proposals were decided.
      assert.ok(phase.enginePid);
      enginePid = phase.enginePid;
      await until('the engine process to exit', () => !alive(phase.enginePid!), 60_000);
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
      assert.ok(
        agent.some((r) =>
          r.messages.some((m) => m.role === 'user' && String(m.content).includes('seed fixed at 7')),
        ),
        'the message sent with KLong: Message the agent reached the model',
      );
      assert.ok(server.authHeaders.every((h) => h === 'Bearer sk-e2e-not-a-secret'));
    } finally {
      await server.close();
      if (enginePid && alive(enginePid)) process.kill(enginePid, 'SIGKILL');
      removeContainers('klong.test.e2e=1');
    }
  });
});
