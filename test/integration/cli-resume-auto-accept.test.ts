/**
 * `klong reproduce --approval auto-accept`, kill -9 mid-session, `--resume ID --approval auto-accept`:
 * the files the agent wrote before the crash (accepted or not yet) and after the resume end up in
 * the workspace on the host, with their content, once the resumed session ends.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
} from '../support/cli-run';
import { containerIds } from '../support/docker';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash and resume with auto-accept (real CLI, real Docker)', { skip }, () => {
  test('files written before the kill -9 and after the resume are on the host', async () => {
    let phase: 'first' | 'resumed' = 'first';
    let resumedAt = 0;
    const server = await cleanup.modelServer(
      (_req, i) => {
        if (phase === 'first') {
          if (i === 0) return tools(call('write_file', { path: 'notes/a.txt', content: 'alpha\n' }));
          // Written, then the CLI is killed while the command still runs: never accepted before the crash.
          return tools(
            call('bash', {
              command:
                "mkdir -p data && printf 'beta\\n' > data/b.txt && touch /tmp/klong-b-written; sleep 120",
              timeout_seconds: 200,
            }),
          );
        }
        const j = i - resumedAt;
        if (j === 0) return tools(call('write_file', { path: 'c.txt', content: 'gamma\n' }));
        if (j === 1)
          return tools(call('edit_file', { path: 'notes/a.txt', old_text: 'alpha', new_text: 'ALPHA' }));
        return tools(call('end_task', { summary: 'resumed and done' }));
      },
      { apiKey: 'sk-test' },
    );
    const session = cleanup.session('resume-aa');
    const { stateDir, sessionId, workspace } = session;
    const first = [...reproduceArgs(session, server.url), '--no-final-run', '--approval', 'auto-accept'];

    let child: ChildProcess | undefined;
    let stderr = '';
    const run = runCli(first, {
      onChild: (c) => {
        child = c;
        c.stderr!.on('data', (b) => {
          stderr += b;
        });
      },
      killAfterMs: 300_000,
    });
    // Until the second file is written in the container (and the first one accepted on the host).
    const start = Date.now();
    for (;;) {
      assert.equal(child!.exitCode, null, `the first run exited early: ${stderr}`);
      assert.ok(Date.now() - start < 180_000, `no progress: ${stderr}`);
      const [id] = containerIds(`klong.session=${sessionId}`);
      if (id && spawnSync('docker', ['exec', id, 'test', '-e', '/tmp/klong-b-written']).status === 0) break;
      await sleep(200);
    }
    assert.equal(readFileSync(join(workspace, 'notes/a.txt'), 'utf8'), 'alpha\n', 'accepted before the kill');
    assert.ok(!existsSync(join(workspace, 'data/b.txt')), 'not accepted before the kill');
    child!.kill('SIGKILL');
    await run;

    phase = 'resumed';
    resumedAt = server.requests.length;
    const r = await runCli(
      [...resumeArgs({ sessionId, stateDir }, server.url), '--no-final-run', '--approval', 'auto-accept'],
      { killAfterMs: 300_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /Could not decide|ENOENT/);
    assert.match(r.stderr, /resumed and done/);
    // On the host: the file accepted before the crash (then edited after it), the one the crash left
    // undecided, and the one written after the resume.
    assert.equal(readFileSync(join(workspace, 'notes/a.txt'), 'utf8'), 'ALPHA\n');
    assert.equal(readFileSync(join(workspace, 'data/b.txt'), 'utf8'), 'beta\n');
    assert.equal(readFileSync(join(workspace, 'c.txt'), 'utf8'), 'gamma\n');
    assert.equal(readFileSync(join(workspace, 'README.md'), 'utf8'), '# Reproduction\n');
    assert.ok(!existsSync(join(stateDir, sessionId, 'proposals.patch')), 'nothing left pending');
    const accepted = sessionEvents(stateDir, sessionId)
      .filter((e) => e.type === 'edit_decided' && e.decision === 'accepted')
      .map((e) => e.path);
    assert.deepEqual([...new Set(accepted)].sort(), [
      'REPRODUCTION.md',
      'c.txt',
      'data/b.txt',
      'notes/a.txt',
    ]);
  });
});
