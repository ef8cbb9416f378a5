/**
 * The README's main command on a fresh machine: `klong reproduce paper --workspace ./new-folder`
 * creates the folder and leaves a working reproduction in it (real CLI, container, scripted model).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli } from '../support/cli-run';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

describe('klong reproduce into a folder that does not exist yet', { skip }, () => {
  test('creates it, writes the agent’s files into it as they come, says how to run them', async () => {
    const server = await cleanup.modelServer(
      [
        tools(call('write_file', { path: 'train.py', content: 'print("accuracy 0.91")\n' })),
        tools(call('write_file', { path: 'reproduce.sh', content: 'python3 train.py | tee results.txt\n' })),
        tools(call('end_task', { summary: 'trained' })),
      ],
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('new-ws');
    rmSync(s.workspace, { recursive: true, force: true });
    const workspace = join(s.workspace, 'nested', 'my-repro');
    const r = await runCli(reproduceArgs({ ...s, workspace }, server.url).concat('--no-final-run'), {
      killAfterMs: 300_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Created the workspace/);
    assert.match(r.stderr, /workspace is empty: the agent’s changes are written into it/);
    assert.equal(readFileSync(join(workspace, 'train.py'), 'utf8'), 'print("accuracy 0.91")\n');
    assert.ok(existsSync(join(workspace, 'reproduce.sh')));
    assert.doesNotMatch(r.stderr, /not applied/);
    assert.match(
      r.stderr,
      new RegExp(
        `run it again with: cd ${workspace.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} && bash reproduce\\.sh`,
      ),
    );
  });
});
