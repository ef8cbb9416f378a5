/**
 * Sessions outlive VS Code, for real: "KLong: Reproduce this paper" with the default settings (the
 * session's engine is a process of its own) in code-server (real container, network none, the
 * scripted model on 127.0.0.1); the whole
 * code-server process group is killed with SIGKILL for 30 s while the model keeps answering; then
 * code-server starts again on the same profile. The agent made progress meanwhile and the new window
 * follows it without a Resume (test/e2e/suite/engine-survives.suite.ts).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readControlInfo } from '../../src/engine/control';
import { PAPER_MD } from '../support/agent-harness';
import { CLI, TEST_IMAGE } from '../support/cli-run';
import { containerIds, removeContainers } from '../support/docker';
import { call, startModelServer, tools } from '../support/model-server';
import { RESAMPLING_RUBRIC } from '../support/resampling-agent';
import { buildSuite } from './build-suite';
import { repoRoot, startCodeServer, xdgEnv } from './harness/code-server';
import { ENV } from './harness/driver-protocol';
import { hostPreconditions, withRunDir } from './harness/host';
import { runWorkbench } from './harness/workbench';
import { SURVIVE_ENV } from './suite/engine-env';

const pre = hostPreconditions(TEST_IMAGE ?? 'klong/python-min:bookworm');
const { missing, skip } = existsSync(CLI)
  ? pre
  : { missing: '', skip: 'dist/cli.js is missing: run `npm run build` first' };

const KEY = 'sk-e2e-not-a-secret';
const LABEL = 'klong.test.e2e-survive';
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a session started in VS Code goes on while code-server is killed', {
  skip,
  timeout: 20 * 60_000,
}, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-survive'));
  await withRunDir('klong-e2e-survive-', join(repoRoot, 'test-artifacts', 'survive'), async (dirs) => {
    const { runDir, workspace, replyDir, artifacts } = dirs;
    const stateDir = join(runDir, 'state');
    const phaseFile = join(runDir, 'phase.json');
    const paper = join(runDir, 'paper.md');
    writeFileSync(paper, PAPER_MD);
    writeFileSync(join(workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));
    const model = await startModelServer(
      (_req, i) => tools(call('bash', { command: `sleep 0.5; echo step ${i}` })),
      {
        apiKey: KEY,
      },
    );
    const settings = {
      'klong.stateDir': stateDir,
      'klong.model.baseUrl': model.url,
      'klong.model.name': 'scripted',
      'klong.docker.network': 'none',
      'klong.docker.defaultImage': TEST_IMAGE,
      'klong.edits.approvalMode': 'review',
      'klong.session.timeBudget': '1h',
    };
    const env = {
      [ENV.replyDir]: replyDir,
      [ENV.artifacts]: artifacts,
      [ENV.repoRoot]: repoRoot,
      [ENV.grep]: 'sessions outlive VS Code',
      [SURVIVE_ENV.paper]: paper,
      [SURVIVE_ENV.phaseFile]: phaseFile,
      KLONG_API_KEY: KEY,
      KLONG_TEST_LABEL: LABEL,
    };
    const phase = () =>
      existsSync(phaseFile)
        ? (JSON.parse(readFileSync(phaseFile, 'utf8')) as {
            phase: number;
            sessionId?: string;
            step?: number;
          })
        : { phase: 1 };
    const out = (line: string) => console.log(`  │ ${line}`);
    let enginePid: number | undefined;
    try {
      // Phase 1: start the session, then kill the whole code-server group under the running suite.
      const first = await startCodeServer({ runDir, workspace, env, settings });
      let killed = false;
      const abort = new Promise<number>((resolve) => {
        const t = setInterval(() => {
          if (phase().phase !== 2) return;
          clearInterval(t);
          process.kill(-first.pid, 'SIGKILL');
          killed = true;
          resolve(137);
        }, 200);
      });
      const r1 = await runWorkbench({
        url: first.url,
        workspace,
        extensionPath: repoRoot,
        testsPath,
        replyDir,
        artifacts,
        env: xdgEnv(runDir),
        timeoutMs: 8 * 60_000,
        onOutput: out,
        abort,
      });
      await first.stop();
      assert.ok(killed, `phase 1 ended without the kill (exit ${r1.exitCode})`);
      const { sessionId } = phase();
      assert.ok(sessionId);
      enginePid = readControlInfo(join(stateDir, sessionId))?.pid;
      assert.ok(enginePid && alive(enginePid), 'the engine outlived code-server');
      // The key reached the engine in its environment, not on its command line.
      const cmdline = readFileSync(`/proc/${enginePid}/cmdline`, 'utf8');
      assert.doesNotMatch(cmdline, new RegExp(KEY));
      assert.match(cmdline, /reproduce/);

      const atKill = model.requests.length;
      await new Promise((r) => setTimeout(r, 30_000));
      console.log(
        `[e2e] model requests while code-server was dead for 30 s: ${atKill} → ${model.requests.length}`,
      );
      assert.ok(
        model.requests.length > atKill + 3,
        `the agent went on: ${atKill} → ${model.requests.length} requests`,
      );

      // Phase 2: VS Code again, same profile and workspace.
      const second = await startCodeServer({ runDir, workspace, env, settings });
      try {
        const r2 = await runWorkbench({
          url: second.url,
          workspace,
          extensionPath: repoRoot,
          testsPath,
          replyDir,
          artifacts,
          env: xdgEnv(runDir),
          timeoutMs: 8 * 60_000,
          onOutput: out,
        });
        assert.equal(r2.exitCode, 0, `phase 2 failed; server log: ${second.logFile}`);
        assert.deepEqual(r2.offLoopback, []);
      } finally {
        await second.stop();
      }
      assert.equal(phase().phase, 3, 'the suite did not finish phase 2');
      const deadline = Date.now() + 60_000;
      while (alive(enginePid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      assert.equal(alive(enginePid), false, 'the engine exited after the stop');
      // Stop ends the session for good: its container goes with the engine (the history is on the host).
      assert.deepEqual(containerIds(`klong.session=${sessionId}`), [], 'the container was removed');
      assert.ok(model.authHeaders.every((h) => h === `Bearer ${KEY}`));
      assert.doesNotMatch(readFileSync(join(stateDir, sessionId, 'engine.log'), 'utf8'), new RegExp(KEY));
    } finally {
      await model.close();
      if (enginePid && alive(enginePid)) process.kill(enginePid, 'SIGKILL');
      removeContainers(`${LABEL}=1`);
    }
  });
});
