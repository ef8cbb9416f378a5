/**
 * Review of a detached session in a real VS Code: "KLong: Reproduce this paper" with
 * klong.engine.detached (real engine process, real container with network none, the scripted model
 * on 127.0.0.1). The suite (test/e2e/suite/review-detached.suite.ts) opens the engine's proposal in
 * the diff editor, accepts one hunk and rejects the other, then switches to auto-accept; here we
 * check what the engine recorded and the user's files on disk.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readControlInfo } from '../../src/engine/control';
import { PAPER_MD } from '../support/agent-harness';
import { CLI, sessionEvents, TEST_IMAGE } from '../support/cli-run';
import { removeContainers } from '../support/docker';
import { call, startModelServer, tools } from '../support/model-server';
import { RESAMPLING_RUBRIC } from '../support/resampling-agent';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import {
  REVIEW_ACCEPTED,
  REVIEW_ENV,
  REVIEW_LATER,
  REVIEW_ORIGINAL,
  REVIEW_PROPOSED,
} from './suite/review-env';

const pre = hostPreconditions(TEST_IMAGE ?? 'klong/python-min:bookworm');
const { missing, skip } = existsSync(CLI)
  ? pre
  : { missing: '', skip: 'dist/cli.js is missing: run `npm run build` first' };

const KEY = 'sk-e2e-not-a-secret';
const LABEL = 'klong.test.e2e-review';

test('review of a detached session: diff, hunks over the channel, auto-accept', {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-review'));
  await withRunDir('klong-e2e-review-', join(repoRoot, 'test-artifacts', 'review'), async (dirs) => {
    const stateDir = join(dirs.runDir, 'state');
    const paper = join(dirs.runDir, 'paper.md');
    const flag = join(dirs.runDir, 'auto-accept.flag');
    writeFileSync(paper, PAPER_MD);
    writeFileSync(join(dirs.workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));
    writeFileSync(join(dirs.workspace, 'model.py'), REVIEW_ORIGINAL);
    let wroteLater = false;
    const model = await startModelServer(
      (_req, i) => {
        if (i === 0) return tools(call('write_file', { path: 'model.py', content: REVIEW_PROPOSED }));
        if (existsSync(flag) && !wroteLater) {
          wroteLater = true;
          return tools(call('write_file', { path: 'later.txt', content: REVIEW_LATER }));
        }
        return tools(call('bash', { command: `sleep 0.5; echo step ${i}` }));
      },
      { apiKey: KEY },
    );
    try {
      await runSuiteInHost({
        dirs,
        testsPath,
        grep: 'review in a detached session',
        settings: { 'klong.stateDir': stateDir },
        env: {
          [REVIEW_ENV.paper]: paper,
          [REVIEW_ENV.autoFlag]: flag,
          [REVIEW_ENV.modelUrl]: model.url,
          [REVIEW_ENV.image]: TEST_IMAGE ?? 'klong/python-min:bookworm',
          KLONG_API_KEY: KEY,
          KLONG_TEST_LABEL: LABEL,
        },
        timeoutMs: 12 * 60_000,
        name: 'the detached review suite',
      });
      const [sessionId] = readdirSync(stateDir).filter((d) => existsSync(join(stateDir, d, 'events.jsonl')));
      assert.ok(sessionId, 'the session is in the state folder');
      // The user's files: exactly the accepted hunk, and the edit made after the switch.
      assert.equal(readFileSync(join(dirs.workspace, 'model.py'), 'utf8'), REVIEW_ACCEPTED);
      assert.equal(readFileSync(join(dirs.workspace, 'later.txt'), 'utf8'), REVIEW_LATER);
      // The engine logged the decisions and the switch (a resume starts in auto-accept: run.json).
      const events = sessionEvents(stateDir, sessionId);
      const decided = events.filter((e) => e.type === 'edit_decided').map((e) => `${e.path} ${e.decision}`);
      assert.deepEqual(decided, ['model.py accepted', 'model.py rejected', 'later.txt accepted']);
      assert.ok(events.some((e) => e.type === 'approval_changed' && e.mode === 'auto-accept'));
      const saved = JSON.parse(readFileSync(join(stateDir, sessionId, 'run.json'), 'utf8')) as {
        approval: string;
      };
      assert.equal(saved.approval, 'auto-accept');
      assert.ok(model.authHeaders.every((h) => h === `Bearer ${KEY}`));
    } finally {
      await model.close();
      // An engine the suite did not stop (it failed midway) must not outlive the test.
      for (const id of existsSync(stateDir) ? readdirSync(stateDir) : []) {
        const pid = readControlInfo(join(stateDir, id))?.pid;
        try {
          if (pid) process.kill(pid, 'SIGKILL');
        } catch {
          // it ended with the session
        }
      }
      removeContainers(`${LABEL}=1`);
    }
  });
});
