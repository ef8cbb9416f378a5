/**
 * Rewind in a real VS Code: the suite test/e2e/suite/rewind.suite.ts right-clicks a step in the
 * timeline of a running session and rewinds it, with the scripted model (real HTTP on 127.0.0.1) and
 * a real container (network none). Here: the agent's next request after the rewind.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PAPER_MD } from '../support/agent-harness';
import { removeContainers } from '../support/docker';
import { call, faults, startModelServer, tools } from '../support/model-server';
import { RESAMPLING_RUBRIC } from '../support/resampling-agent';
import { buildSuite } from './build-suite';
import { repoRoot } from './harness/code-server';
import { DEFAULT_IMAGE, hostPreconditions, runSuiteInHost, withRunDir } from './harness/host';
import { REWIND_ENV } from './suite/rewind-env';

const { missing, skip } = hostPreconditions(DEFAULT_IMAGE);

test('Rewind from the timeline in a real VS Code', { skip, timeout: 15 * 60_000 }, async () => {
  assert.equal(missing, '', `KLONG_REQUIRE_E2E=1 but ${missing}`);
  const testsPath = await buildSuite(join(repoRoot, 'out', 'test-rewind'));
  await withRunDir('klong-e2e-rewind-', join(repoRoot, 'test-artifacts'), async (dirs) => {
    writeFileSync(join(dirs.workspace, 'rubric.json'), JSON.stringify(RESAMPLING_RUBRIC, null, 2));
    const paper = join(dirs.runDir, 'paper.md');
    writeFileSync(paper, PAPER_MD);

    const steps = [
      tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
      tools(call('write_file', { path: 'b.txt', content: 'two\n' })),
      tools(call('bash', { command: 'rm a.txt && echo removed-a' })),
    ];
    // Then the model keeps the agent waiting until the user acts.
    const server = await startModelServer((_req, i) => steps[i] ?? faults.stall());
    try {
      await runSuiteInHost({
        dirs,
        testsPath,
        grep: 'rewind from the timeline',
        env: {
          [REWIND_ENV.modelUrl]: server.url,
          [REWIND_ENV.paper]: paper,
          KLONG_API_KEY: 'sk-e2e-not-a-secret',
          KLONG_TEST_LABEL: 'klong.test.e2e.rewind',
        },
        timeoutMs: 12 * 60_000,
        name: 'the rewind suite',
        // The in-host path: the suite reads the Reproduction's own sandbox and queue. A running detached
        // engine's rewind is tested through the channel in test/integration/cli-detach-rewind.test.ts.
        settings: { 'klong.engine.detached': false },
      });

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
      removeContainers('klong.test.e2e.rewind=1');
    }
  });
});
