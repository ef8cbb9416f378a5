/**
 * kill -9 the real CLI (`node dist/cli.js reproduce`, docker sandbox, scripted model server) at
 * random points of a running session, then `--resume` it. Every event that was on disk before a
 * kill must survive unchanged, every resume must go on writing, and a last resume ends the task.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventLog, openSession } from '../../src/session';
import { cliCleanup, cliDockerSkip, reproduceArgs, resumeArgs, runCli } from '../support/cli-run';
import { call, tools } from '../support/model-server';

const KILLS = 5;
const skip = cliDockerSkip();
const cleanup = cliCleanup();

/** Complete lines on disk right now, as a reader sees them (never a torn one). */
function onDisk(dir: string): string[] {
  if (!existsSync(join(dir, 'events.jsonl'))) return [];
  const log = EventLog.open(dir);
  try {
    return log.read(0).map((e) => JSON.stringify(e));
  } finally {
    log.close();
  }
}

describe('kill -9 of the real CLI', { skip }, () => {
  test(`${KILLS} kills at random points; each --resume keeps every event on disk and goes on`, async () => {
    let ended = false;
    const server = await cleanup.modelServer(
      (_req, i) =>
        ended
          ? tools(call('end_task', { summary: 'done after kills' }))
          : tools(call('bash', { command: `echo step ${i}; seq 1 3000` })),
      { apiKey: 'sk-test' },
    );
    const session = cleanup.session('crash');
    const { stateDir, sessionId } = session;
    const dir = join(stateDir, sessionId);
    const first = [...reproduceArgs(session, server.url), '--no-final-run'];
    const resume = [...resumeArgs(session, server.url), '--no-final-run'];

    let before: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      let child: ChildProcess | undefined;
      const run = runCli(k === 0 ? first : resume, {
        onChild: (c) => {
          child = c;
        },
      });
      // The stderr so far: the child appends to it until it closes.
      let stderr = '';
      child!.stderr!.on('data', (b) => {
        stderr += b;
      });
      // Let it write a few more events than last time, then a random extra moment.
      const start = Date.now();
      const target = before.length + 6;
      while (onDisk(dir).length < target) {
        assert.ok(Date.now() - start < 90_000, `run ${k} made no progress: ${stderr}`);
        assert.equal(child!.exitCode, null, `run ${k} exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      before = onDisk(dir);
      if (process.env.KLONG_DEBUG)
        console.log(`kill ${k} after ${Date.now() - start} ms at ${before.length} events`);
      child!.kill('SIGKILL');
      await run;
      const opened = openSession(dir);
      assert.ok(opened.count >= before.length, `run ${k}: nothing on disk was lost`);
      const after = onDisk(dir);
      assert.deepEqual(after.slice(0, before.length), before, `run ${k}: events before the kill unchanged`);
      assert.equal(after.filter((l) => l.includes('"type":"session_started"')).length, 1);
    }
    // A last resume finishes the task and exits 0.
    ended = true;
    const r = await runCli(resume, { killAfterMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /done after kills/);
    const final = onDisk(dir);
    assert.deepEqual(final.slice(0, before.length), before);
    assert.ok(final.length > before.length);
  });
});
