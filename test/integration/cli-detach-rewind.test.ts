/**
 * Rewind and messages of a session its own engine drives (real CLI, real container, scripted
 * model over HTTP): `klong rewind` of a running `--detach` session goes through the control channel
 * and the agent continues from the rewound step; an engine killed (SIGKILL) right after a rewind
 * request resumes rewound, once; `klong say` with no engine serving the session waits in its inbox
 * and reaches the model exactly once, also across a killed engine.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ControlClient, readControlInfo } from '../../src/engine/control';
import {
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
  until,
} from '../support/cli-run';
import { type ChatBody, call, lastObservation, textOf, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const REWOUND = /rewound the session to step 1/;
const all = (req: ChatBody) => req.messages.map((m) => textOf(m.content)).join('\n');
const checkpoints = (stateDir: string, id: string) =>
  sessionEvents(stateDir, id).filter((e) => e.type === 'checkpoint').length;

/** Steps 1 and 2 write a.txt and b.txt; later steps sleep until the context shows the rewind. */
function rewindScript(sleep: string, seen: ChatBody[]) {
  return (req: ChatBody, i: number) => {
    if (i === 0) return tools(call('write_file', { path: 'a.txt', content: 'one\n' }));
    if (i === 1) return tools(call('write_file', { path: 'b.txt', content: 'two\n' }));
    if (REWOUND.test(all(req))) {
      seen.push(req);
      return /^one\n/.test(lastObservation(req))
        ? tools(call('end_task', { summary: 'continued after the rewind' }))
        : tools(call('bash', { command: 'cat a.txt; ls' }));
    }
    return tools(call('bash', { command: `sleep ${sleep}; echo step ${i}` }));
  };
}

