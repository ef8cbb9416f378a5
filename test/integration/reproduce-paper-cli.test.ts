/**
 * Acceptance, headless: `klong reproduce` on the real fixture paper (Etherington & Lieske, ReScience C)
 * with the scripted model, a real container (default scientific image, network none) and a rubric.
 * The agent writes the experiment and reproduce.sh, runs it; the final run happens in a fresh
 * container; the grade and REPRODUCTION.md land in the workspace; the numbers match the authors'.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliCleanup, cliDockerSkip, runCli } from '../support/cli-run';
import { FULL_IMAGE } from '../support/docker';
import {
  parseResults,
  RESAMPLING_FIXTURE,
  RESAMPLING_RUBRIC,
  resamplingScript,
} from '../support/resampling-agent';

const fixture = RESAMPLING_FIXTURE;
// The experiment needs numpy: the scientific image, not the minimal one.
const skip = existsSync(fixture)
  ? cliDockerSkip(FULL_IMAGE)
  : `fixture paper not found at ${fixture} (../shared is absent); skipped`;
const cleanup = cliCleanup();
cleanup.removeLabel('klong.test.paper=1');

function expected(): Map<string, { mean: number; std: number }> {
  return parseResults(readFileSync(join(fixture, 'expected_results.tsv'), 'utf8'));
}

test('klong reproduce reproduces the resampling paper end to end', {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  const root = cleanup.temp('klong-paper-');
  const workspace = join(root, 'workspace');
  const stateDir = join(root, 'state');
  mkdirSync(workspace);
  const rubric = join(root, 'rubric.json');
  writeFileSync(rubric, JSON.stringify(RESAMPLING_RUBRIC));
  const server = await cleanup.modelServer(resamplingScript());
  const args = [
    'reproduce',
    join(fixture, 'paper.pdf'),
    '--workspace',
    workspace,
    '--rubric',
    rubric,
    '--state-dir',
    stateDir,
    '--base-url',
    server.url,
    '--model',
    'scripted',
    '--network',
    'none',
    '--image',
    FULL_IMAGE,
    '--approval',
    'auto-accept',
    '--label',
    'klong.test.paper=1',
  ];
  // The key from OPENAI_API_KEY, the fallback when KLONG_API_KEY is not set.
  const { code, stderr } = await runCli(args, {
    env: { KLONG_API_KEY: undefined, OPENAI_API_KEY: 'sk-test-not-a-secret' },
  });
  assert.equal(code, 0, `klong reproduce failed:\n${stderr.slice(-4000)}`);

  // The accepted files are in the user's workspace.
  for (const f of ['resampling.py', 'reproduce.sh', 'README.md', 'REPRODUCTION.md', 'reproduce.log'])
    assert.ok(existsSync(join(workspace, f)), `${f} is missing from the workspace`);

  // reproduce.sh ran in the fresh container and regenerated the paper's numbers.
  const log = readFileSync(join(workspace, 'reproduce.log'), 'utf8');
  const ours = parseResults(log);
  const theirs = expected();
  assert.equal(ours.size, 8, `reproduce.log has no results table:\n${log}`);
  for (const [method, want] of theirs) {
    const got = ours.get(method);
    assert.ok(got, `method ${method} missing`);
    // 40 datasets instead of 1000: the standard error of a mean is ~0.02.
    assert.ok(
      Math.abs(got.mean - want.mean) < 0.08,
      `${method}: mean ${got.mean} vs the paper's ${want.mean}`,
    );
  }
  assert.ok(ours.get('R')!.mean < 0.35, 'resubstitution should be biased low');

  // The report carries the grade: every leaf passed by the scripted judge → 100%.
  const report = readFileSync(join(workspace, 'REPRODUCTION.md'), 'utf8');
  assert.match(report, /Resampling methods/i);
  assert.match(report, /100(\.0)?\s?%/);
  assert.match(report, /bash reproduce\.sh/);

  // Every agent request had the paper pinned at its head, and the key was sent, never leaked.
  const agentRequests = server.requests.filter((r) => r.tools?.length);
  assert.ok(agentRequests.length >= 7, `only ${agentRequests.length} agent requests`);
  for (const r of agentRequests) {
    const head = r.messages
      .slice(0, 3)
      .map((m) => m.content ?? '')
      .join('\n');
    assert.match(head, /Resampling methods for evaluating classification accuracy/i);
  }
  assert.ok(server.authHeaders.every((h) => h === 'Bearer sk-test-not-a-secret'));
  const events = spawnSync('grep', ['-rl', 'sk-test-not-a-secret', stateDir], { encoding: 'utf8' }).stdout;
  assert.equal(events, '', 'the API key was written to the session state');
});
