/**
 * Acceptance, headless: `klong reproduce` on the real fixture paper (Etherington & Lieske, ReScience C)
 * with the scripted model, a real container (default scientific image, network none) and a rubric.
 * The agent writes the experiment and reproduce.sh, runs it; the final run happens in a fresh
 * container; the grade and REPRODUCTION.md land in the workspace; the numbers match the authors'.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startModelServer } from '../support/model-server';
import { parseResults, RESAMPLING_RUBRIC, resamplingScript } from '../support/resampling-agent';
import { skipDocker, TEST_IMAGE } from './sandbox-support';

const repo = join(__dirname, '..', '..');
const cli = join(repo, 'dist', 'cli.js');
const fixture = join(repo, '..', 'shared', 'fixtures', 'papers', 'etherington-lieske-resampling');
// The image CI builds; with KLONG_REQUIRE_DOCKER=1 a missing engine or image fails the run.
const IMAGE = TEST_IMAGE;

function skipReason(): string | false {
  if (!existsSync(fixture)) return `fixture paper not found at ${fixture} (../shared is absent); skipped`;
  if (!existsSync(cli)) return 'dist/cli.js is missing: run `npm run build` first';
  if (skipDocker) return skipDocker;
  return false;
}
const skip = skipReason();

const dirs: string[] = [];
after(() => {
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', 'label=klong.test.paper=1'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function expected(): Map<string, { mean: number; std: number }> {
  return parseResults(readFileSync(join(fixture, 'expected_results.tsv'), 'utf8'));
}

test('klong reproduce reproduces the resampling paper end to end', {
  skip,
  timeout: 15 * 60_000,
}, async () => {
  const root = mkdtempSync(join(tmpdir(), 'klong-paper-'));
  dirs.push(root);
  const workspace = join(root, 'workspace');
  const stateDir = join(root, 'state');
  spawnSync('mkdir', ['-p', workspace]);
  const rubric = join(root, 'rubric.json');
  writeFileSync(rubric, JSON.stringify(RESAMPLING_RUBRIC));
  const server = await startModelServer(resamplingScript());
  try {
    const args = [
      cli,
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
      IMAGE,
      '--approval',
      'auto-accept',
      '--label',
      'klong.test.paper=1',
    ];
    const child = spawn(process.execPath, args, {
      env: { ...process.env, OPENAI_API_KEY: 'sk-test-not-a-secret' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
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
  } finally {
    await server.close();
  }
});
