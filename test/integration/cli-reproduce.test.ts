/**
 * `node dist/cli.js reproduce` end to end: the scripted model server (real HTTP), a real
 * container (docker, network none, label klong.test=1), the session store on disk.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CLI, cliCleanup, cliDockerSkip, reproduceArgs, runCli, sessionEvents } from '../support/cli-run';
import { containerIds } from '../support/docker';
import { call, faults, lastObservation, type Script, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

async function setup(script: Script, name: string) {
  const server = await cleanup.modelServer(script, { apiKey: 'sk-test' });
  const session = cleanup.session(name);
  const { workspace, stateDir, sessionId } = session;
  const args = reproduceArgs(session, server.url);
  const events = () => sessionEvents(stateDir, sessionId);
  return { server, workspace, stateDir, sessionId, args, events };
}

const HELLO = 'print("hello", 6 * 7)\n';

describe('klong reproduce (CLI)', { skip }, () => {
  test('plan → write → run → end_task with faults; auto-accept copies the files; final reproduction runs', async () => {
    const s = await setup(
      [
        tools(call('update_plan', { items: [{ text: 'write and run hello.py', status: 'doing' }] })),
        tools(call('write_file', { path: 'hello.py', content: HELLO })),
        faults.rateLimit(1),
        tools(call('bash', { command: 'python3 hello.py | tee out.txt' })),
        faults.serverError(),
        faults.malformedArgs('edit_file'),
        faults.contextLength(),
        (req) => {
          assert.match(lastObservation(req), /not valid JSON/);
          return tools(call('write_file', { path: 'reproduce.sh', content: 'python3 hello.py\n' }));
        },
        tools(call('end_task', { summary: 'hello 42 reproduced' })),
      ],
      'full',
    );
    const r = await runCli([...s.args, '--approval', 'auto-accept']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(join(s.workspace, 'hello.py'), 'utf8'), HELLO);
    assert.equal(readFileSync(join(s.workspace, 'out.txt'), 'utf8'), 'hello 42\n');
    assert.equal(readFileSync(join(s.workspace, 'reproduce.sh'), 'utf8'), 'python3 hello.py\n');
    assert.match(r.stderr, /step \d+ · \w[\w-]* · \d+s \/ 1h · [\d.]+k? tok \(\d+% cached\) · \$[\d.]+/);
    assert.match(r.stderr, /ended \(end_task\): hello 42 reproduced/);
    assert.match(r.stderr, /model request failed: retrying in \d+ s, attempt 2 of 7 \(429/);
    assert.deepEqual(s.server.served, [
      'reply',
      'reply',
      'rate_limit',
      'reply',
      'server_error',
      'reply',
      'context_length',
      'reply',
      'reply',
    ]);
    // After the context-length error the retry starts a new window: same head, then the progress note.
    const retried = s.server.requests[7]!;
    assert.match(retried.messages[2]!.content!, /^\[Context window 2[\s\S]*## Files written\n- hello\.py/);
    const head = JSON.stringify(s.server.requests[0]!.messages.slice(0, 2));
    assert.match(head, /Run hello\.py; expect/);
    for (const q of s.server.requests) assert.equal(JSON.stringify(q.messages.slice(0, 2)), head);
    const ev = s.events();
    const final = ev.find((e) => e.type === 'tool_result' && e.name === 'final_reproduction');
    assert.ok(final, 'final reproduction logged');
    assert.match(String(final.output), /hello 42/);
    assert.ok(
      ev.some((e) => e.type === 'edit_decided' && e.decision === 'accepted' && e.path === 'hello.py'),
    );
    assert.ok(ev.some((e) => e.type === 'end' && e.reason === 'end_task'));
    assert.deepEqual(
      containerIds(`klong.session=${s.sessionId}`),
      [],
      'container removed after a finished session',
    );
  });

  // The retry message names the stall timeout in use, so the test proves the option took effect
  // without depending on how fast this machine is.
  test('--request-timeout: a stalled response is abandoned and retried', async () => {
    const s = await setup([faults.stall(), tools(call('end_task', { summary: 'after the stall' }))], 'stall');
    const r = await runCli([...s.args, '--request-timeout', '2', '--no-final-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(s.server.served, ['stall', 'reply']);
    assert.match(r.stderr, /stalled stream: no data from the endpoint for 2 s/);
  });

  test('Ctrl-C checkpoints and exits 130; --resume continues in the same container', async () => {
    let child: ChildProcess | undefined;
    const s = await setup(
      [
        tools(call('write_file', { path: 'a.txt', content: 'A\n' })),
        () => {
          setTimeout(() => child?.kill('SIGINT'), 1500);
          return tools(call('bash', { command: 'sleep 60' }));
        },
      ],
      'int',
    );
    const r = await runCli(s.args, {
      onChild: (c) => {
        child = c;
      },
    });
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, new RegExp(`Resume with: klong reproduce --resume ${s.sessionId}`));
    assert.equal(existsSync(join(s.workspace, 'a.txt')), false, 'review mode: the workspace is untouched');

    const s2server = await cleanup.modelServer(
      [
        (req) => {
          assert.match(lastObservation(req), /Interrupted|exit code/);
          return tools(call('bash', { command: 'cat a.txt' }));
        },
        (req) => {
          assert.match(lastObservation(req), /^A\n\[exit code: 0\]/);
          return tools(call('end_task', { summary: 'resumed' }));
        },
      ],
      { apiKey: 'sk-test' },
    );
    const r2 = await runCli([
      'reproduce',
      '--resume',
      s.sessionId,
      '--state-dir',
      s.stateDir,
      '--base-url',
      s2server.url,
      '--model',
      'test-model',
      '--no-final-run',
      '--label',
      'klong.test=1',
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /reattached|Session .* ended \(end_task\): resumed/);
    assert.equal(
      JSON.stringify(s2server.requests[0]!.messages.slice(0, 2)),
      JSON.stringify(s.server.requests[0]!.messages.slice(0, 2)),
      'the pinned head survives the resume byte for byte',
    );
    // Review mode: the change is a proposal, written as a patch, not applied.
    assert.equal(existsSync(join(s.workspace, 'a.txt')), false);
    assert.match(r2.stderr, /proposed edit\(s\) not applied/);
    assert.match(
      readFileSync(join(s.stateDir, s.sessionId, 'proposals.patch'), 'utf8'),
      /\+\+\+ b\/a\.txt[\s\S]*\+A/,
    );
  });

  test('a rejected API key stops with exit 3, a clear message and a resumable session', async () => {
    const s = await setup([faults.unauthorized()], 'auth');
    const r = await runCli(s.args);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /rejected the API key \(401\)/);
    assert.match(r.stderr, /Resume with: klong reproduce --resume/);
    assert.doesNotMatch(readFileSync(join(s.stateDir, s.sessionId, 'events.jsonl'), 'utf8'), /sk-test/);
  });
});

test('bad CLI input gets a clear error without touching anything', async () => {
  if (!existsSync(CLI)) return;
  const r1 = await runCli(['reproduce', 'paper.md']);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /--workspace DIR is required/);
  const r2 = await runCli(['reproduce', 'p.md', '--workspace', '/tmp', '--budget', 'soon']);
  assert.equal(r2.code, 2);
  assert.match(
    r2.stderr,
    /--budget must be a time above zero with its unit, e\.g\. 12h, 90m or 1h30m; got "soon"/,
  );
  const r3 = await runCli(['reproduce', 'p.md', '--workspace', '/tmp', '--approval', 'yolo']);
  assert.match(r3.stderr, /--approval must be auto-accept, review or ask-each, got "yolo"/);
  const r4 = await runCli(['reproduce', 'p.md', '--frobnicate']);
  assert.match(r4.stderr, /Unknown option '--frobnicate'/);
});
