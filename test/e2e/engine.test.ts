/**
 * Sessions that outlive the window, in a real VS Code (code-server + chromium): a session started
 * with `klong reproduce --detach` (real CLI, real container, network none, the scripted model on
 * 127.0.0.1) into the state folder the window uses, on the window's workspace. The suite
 * (test/e2e/suite/engine.suite.ts) checks that the window follows it at once and steers it; here we
 * check what reached the model: both messages, in the requests after they were sent.
 */
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readControlInfo } from '../../src/engine/control';
import { PAPER_MD } from '../support/agent-harness';
import { CLI, reproduceArgs, runCli, TEST_IMAGE } from '../support/cli-run';
import { removeContainers } from '../support/docker';
import { call, startModelServer, tools } from '../support/model-server';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import { ENGINE_ENV } from './suite/engine-env';

const pre = hostPreconditions(TEST_IMAGE ?? 'klong/python-min:bookworm');
const { missing, skip } = existsSync(CLI)
  ? pre
  : { missing: '', skip: 'dist/cli.js is missing: run `npm run build` first' };

const MSG_VIEW = 'Typed in the progress view: keep the seed at 7.';
const MSG_CMD = 'Sent with the command: you can finish now.';

test('a detached CLI session is followed and steered from VS Code', {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-engine'));
  await withRunDir('klong-e2e-engine-', join(repoRoot, 'test-artifacts', 'engine'), async (dirs) => {
    const stateDir = join(dirs.runDir, 'state');
    const paper = join(dirs.runDir, 'paper.md');
    writeFileSync(paper, PAPER_MD);
    writeFileSync(join(dirs.workspace, 'README.md'), '# Reproduction\n');
    const sessionId = `e2e-engine-${process.pid}-${Date.now().toString(36)}`;
    const has = (m: { content?: unknown }, text: string) =>
      typeof m.content === 'string'
        ? m.content.includes(text)
        : JSON.stringify(m.content ?? '').includes(text);
    const server = await startModelServer(
      (req, i) =>
        req.messages.some((m) => has(m, MSG_CMD))
          ? tools(call('end_task', { summary: 'heard the user' }))
          : tools(call('bash', { command: `sleep 0.5; echo step ${i}` })),
      { apiKey: 'sk-test' },
    );
    let enginePid: number | undefined;
    try {
      const s = { workspace: dirs.workspace, stateDir, paper, sessionId };
      const started = await runCli([...reproduceArgs(s, server.url), '--no-final-run', '--detach'], {
        killAfterMs: 180_000,
      });
      assert.equal(started.code, 0, started.stderr);
      enginePid = readControlInfo(join(stateDir, sessionId))?.pid;
      assert.ok(enginePid, 'the engine serves the session');

      await runSuiteInHost({
        dirs,
        testsPath,
        grep: 'engine-driven sessions',
        settings: { 'klong.stateDir': stateDir },
        env: {
          [ENGINE_ENV.sessionId]: sessionId,
          [ENGINE_ENV.messageView]: MSG_VIEW,
          [ENGINE_ENV.messageCommand]: MSG_CMD,
        },
        timeoutMs: 10 * 60_000,
        name: 'the engine suite',
      });

      // Each message reached the model in a request after it was sent, and the agent ended.
      const heard = (text: string) => server.requests.findIndex((r) => r.messages.some((m) => has(m, text)));
      assert.ok(heard(MSG_VIEW) > 0, 'the message typed in the progress view reached the model');
      assert.ok(heard(MSG_CMD) > heard(MSG_VIEW), 'the command’s message reached the model after it');
      assert.ok(server.authHeaders.every((h) => h === 'Bearer sk-test'));
    } finally {
      await server.close();
      if (enginePid) {
        try {
          process.kill(enginePid, 'SIGKILL');
        } catch {
          // it ended with the session
        }
      }
      removeContainers(`klong.session=${sessionId}`);
    }
  });
});
