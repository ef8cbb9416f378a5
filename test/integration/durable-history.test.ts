/**
 * The host is the durable home of a session (real CLI, real Docker, scripted model over HTTP):
 * kill -9 mid-session, `docker rm -f` the session's container, resume. The session goes on, says it
 * rebuilt the container, and every file the agent wrote before the crash reaches the proposals
 * (review) or the user's folder (auto-accept). The container is removed at the end; `klong diff` and
 * `klong rewind` work without it, and the next resume rebuilds it at the rewound step.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { stateLabel } from '../../src/sandbox';
import { EventLog, moveSession, SessionStore } from '../../src/session';
import {
  type CliSession,
  cliCleanup,
  cliDockerSkip,
  reproduceArgs,
  resumeArgs,
  runCli,
  sessionEvents,
  TEST_IMAGE,
} from '../support/cli-run';
import { containerIds, removeContainers } from '../support/docker';
import { type ChatBody, call, lastObservation, type StepResult, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

/** Event types on disk right now (a reader never sees a torn line). */
function typesOnDisk(dir: string): { type: string; step?: number }[] {
  if (!existsSync(join(dir, 'events.jsonl'))) return [];
  const log = EventLog.open(dir, { mode: 'read' });
  try {
    return log.read(0).map((e) => ({ type: e.type, step: (e as { step?: number }).step }));
  } finally {
    log.close();
  }
}

/** A resume without the final run, in the given approval mode. */
function resumeIn(s: CliSession, url: string, approval: string): string[] {
  return [...resumeArgs(s, url), '--no-final-run', '--approval', approval];
}

/** The agent writes three files in three steps, then idles until it is killed. */
const BEFORE_CRASH: StepResult[] = [
  tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
  tools(call('write_file', { path: 'b.txt', content: 'two\n' })),
  // A 6 MB file that does not compress: its pack is streamed to the host, not sent inline.
  tools(
    call('bash', {
      command:
        'mkdir -p d && printf "three\\n" > d/c.txt && head -c 6000000 /dev/urandom > big.bin && sha256sum big.bin',
    }),
  ),
];

/**
 * Runs the first part of a session, kills the CLI with SIGKILL once step 3's files are recorded,
 * and removes its container as a Docker restart or a prune would.
 */
