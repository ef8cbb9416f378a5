/**
 * kill -9 the real CLI (`node dist/cli.js reproduce`, docker sandbox, scripted model server) at
 * random points of a running session, then `--resume` it. Every event that was on disk before a
 * kill must survive unchanged, every resume must go on writing, and a last resume ends the task.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { EventLog, openSession } from '../../src/session';
import { PAPER_MD } from '../support/agent-harness';
import { call, type ModelServer, startModelServer, tools } from '../support/model-server';
import { skipDocker, TEST_IMAGE } from './sandbox-support';

const repo = join(__dirname, '..', '..');
const cli = join(repo, 'dist', 'cli.js');
// The image CI builds; with KLONG_REQUIRE_DOCKER=1 a missing engine or image fails the run.
const IMAGE = TEST_IMAGE;
const KILLS = 5;

function skipReason(): string | false {
  if (!existsSync(cli)) return 'dist/cli.js is missing: run `npm run build` first; CLI crash test skipped';
  if (skipDocker) return skipDocker;
  return false;
}
const skip = skipReason();

const work = mkdtempSync(join(tmpdir(), 'klong-cli-crash-'));
const sessionId = `cli-crash-${process.pid}-${Date.now().toString(36)}`;
const servers: ModelServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=klong.session=${sessionId}`], {
    encoding: 'utf8',
  }).stdout.trim();
  if (ids) spawnSync('docker', ['rm', '-f', ...ids.split('\n')]);
  rmSync(work, { recursive: true, force: true });
});

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

function cliEnv() {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    KLONG_API_KEY: 'sk-test',
    DOCKER_HOST: process.env.DOCKER_HOST,
  };
}

describe('kill -9 of the real CLI', { skip }, () => {
  test(`${KILLS} kills at random points; each --resume keeps every event on disk and goes on`, async () => {
    let ended = false;
    const server = await startModelServer(
      (_req, i) =>
        ended
          ? tools(call('end_task', { summary: 'done after kills' }))
          : tools(call('bash', { command: `echo step ${i}; seq 1 3000` })),
      { apiKey: 'sk-test' },
    );
    servers.push(server);
    const workspace = join(work, 'ws');
    const stateDir = join(work, 'state');
    const paper = join(work, 'paper.md');
    spawnSync('mkdir', ['-p', workspace]);
    writeFileSync(paper, PAPER_MD);
    const dir = join(stateDir, sessionId);
    const common = ['--state-dir', stateDir, '--model', 'test-model', '--base-url', server.url];
    const common2 = ['--no-final-run', '--label', 'klong.test=1'];
    const first = [
      'reproduce',
      paper,
      '--workspace',
      workspace,
      '--session-id',
      sessionId,
      '--network',
      'none',
      '--image',
      IMAGE,
      '--budget',
      '1h',
      ...common,
      ...common2,
    ];
    const resume = ['reproduce', '--resume', sessionId, ...common, ...common2];

    let before: string[] = [];
    for (let k = 0; k < KILLS; k++) {
      const child = spawn(process.execPath, [cli, ...(k === 0 ? first : resume)], {
        env: cliEnv(),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (b) => {
        stderr += b;
      });
      const closed = new Promise<void>((r) => child.on('close', () => r()));
      // Let it write a few more events than last time, then a random extra moment.
      const start = Date.now();
      const target = before.length + 6;
      while (onDisk(dir).length < target) {
        assert.ok(Date.now() - start < 90_000, `run ${k} made no progress: ${stderr}`);
        assert.equal(child.exitCode, null, `run ${k} exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      before = onDisk(dir);
      if (process.env.KLONG_DEBUG)
        console.log(`kill ${k} after ${Date.now() - start} ms at ${before.length} events`);
      child.kill('SIGKILL');
      await closed;
      const opened = openSession(dir);
      assert.ok(opened.count >= before.length, `run ${k}: nothing on disk was lost`);
      const after = onDisk(dir);
      assert.deepEqual(after.slice(0, before.length), before, `run ${k}: events before the kill unchanged`);
      assert.equal(after.filter((l) => l.includes('"type":"session_started"')).length, 1);
    }
    // A last resume finishes the task and exits 0.
    ended = true;
    // Not spawnSync: the model server runs in this process and must keep answering.
    const last = spawn(process.execPath, [cli, ...resume], {
      env: cliEnv(),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let lastErr = '';
    last.stderr.on('data', (d) => {
      lastErr += d;
    });
    const timer = setTimeout(() => last.kill('SIGKILL'), 120_000);
    const code = await new Promise<number | null>((res) => last.on('close', (c) => res(c)));
    clearTimeout(timer);
    const r = { status: code, stderr: lastErr };
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /done after kills/);
    const final = onDisk(dir);
    assert.deepEqual(final.slice(0, before.length), before);
    assert.ok(final.length > before.length);
  });
});
