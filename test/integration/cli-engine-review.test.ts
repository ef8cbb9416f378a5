/**
 * The engine VS Code starts (`--wait-for-client`) after its session ended (real CLI, real container,
 * scripted model): while a client follows it and a proposal waits, it stays to take the decision
 * (the engine writes the file), then exits; with no client it exits at once and the proposal is in
 * proposals.patch.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ControlClient, readControlInfo } from '../../src/engine/control';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli, sessionEvents, until } from '../support/cli-run';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();
const engines: number[] = [];
after(() => {
  for (const pid of engines) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already ended
    }
  }
});
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The agent writes result.txt (a proposal: the workspace has files, so review mode), then ends. */
async function endedWithProposal(name: string, attach: boolean) {
  const server = await cleanup.modelServer((_req, i) =>
    i === 0
      ? tools(call('write_file', { path: 'result.txt', content: 'from the agent\n' }))
      : tools(call('end_task', { summary: 'done' })),
  );
  const s = cleanup.session(name);
  const started = await runCli(
    [...reproduceArgs(s, server.url), '--no-final-run', '--wait-for-client', '--detach'],
    { killAfterMs: 180_000 },
  );
  assert.equal(started.code, 0, started.stderr);
  const dir = join(s.stateDir, s.sessionId);
  const pid = readControlInfo(dir)?.pid;
  assert.ok(pid);
  engines.push(pid);
  const client = attach ? await ControlClient.connect(dir) : undefined;
  if (attach) assert.ok(client);
  await until('the end of the session', () =>
    sessionEvents(s.stateDir, s.sessionId).some((e) => e.type === 'end'),
  );
  return { s, dir, pid, client };
}

describe('the engine of a VS Code session after its end', { skip }, () => {
  test('stays while a client follows and a proposal waits; exits once it is decided', async () => {
    const { s, pid, client } = await endedWithProposal('review-wait', true);
    // Long enough for an engine that did not wait to have written its patch and closed the channel.
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(alive(pid), 'the engine waits for the decision');
    const r = await client!.decide({ path: 'result.txt', decision: 'accept' });
    assert.equal(r.status, 'accepted', r.message);
    assert.equal(readFileSync(join(s.workspace, 'result.txt'), 'utf8'), 'from the agent\n');
    await until('the engine to exit', () => !alive(pid), 60_000);
    client!.dispose();
  });

  test('with no client it exits at once; the proposal is in proposals.patch', async () => {
    const { s, dir, pid } = await endedWithProposal('review-none', false);
    await until('the engine to exit', () => !alive(pid), 15_000);
    assert.equal(existsSync(join(s.workspace, 'result.txt')), false);
    assert.match(readFileSync(join(dir, 'proposals.patch'), 'utf8'), /result\.txt/);
  });
});
