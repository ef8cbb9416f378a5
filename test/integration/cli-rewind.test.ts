/**
 * `klong reproduce` → `klong rewind` → `klong diff` → `klong reproduce --resume`, end to end:
 * dist/cli.js, the scripted model server (real HTTP), a real container (network none).
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli, sessionEvents } from '../support/cli-run';
import { removeContainers } from '../support/docker';
import { call, lastObservation, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

test('rewind both to step 1, diff, and resume: the agent continues from step 1 with the files of step 1', {
  skip,
}, async () => {
  const server = await cleanup.modelServer(
    [
      tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
      tools(call('write_file', { path: 'b.txt', content: 'two\n' })),
      tools(call('bash', { command: 'rm a.txt && echo gone' })),
    ],
    { apiKey: 'sk-test' },
  );
  const session = cleanup.session('rewind');
  const { stateDir, sessionId } = session;
  const common = ['--state-dir', stateDir, '--model', 'test-model', '--label', 'klong.test=1'];
  const r1 = await runCli([...reproduceArgs(session, server.url), '--max-steps', '3']);
  assert.equal(r1.code, 1, r1.stderr);
  assert.match(r1.stderr, /step limit \(3\) reached/);
  const events = () => sessionEvents(stateDir, sessionId);
  assert.deepEqual(
    events()
      .filter((e) => e.type === 'checkpoint')
      .map((e) => e.step),
    [1, 2, 3],
    'each file-changing step is a checkpoint',
  );
  const activeBefore = JSON.parse(readFileSync(join(stateDir, sessionId, 'summary.json'), 'utf8'))
    .activeMs as number;

  const rw = await runCli(['rewind', sessionId, '--to', '1', '--state-dir', stateDir]);
  assert.equal(rw.code, 0, rw.stderr);
  assert.match(
    rw.stdout,
    /Code and conversation of .* rewound to step 1 \(was at step 3\)\. 1 file\(s\) now differ/,
  );

  const diff = await runCli(['diff', sessionId, '--state-dir', stateDir]);
  assert.equal(diff.code, 0, diff.stderr);
  assert.match(diff.stdout, /^\+\+\+ b\/a\.txt\n@@ -0,0 \+1 @@\n\+one$/m);
  assert.doesNotMatch(diff.stdout, /b\.txt/);
  const abandoned = await runCli(['diff', sessionId, '--from', '1', '--to', '3', '--state-dir', stateDir]);
  assert.match(abandoned.stdout, /^\+two$/m, 'the abandoned branch stays readable');
  assert.match(abandoned.stdout, /^-one$/m);

  const server2 = await cleanup.modelServer(
    [
      (req) => {
        const all = JSON.stringify(req.messages);
        assert.match(all, /a\.txt/);
        assert.doesNotMatch(all, /b\.txt|rm a\.txt/, 'steps 2 and 3 are not in the context');
        assert.match(lastObservation(req), /rewound the session to step 1/);
        return tools(call('bash', { command: 'cat a.txt; ls' }));
      },
      (req) => {
        assert.match(lastObservation(req), /^one\nREADME\.md\na\.txt\n\[exit code: 0\]/);
        return tools(call('end_task', { summary: 'continued after the rewind' }));
      },
    ],
    { apiKey: 'sk-test' },
  );
  const r2 = await runCli([
    'reproduce',
    '--resume',
    sessionId,
    '--base-url',
    server2.url,
    '--no-final-run',
    '--keep-container',
    ...common,
  ]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stderr, /ended \(end_task\): continued after the rewind/);
  assert.equal(server2.requests.length, 2);
  const ev = events();
  const steps = ev.filter((e) => e.type === 'model_request').map((e) => e.step);
  assert.deepEqual(steps, [1, 2, 3, 4, 5], 'new steps are numbered after the abandoned ones');
  const summary = JSON.parse(readFileSync(join(stateDir, sessionId, 'summary.json'), 'utf8'));
  assert.ok(summary.activeMs >= activeBefore, 'the time spent on the abandoned steps still counts');

  // Without the container the code rewinds from the host history (history.git in the session folder).
  removeContainers(`klong.session=${sessionId}`);
  const hostOnly = await runCli(['rewind', sessionId, '--to', '1', '--code', '--state-dir', stateDir]);
  assert.equal(hostOnly.code, 0, hostOnly.stderr);
  assert.match(hostOnly.stdout, /Code of .* rewound to step 1/);
  // Without either (a session from before the host history, or no git here) the code cannot be
  // rewound: the message says why and what still works; the conversation can still go back.
  rmSync(join(stateDir, sessionId, 'history.git'), { recursive: true, force: true });
  const gone = await runCli(['rewind', sessionId, '--to', '1', '--code', '--state-dir', stateDir]);
  assert.equal(gone.code, 1, gone.stderr);
  assert.match(gone.stderr, /has no container any more/);
  assert.match(gone.stderr, /--keep-container/);
  const conv = await runCli(['rewind', sessionId, '--to', '1', '--conversation', '--state-dir', stateDir]);
  assert.equal(conv.code, 0, conv.stderr);
  assert.match(conv.stdout, /rewound to step 1/);
});