describe('rewind and messages of a running engine', { skip }, () => {
  test('klong rewind of a running --detach session: the engine rewinds at the step boundary and the agent goes on', async () => {
    const seen: ChatBody[] = [];
    const server = await cleanup.modelServer(rewindScript('0.3', seen), { apiKey: 'sk-test' });
    const s = cleanup.session('rw-live');
    const { dir, pid } = await cleanup.detach(s, [...reproduceArgs(s, server.url), '--no-final-run']);
    await until('steps 1 and 2 recorded', () => checkpoints(s.stateDir, s.sessionId) >= 2);

    const rw = await runCli(['rewind', s.sessionId, '--to', '1', '--state-dir', s.stateDir], {
      killAfterMs: 120_000,
    });
    assert.equal(rw.code, 0, rw.stderr);
    assert.match(
      rw.stdout,
      /Code and conversation of .* rewound to step 1 \(was at step \d+\)\. 1 file\(s\)/,
    );
    assert.match(rw.stdout, /goes on/);
    assert.equal(readControlInfo(dir)?.pid, pid, 'the same engine goes on');

    await until('the engine to end the session', () => !readControlInfo(dir));
    assert.ok(seen.length >= 2, 'the model was asked after the rewind');
    const first = all(seen[0]!);
    assert.match(first, /a\.txt/);
    assert.doesNotMatch(first, /b\.txt/, 'step 2 is not in the context after the rewind');
    // The files in the container are those of step 1.
    assert.match(lastObservation(seen[1]!), /^one\nREADME\.md\na\.txt\n\[exit code: 0\]/);
    const events = sessionEvents(s.stateDir, s.sessionId);
    assert.equal(events.filter((e) => e.type === 'rewind').length, 1);
    assert.ok(events.some((e) => e.type === 'end'));
    assert.ok(!existsSync(join(dir, 'rewind.json')), 'the request is cleared once done');
    assert.equal(server.requests.filter((r) => REWOUND.test(all(r))).length, seen.length);
  });

  test('engine killed right after a rewind request: the resume is rewound, once', async () => {
    const seen: ChatBody[] = [];
    const server = await cleanup.modelServer(rewindScript('3', seen), { apiKey: 'sk-test' });
    const s = cleanup.session('rw-kill');
    const { dir, pid } = await cleanup.detach(s, [...reproduceArgs(s, server.url), '--no-final-run']);
    await until('steps 1 and 2 recorded', () => checkpoints(s.stateDir, s.sessionId) >= 2);
    await until('a sleeping step', () => server.requests.length >= 3);

    const client = await ControlClient.connect(dir);
    assert.ok(client);
    const asked = client.rewind({ step: 1, mode: 'both' }).catch((e: Error) => e);
    await until('the request to be written down', () => existsSync(join(dir, 'rewind.json')), 30_000);
    process.kill(pid, 'SIGKILL');
    assert.ok((await asked) instanceof Error, 'the engine died before answering');
    client.dispose();
    assert.equal(sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'rewind').length, 0);

    const server2 = await cleanup.modelServer(
      (req) =>
        /^one\n/.test(lastObservation(req))
          ? tools(call('end_task', { summary: 'continued after the rewind' }))
          : tools(call('bash', { command: 'cat a.txt; ls' })),
      { apiKey: 'sk-test' },
    );
    const r = await runCli([...resumeArgs(s, server2.url), '--no-final-run'], { killAfterMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Rewound to step 1 as asked before the engine stopped/);
    assert.match(r.stderr, /ended \(end_task\): continued after the rewind/);
    const first = all(server2.requests[0]!);
    assert.match(first, REWOUND);
    assert.doesNotMatch(first, /b\.txt/);
    assert.match(lastObservation(server2.requests[1]!), /^one\nREADME\.md\na\.txt\n\[exit code: 0\]/);
    const events = sessionEvents(s.stateDir, s.sessionId);
    assert.equal(events.filter((e) => e.type === 'rewind').length, 1, 'rewound once');
    assert.ok(!existsSync(join(dir, 'rewind.json')));
  });

  test('klong say with no engine serving the session: kept in its inbox, handed to the model once, also across a killed engine', async () => {
    const MSG = 'Please keep the seed at 7.';
    const count = (req: ChatBody) =>
      req.messages.filter((m) => m.role === 'user' && textOf(m.content).includes(MSG)).length;
    const server = await cleanup.modelServer([tools(call('bash', { command: 'echo first' }))], {
      apiKey: 'sk-test',
    });
    const s = cleanup.session('say-inbox');
    const r1 = await runCli([...reproduceArgs(s, server.url), '--max-steps', '1'], { killAfterMs: 180_000 });
    assert.equal(r1.code, 1, r1.stderr);
    const said = await runCli(['say', s.sessionId, MSG, '--state-dir', s.stateDir]);
    assert.equal(said.code, 0, said.stderr);
    assert.match(said.stdout, /Message kept: .* not running; the agent reads it when it resumes/);

    // The engine hands it at its first step; the step after is killed mid-command.
    const server2 = await cleanup.modelServer(
      (req) =>
        count(req) && /^heard/.test(lastObservation(req))
          ? tools(call('bash', { command: 'sleep 60' }))
          : tools(call('bash', { command: count(req) ? 'echo heard' : 'echo nothing' })),
      { apiKey: 'sk-test' },
    );
    const { pid } = await cleanup.detach(s, [...resumeArgs(s, server2.url), '--no-final-run']);
    await until('the sleeping step', () => server2.requests.length >= 2);
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(
      server2.requests.map(count),
      [1, 1],
      'the model saw the message once, from its first request',
    );
    const logged = () =>
      sessionEvents(s.stateDir, s.sessionId).filter(
        (e) => e.type === 'user_message' && String(e.text).includes(MSG),
      );
    assert.equal(logged().length, 1);
    assert.ok(logged()[0]!.inbox, 'the event names the inbox message');

    const server3 = await cleanup.modelServer(
      (req) => tools(call('end_task', { summary: `message seen ${count(req)} time(s)` })),
      { apiKey: 'sk-test' },
    );
    const r3 = await runCli([...resumeArgs(s, server3.url), '--no-final-run'], { killAfterMs: 180_000 });
    assert.equal(r3.code, 0, r3.stderr);
    assert.match(r3.stderr, /message seen 1 time\(s\)/);
    assert.equal(logged().length, 1, 'not handed again after the crash');
  });
});
