/**
 * Sessions in an engine process of their own (real CLI, real container, scripted model):
 * `reproduce --detach` returns at once with the id; two `attach` clients see the same events; a
 * client killed with SIGKILL never stops the agent; `pause`, `resume`, `say` and `stop` steer it; a
 * message reaches the model's next request and the log.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { compact } from '../../src/cli/progress';
import { ControlClient, type Question, readControlInfo } from '../../src/engine/control';
import {
  attachCli,
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  runCli,
  sessionEvents,
  until,
} from '../support/cli-run';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

const MESSAGE = 'Use seed 7 for every run, please.';

describe('klong reproduce --detach, attach, say, pause, resume, stop', { skip }, () => {
  test('the engine runs on its own; clients follow and steer it; a killed client stops nothing', async () => {
    let heard = -1;
    const server = await cleanup.modelServer(
      (req, i) => {
        const said = req.messages.some((m) => typeof m.content === 'string' && m.content.includes(MESSAGE));
        if (said && heard < 0) heard = i;
        return said
          ? tools(call('end_task', { summary: 'heard the user' }))
          : tools(call('bash', { command: `sleep 0.3; echo step ${i}` }));
      },
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('detach');
    const { run: started } = await cleanup.detach(s, [...reproduceArgs(s, server.url), '--no-final-run']);
    assert.equal(started.stdout.trim(), s.sessionId, 'stdout is the session id alone');
    assert.match(started.stderr, /runs in the background/);

    const a = attachCli(s.sessionId, s.stateDir);
    const b = attachCli(s.sessionId, s.stateDir);
    await until('both clients to attach', () => /Attached/.test(a.out()) && /Attached/.test(b.out()));
    await until('live steps in client b', () => /bash: sleep 0\.3/.test(b.out()));

    // A client killed outright: the agent goes on.
    a.child.kill('SIGKILL');
    await a.done;
    const stepsAt = sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'tool_call').length;
    await until('more steps after a client was killed', () => {
      return (
        sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'tool_call').length > stepsAt + 2
      );
    });

    // A client that attaches late, when the log holds more than it replays.
    const c = attachCli(s.sessionId, s.stateDir);
    await until('the late client to attach', () => /Attached/.test(c.out()));

    const paused = await runCli(['pause', s.sessionId, '--state-dir', s.stateDir]);
    assert.equal(paused.code, 0, paused.stderr);
    assert.match(paused.stdout, /Paused\. .*: paused/);
    const resumed = await runCli(['resume', s.sessionId, '--state-dir', s.stateDir]);
    assert.match(resumed.stdout, /Resumed\. .*: running/);

    const said = await runCli(['say', s.sessionId, MESSAGE, '--state-dir', s.stateDir]);
    assert.equal(said.code, 0, said.stderr);
    assert.match(said.stdout, /next step/);

    // The message reaches the model, the agent ends, and the remaining client sees it all.
    assert.equal(await b.done, 0, b.out());
    assert.ok(heard > 0, 'a model request carried the message');
    assert.match(b.out(), new RegExp(`→ agent: Message from the user.*${MESSAGE.replace('.', '\\.')}`));
    assert.match(b.out(), /ended \(end_task\)/);
    const events = sessionEvents(s.stateDir, s.sessionId);
    // A client that attached mid-session counts every token of the session, not only those it saw.
    const used = events
      .filter((e) => e.type === 'model_response')
      .reduce((n, e) => {
        const u = e.usage as { promptTokens: number; completionTokens: number };
        return n + u.promptTokens + u.completionTokens;
      }, 0);
    assert.ok(used > 0);
    assert.equal(await c.done, 0, c.out());
    for (const client of [b, c]) {
      const shown = [...client.out().matchAll(/ (~?[\d.]+[kM]?) tok /g)].map((m) => m[1]!.replace('~', ''));
      assert.equal(shown.at(-1), compact(used), client.out());
    }
    assert.ok(events.some((e) => e.type === 'user_message' && String(e.text).endsWith(MESSAGE)));
    assert.ok(events.some((e) => e.type === 'end'));
    await until('the engine to exit', () => !readControlInfo(`${s.stateDir}/${s.sessionId}`));
    const gone = await runCli(['say', s.sessionId, 'hello?', '--state-dir', s.stateDir]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /is not running .*klong reproduce --resume/);
  });

  test('a client decides proposals (the engine writes the files) and answers the spend cap the engine waits on', async () => {
    const server = await cleanup.modelServer(
      (_req, i) =>
        i === 0
          ? tools(call('write_file', { path: 'result.txt', content: 'from the agent\n' }))
          : tools(call('bash', { command: `sleep 0.3; echo step ${i}` })),
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('detach-ask');
    // A workspace with files: review mode. A price and a tiny cap: the cap is reached at once; with
    // --wait-for-client the engine waits for a client to answer instead of stopping.
    const started = await runCli(
      [
        ...reproduceArgs(s, server.url),
        '--no-final-run',
        '--price',
        '1000,1000,1000',
        '--spend-cap',
        '0.5',
        '--wait-for-client',
        '--detach',
      ],
      { killAfterMs: 180_000 },
    );
    assert.equal(started.code, 0, started.stderr);
    const dir = `${s.stateDir}/${s.sessionId}`;
    const info = readControlInfo(dir);
    assert.ok(info);
    cleanup.engine(info.pid);

    await until('the pause at the spend cap', () =>
      sessionEvents(s.stateDir, s.sessionId).some(
        (e) => e.type === 'status' && e.status === 'paused' && /spend cap/.test(String(e.reason)),
      ),
    );
    // A client that cannot answer (klong attach) does not count: the session stays paused.
    const watcher = attachCli(s.sessionId, s.stateDir);
    await until('the watcher to attach', () => /Attached/.test(watcher.out()));
    await new Promise((r) => setTimeout(r, 1000));
    const asked = server.requests.length;
    assert.equal(server.requests.length, asked, 'no model request while the cap waits');

    // A client that answers: the first answer counts and the agent goes on.
    const client = await ControlClient.connect(dir);
    assert.ok(client);
    const questions: Question[] = [];
    client.onAsk(async (q) => {
      questions.push(q);
      return { yes: true };
    });
    await until('the agent to go on after the answer', () => server.requests.length > asked + 1);
    assert.equal(questions[0]?.kind, 'spendCap');

    // The proposal waits in the engine (review); accepting it through the channel writes the file.
    const proposed = () => sessionEvents(s.stateDir, s.sessionId).some((e) => e.type === 'edit_proposed');
    await until('the proposal', proposed);
    assert.equal(existsSync(join(s.workspace, 'result.txt')), false, 'review: nothing written unasked');
    await assert.rejects(client.decide({ path: 'nope.txt', decision: 'accept' }), /No pending proposal/);
    const r = await client.decide({ path: 'result.txt', decision: 'accept' });
    assert.equal(r.status, 'accepted', r.message);
    assert.equal(readFileSync(join(s.workspace, 'result.txt'), 'utf8'), 'from the agent\n');

    await client.stop('interrupt');
    client.dispose();
    await until('the engine to exit', () => !readControlInfo(dir));
    await watcher.done;
  });

  test('stop saves the session resumably; sessions --json lists it', async () => {
    const server = await cleanup.modelServer(
      () => tools(call('bash', { command: 'sleep 0.3; echo working' })),
      {
        apiKey: 'sk-test',
      },
    );
    const s = cleanup.session('detach-stop');
    await cleanup.detach(s, [...reproduceArgs(s, server.url), '--no-final-run']);
    await until(
      'a few steps',
      () => sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'tool_call').length >= 2,
    );

    const listed = await runCli(['sessions', '--json', '--state-dir', s.stateDir]);
    const running = JSON.parse(listed.stdout) as { id: string; engine: string }[];
    assert.deepEqual(
      running.map((r) => [r.id, r.engine]),
      [[s.sessionId, 'running']],
    );

    const stopped = await runCli(['stop', s.sessionId, '--state-dir', s.stateDir]);
    assert.equal(stopped.code, 0, stopped.stderr);
    await until('the engine to exit', () => !readControlInfo(`${s.stateDir}/${s.sessionId}`));
    const after = JSON.parse((await runCli(['sessions', '--json', '--state-dir', s.stateDir])).stdout) as {
      id: string;
      engine: string;
      status: string;
    }[];
    assert.equal(after[0]!.engine, 'none');
    assert.equal(after[0]!.status, 'stopped');
    const again = await runCli(['attach', s.sessionId, '--state-dir', s.stateDir]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not running/);
  });
});
