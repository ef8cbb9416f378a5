/**
 * `klong reproduce --json`: one JSON object on stdout at the end (progress and messages on stderr),
 * for a finished run with pending edits, a run the endpoint stops (resumable), and bad input.
 * Real container (network none), the scripted model server, the built CLI.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import type { ReproduceSummary } from '../../src/cli/reproduce';
import { CLI, cliCleanup, cliDockerSkip, reproduceArgs, runCli } from '../support/cli-run';
import { call, faults, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

/** stdout must be exactly one JSON object (and a newline). */
function onlyJson(stdout: string): ReproduceSummary {
  const lines = stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `stdout is not one line of JSON:\n${stdout}`);
  return JSON.parse(lines[0]!) as ReproduceSummary;
}

describe('klong reproduce --json', { skip }, () => {
  test('a finished run: status, summary, pending edits and the patch; the progress stays on stderr', async () => {
    const server = await cleanup.modelServer([
      tools(call('write_file', { path: 'hello.py', content: 'print(42)\n' })),
      tools(call('end_task', { summary: 'printed 42' })),
    ]);
    const s = cleanup.session('json-done');
    const r = await runCli(
      [...reproduceArgs(s, server.url), '--approval', 'review', '--no-final-run', '--json'],
      {
        env: { NO_COLOR: '1' },
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const j = onlyJson(r.stdout);
    assert.equal(j.sessionId, s.sessionId);
    assert.equal(j.status, 'done');
    assert.equal(j.reason, 'end_task');
    assert.equal(j.summary, 'printed 42');
    assert.equal(j.exitCode, 0);
    assert.equal(j.grade, null);
    assert.equal(j.resume, null);
    assert.equal(j.workspace, s.workspace);
    assert.deepEqual(
      j.pending.find((p) => p.path === 'hello.py'),
      { path: 'hello.py', change: 'added', additions: 1, deletions: 0 },
    );
    assert.ok(
      j.pending.some((p) => p.path === 'REPRODUCTION.md'),
      'the report is a pending edit too',
    );
    assert.ok(j.patch && existsSync(j.patch), `the patch file ${j.patch} exists`);
    assert.match(r.stderr, /step \d+ · /, 'the progress line is on stderr');
    assert.doesNotMatch(r.stderr, /\x1b\[3\dm/, 'NO_COLOR: no colour codes');
  });

  test('a run the endpoint stops: exit 3 and the resume command in the JSON', async () => {
    const server = await cleanup.modelServer([faults.unauthorized()], { apiKey: 'sk-other' });
    const s = cleanup.session('json-auth');
    const r = await runCli([...reproduceArgs(s, server.url), '--json']);
    assert.equal(r.code, 3, r.stderr);
    const j = onlyJson(r.stdout);
    assert.equal(j.status, 'stopped');
    assert.equal(j.exitCode, 3);
    assert.match(j.reason, /401|API key/);
    assert.match(j.resume ?? '', new RegExp(`klong reproduce --resume ${s.sessionId}`));
  });
});

test('klong reproduce --json with bad input: the error as JSON on stdout, the message on stderr', async () => {
  if (!existsSync(CLI)) return;
  const r = await runCli(['reproduce', 'paper.md', '--json']);
  assert.equal(r.code, 2);
  const j = onlyJson(r.stdout);
  assert.equal(j.status, 'error');
  assert.equal(j.exitCode, 2);
  assert.match(j.reason, /--workspace DIR is required/);
  assert.match(r.stderr, /--workspace DIR is required/);
  const d = await runCli(['reproduce', 'paper.md', '--workspace', '/tmp/x', '--json', '--detach']);
  assert.equal(d.code, 2);
  assert.match(d.stderr, /--json reports a run in the foreground/);
});