async function crashAfterThreeSteps(s: CliSession, approval: string): Promise<void> {
  const server = await cleanup.modelServer(
    (_req: ChatBody, i: number) =>
      BEFORE_CRASH[i] ?? tools(call('bash', { command: `sleep 0.3; echo idle ${i}` })),
    { apiKey: 'sk-test' },
  );
  let child: ChildProcess | undefined;
  let stderr = '';
  const run = runCli([...reproduceArgs(s, server.url), '--no-final-run', '--approval', approval], {
    onChild: (c) => {
      child = c;
      c.stderr!.on('data', (b) => {
        stderr += b;
      });
    },
    killAfterMs: 180_000,
  });
  const dir = join(s.stateDir, s.sessionId);
  const start = Date.now();
  while (!typesOnDisk(dir).some((e) => e.type === 'checkpoint' && e.step === 3)) {
    assert.ok(Date.now() - start < 120_000, `no checkpoint of step 3: ${stderr}`);
    assert.equal(child?.exitCode ?? null, null, `the CLI exited early: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  child!.kill('SIGKILL');
  await run;
  assert.equal(containerIds(`klong.session=${s.sessionId}`).length, 1, 'the crash left the container');
  removeContainers(`klong.session=${s.sessionId}`);
  assert.equal(containerIds(`klong.session=${s.sessionId}`).length, 0);
}

/** `sha256sum big.bin` as step 3 printed it before the crash. */
function bigSum(s: CliSession): string {
  const r = sessionEvents(s.stateDir, s.sessionId).find(
    (e) => e.type === 'tool_result' && /big\.bin/.test(String(e.output)),
  );
  const m = /[0-9a-f]{64} {2}big\.bin/.exec(String(r?.output));
  assert.ok(m, 'step 3 printed the checksum');
  return m[0];
}

/** After the resume, the agent reads its files back, then ends the task. */
function afterCrashScript(extra: StepResult[] = []) {
  const seen: string[] = [];
  const steps: ((req: ChatBody) => StepResult)[] = [
    () => tools(call('bash', { command: 'cat a.txt b.txt d/c.txt; sha256sum big.bin' })),
    (req) => {
      seen.push(lastObservation(req));
      return extra[0] ?? tools(call('end_task', { summary: 'finished after the crash' }));
    },
    ...extra.slice(1).map((r) => () => r),
    () => tools(call('end_task', { summary: 'finished after the crash' })),
  ];
  return { seen, script: steps };
}

describe('a session survives the loss of its container', { skip }, () => {
  test('review: kill -9, container removed, resume rebuilds it; proposals, diff and rewind without a container', async () => {
    const s = cleanup.session('durable-review');
    await crashAfterThreeSteps(s, 'review');

    const after = afterCrashScript();
    const server = await cleanup.modelServer(after.script, { apiKey: 'sk-test' });
    const r = await runCli(resumeIn(s, server.url, 'review'), { killAfterMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /container was gone: created a new one and restored the agent’s files of step 3/);
    assert.match(after.seen[0] ?? '', /^one\ntwo\nthree\n/, 'the agent finds every file it wrote');
    assert.ok(after.seen[0]?.includes(bigSum(s)), 'the big binary file comes back byte for byte');
    const recreated = sessionEvents(s.stateDir, s.sessionId).filter((e) => e.type === 'sandbox_recreated');
    assert.equal(recreated.length, 1);
    assert.equal(recreated[0]!.restored, true);
    assert.equal(recreated[0]!.step, 3);

    // Review mode: nothing touched the user's folder; every file is in the patch.
    assert.ok(!existsSync(join(s.workspace, 'a.txt')));
    const patch = readFileSync(join(s.stateDir, s.sessionId, 'proposals.patch'), 'utf8');
    for (const [f, line] of [
      ['a.txt', 'one'],
      ['b.txt', 'two'],
      ['d/c.txt', 'three'],
    ] as const)
      assert.match(patch, new RegExp(`\\+\\+\\+ b/${f}\\n@@ [^\\n]+\\n\\+${line}\\n`), `${f} in the patch`);
    // The session ended and its history is on the host: the container is gone.
    assert.deepEqual(containerIds(`klong.session=${s.sessionId}`), [], 'container removed at the end');
    assert.ok(existsSync(join(s.stateDir, s.sessionId, 'history.git', 'HEAD')));

    // diff and rewind without a container, straight from the host history.
    const diff = await runCli(['diff', s.sessionId, '--state-dir', s.stateDir]);
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /^\+\+\+ b\/d\/c\.txt\n@@ -0,0 \+1 @@\n\+three$/m);
    const d12 = await runCli(['diff', s.sessionId, '--from', '1', '--to', '2', '--state-dir', s.stateDir]);
    assert.equal(d12.code, 0, d12.stderr);
    assert.match(d12.stdout, /b\/b\.txt/);
    assert.doesNotMatch(d12.stdout, /a\.txt|c\.txt/);
    assert.deepEqual(containerIds(`klong.session=${s.sessionId}`), [], 'diff made no container');

    const rw = await runCli(['rewind', s.sessionId, '--to', '1', '--state-dir', s.stateDir]);
    assert.equal(rw.code, 0, rw.stderr);
    assert.match(rw.stdout, /rewound to step 1 \(was at step \d+\)/);
    assert.deepEqual(containerIds(`klong.session=${s.sessionId}`), [], 'rewind made no container');

    // The next resume rebuilds the container at step 1: only a.txt.
    const seen: string[] = [];
    const server2 = await cleanup.modelServer(
      [
        () => tools(call('bash', { command: 'ls -1; cat a.txt' })),
        (req) => {
          seen.push(lastObservation(req));
          return tools(call('end_task', { summary: 'after the rewind' }));
        },
      ],
      { apiKey: 'sk-test' },
    );
    const r2 = await runCli(resumeIn(s, server2.url, 'review'), { killAfterMs: 180_000 });
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /restored the agent’s files of step 1/);
    assert.match(seen[0] ?? '', /^README\.md\na\.txt\none\n/);
    assert.deepEqual(containerIds(`klong.session=${s.sessionId}`), []);
  });

  test('auto-accept: kill -9, container removed, resume: every file the agent wrote is in the user’s folder', async () => {
    const s = cleanup.session('durable-auto');
    await crashAfterThreeSteps(s, 'auto-accept');
    // The user's own work while the session was down: the rebuilt container must not undo it.
    writeFileSync(join(s.workspace, 'notes.md'), 'my notes\n');
    writeFileSync(join(s.workspace, 'README.md'), '# Reproduction, edited by me\n');

    const after = afterCrashScript([tools(call('write_file', { path: 'e.txt', content: 'four\n' }))]);
    const server = await cleanup.modelServer(after.script, { apiKey: 'sk-test' });
    const r = await runCli(resumeIn(s, server.url, 'auto-accept'), { killAfterMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /container was gone: created a new one/);
    assert.doesNotMatch(r.stderr, /Could not decide/);
    assert.match(after.seen[0] ?? '', /^one\ntwo\nthree\n/);
    assert.ok(after.seen[0]?.includes(bigSum(s)));
    assert.equal(
      createHash('sha256')
        .update(readFileSync(join(s.workspace, 'big.bin')))
        .digest('hex'),
      bigSum(s).split(' ')[0],
    );
    for (const [f, text] of [
      ['a.txt', 'one\n'],
      ['b.txt', 'two\n'],
      ['d/c.txt', 'three\n'],
      ['e.txt', 'four\n'],
    ] as const)
      assert.equal(readFileSync(join(s.workspace, f), 'utf8'), text, `${f} on the host`);
    assert.equal(
      readFileSync(join(s.workspace, 'notes.md'), 'utf8'),
      'my notes\n',
      'the user’s new file stays',
    );
    assert.equal(readFileSync(join(s.workspace, 'README.md'), 'utf8'), '# Reproduction, edited by me\n');
    assert.ok(!existsSync(join(s.stateDir, s.sessionId, 'proposals.patch')), 'nothing left pending');
    assert.deepEqual(containerIds(`klong.session=${s.sessionId}`), []);
  });

  test('klong sessions --prune removes the idle containers of its state folder only', async () => {
    const stateDir = cleanup.temp('klong-prune-state-');
    const otherState = cleanup.temp('klong-prune-other-');
    const scope = `prune-${process.pid}-${Date.now().toString(36)}`;
    cleanup.removeLabel(`klong.test-prune=${scope}`);
    const store = new SessionStore(stateDir, { durability: 'none' });
    const session = (id: string) =>
      store.create({
        sessionId: id,
        paperTitle: 'p',
        paperPath: 'p.md',
        workspace: stateDir,
        model: 'm',
        budgetMs: 60_000,
      });
    const running = session(`${scope}-running`); // this process holds its lock
    session(`${scope}-idle`).close();
    /** A container as KLong labels them (created, not started: prune does not care). */
    const container = (sessionId: string, labels: Record<string, string>) => {
      const args = ['create', '--network', 'none', '--label', `klong.session=${sessionId}`];
      for (const [k, v] of Object.entries({ 'klong.test': '1', 'klong.test-prune': scope, ...labels }))
        args.push('--label', `${k}=${v}`);
      const r = spawnSync('docker', [...args, TEST_IMAGE!, 'true'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim();
    };
    const idle = container(`${scope}-idle`, stateLabel(stateDir));
    const gone = container(`${scope}-deleted`, stateLabel(stateDir)); // its session folder was deleted
    const live = container(`${scope}-running`, stateLabel(stateDir));
    const other = container(`${scope}-idle`, stateLabel(otherState)); // another state folder's
    mkdirSync(join(otherState, 'x'), { recursive: true });
    // A session moved here from another folder (VS Code adopts its legacy sessions) keeps a container
    // labelled with that folder: still this folder's to clean up.
    const legacy = cleanup.temp('klong-prune-legacy-');
    new SessionStore(legacy, { durability: 'none' })
      .create({
        sessionId: `${scope}-moved`,
        paperTitle: 'p',
        paperPath: 'p.md',
        workspace: legacy,
        model: 'm',
        budgetMs: 60_000,
      })
      .close();
    const moved = container(`${scope}-moved`, stateLabel(legacy));
    assert.ok(moveSession(legacy, stateDir, `${scope}-moved`));
    try {
      const r = await runCli([
        'sessions',
        '--prune',
        '--state-dir',
        stateDir,
        '--label',
        `klong.test-prune=${scope}`,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /3 container\(s\) removed, 1 kept\./);
      assert.match(r.stdout, /kept .*running\): its session is running/);
      const left = containerIds(`klong.test-prune=${scope}`).map((id) => id.slice(0, 12));
      assert.deepEqual(left.sort(), [live, other].map((id) => id.slice(0, 12)).sort());
      for (const removed of [idle, gone, moved]) assert.ok(!left.includes(removed.slice(0, 12)));
    } finally {
      running.close();
    }
  });

  test('without git on this machine the session runs, says so once, and keeps its container', async () => {
    const s = cleanup.session('durable-nogit');
    const server = await cleanup.modelServer(
      [
        tools(call('write_file', { path: 'a.txt', content: 'one\n' })),
        tools(call('write_file', { path: 'b.txt', content: 'two\n' })),
        tools(call('end_task', { summary: 'done without git' })),
      ],
      { apiKey: 'sk-test' },
    );
    // A PATH with node's folder only: no git (Docker is reached through its socket, not its CLI).
    const bin = cleanup.temp('klong-nogit-bin-');
    const r = await runCli([...reproduceArgs(s, server.url), '--no-final-run'], {
      env: { PATH: bin },
      killAfterMs: 180_000,
    });
    assert.equal(r.code, 0, r.stderr);
    const said = r.stderr.match(/git is not installed on this machine/g) ?? [];
    assert.equal(said.length, 1, r.stderr);
    assert.match(r.stderr, /The container is kept/);
    assert.equal(containerIds(`klong.session=${s.sessionId}`).length, 1);
    // The history is in the container: diff still works through it.
    const diff = await runCli(['diff', s.sessionId, '--state-dir', s.stateDir], { env: { PATH: bin } });
    assert.equal(diff.code, 0, diff.stderr);
    assert.match(diff.stdout, /\+two/);
  });

  test('kill -9 at random points, the container removed each time: every write in the log ends in the patch', async () => {
    const KILLS = 3;
    let ended = false;
    const server = await cleanup.modelServer(
      (_req: ChatBody, i: number) =>
        ended
          ? tools(call('end_task', { summary: 'done after the kills' }))
          : tools(call('write_file', { path: `w/f${i}.txt`, content: `v${i}\n` })),
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('durable-kills');
    const dir = join(s.stateDir, s.sessionId);
    let checkpoints = 0;
    for (let k = 0; k < KILLS; k++) {
      let child: ChildProcess | undefined;
      let stderr = '';
      const run = runCli(
        k === 0 ? [...reproduceArgs(s, server.url), '--no-final-run'] : resumeIn(s, server.url, 'review'),
        {
          onChild: (c) => {
            child = c;
            c.stderr!.on('data', (b) => {
              stderr += b;
            });
          },
          killAfterMs: 180_000,
        },
      );
      const target = checkpoints + 3;
      const start = Date.now();
      while (typesOnDisk(dir).filter((e) => e.type === 'checkpoint').length < target) {
        assert.ok(Date.now() - start < 120_000, `run ${k} made no progress: ${stderr}`);
        assert.equal(child?.exitCode ?? null, null, `run ${k} exited early: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      child!.kill('SIGKILL');
      await run;
      if (k > 0) assert.match(stderr, /container was gone: created a new one and restored/);
      checkpoints = typesOnDisk(dir).filter((e) => e.type === 'checkpoint').length;
      removeContainers(`klong.session=${s.sessionId}`);
    }
    ended = true;
    const r = await runCli(resumeIn(s, server.url, 'review'), { killAfterMs: 180_000 });
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(s.stateDir, s.sessionId);
    assert.equal(events.filter((e) => e.type === 'sandbox_recreated').length, KILLS);
    const paths = new Map<string, string>();
    for (const e of events)
      if (e.type === 'tool_call' && e.name === 'write_file')
        paths.set(String(e.callId), JSON.parse(String(e.args)).path as string);
    const written = events
      .filter((e) => e.type === 'tool_result' && e.name === 'write_file' && e.ok)
      .map((e) => paths.get(String(e.callId))!);
    assert.ok(written.length >= KILLS * 3, `${written.length} writes in the log`);
    const patch = readFileSync(join(dir, 'proposals.patch'), 'utf8');
    for (const path of written) {
      const i = /f(\d+)\.txt$/.exec(path)![1];
      assert.match(
        patch,
        new RegExp(`\\+\\+\\+ b/${path}\\n@@ [^\\n]+\\n\\+v${i}\\n`),
        `${path} in the patch`,
      );
    }
  });
});
