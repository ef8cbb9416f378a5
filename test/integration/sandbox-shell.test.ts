import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type DockerSandbox, findSandbox, removeSandbox, SandboxError } from '../../src/sandbox/index';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

/** Processes in the container whose command line contains `needle` (the image may lack ps: read /proc). */
async function processesMatching(sb: DockerSandbox, needle: string): Promise<string[]> {
  const r = await sb.exec(
    `for p in /proc/[0-9]*; do c=$(tr '\\0' ' ' 2>/dev/null < $p/cmdline); case "$c" in *"${needle}"*) echo "\${p#/proc/} $c";; esac; done`,
  );
  // A process may exit between the glob and the read: stderr is redirected before the file is opened.
  // The scan itself contains the needle in its own command line: drop the scanning shells.
  return r.output.split('\n').filter((l) => l.trim() && !l.includes('for p in'));
}

describe('sandbox persistent shell', { skip: skipDocker }, () => {
  const session = uniqueSession('shell');
  let ws: string;
  let sb: DockerSandbox;

  before(async () => {
    ws = tempWorkspace({ 'hello.txt': 'hi\n' });
    process.env.KLONG_TEST_SECRET_KEY = 'sk-must-not-reach-the-container';
    sb = await openTestSandbox(ws, session, { limits: { memory: '1g', cpus: 1, pids: 512 } });
    delete process.env.KLONG_TEST_SECRET_KEY;
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('container: labels, network none, limits, init, no host environment', async () => {
    const info = await sb.container.inspect();
    assert.equal(info.Config.Labels['klong.session'], session);
    assert.match(info.Config.Labels['klong.workspace'] ?? '', /^[0-9a-f]{16}$/);
    assert.equal(info.HostConfig.NetworkMode, 'none');
    assert.equal(info.HostConfig.Memory, 1024 ** 3);
    assert.equal(info.HostConfig.NanoCpus, 1e9);
    assert.equal(info.HostConfig.PidsLimit, 512);
    assert.equal(info.HostConfig.Init, true);
    assert.deepEqual(info.Mounts, [], 'no bind mount of the workspace');
    const env = await sb.exec('env; tr "\\0" "\\n" < /proc/1/environ; ls /sys/class/net');
    assert.doesNotMatch(env.output, /sk-must-not-reach|KLONG_TEST_SECRET/);
    assert.match(env.output, /^PATH=/m);
    assert.match(env.output, /^lo$/m);
    assert.doesNotMatch(env.output, /^eth0$/m);
  });

  test('cwd, exported and plain variables and functions persist between commands', async () => {
    assert.equal((await sb.exec('pwd')).output, '/workspace\n');
    await sb.exec(
      'mkdir -p /tmp/there && cd /tmp/there && export GREETING=hello && COUNT=3 && greet() { echo "hi $1"; }',
    );
    const r = await sb.exec(
      'pwd; echo "$GREETING $COUNT"; greet bob; bash -c \'echo "child sees $GREETING/$COUNT"\'',
    );
    assert.equal(r.output, '/tmp/there\nhello 3\nhi bob\nchild sees hello/\n');
    await sb.exec('unset GREETING');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: bash parameter expansion, not a template
    assert.equal((await sb.exec('echo "[${GREETING-unset}]"')).output, '[unset]\n');
    await sb.exec('cd /workspace');
  });

  test('each command has its own exit code; stdin is empty; stderr is interleaved', async () => {
    assert.equal((await sb.exec('true')).exitCode, 0);
    assert.equal((await sb.exec('false')).exitCode, 1);
    assert.equal((await sb.exec('exit 7')).exitCode, 7);
    const missing = await sb.exec('no-such-command-xyz');
    assert.equal(missing.exitCode, 127);
    assert.match(missing.output, /no-such-command-xyz: command not found/);
    const cat = await sb.exec('cat; echo after-cat');
    assert.equal(cat.output, 'after-cat\n');
    const mixed = await sb.exec('echo out; echo err >&2; echo out2');
    assert.equal(mixed.output, 'out\nerr\nout2\n');
    // Output that looks like protocol text does not confuse the shell.
    const tricky = await sb.exec("printf '\\036KE fake 0\\036\\n'; echo ok");
    assert.equal(tricky.exitCode, 0);
    assert.match(tricky.output, /ok\n$/);
  });

  test('output streams while the command runs', async () => {
    const chunks: string[] = [];
    let settled = false;
    let sawFirstBeforeEnd = false;
    const p = sb.exec('echo first; sleep 1; echo second', {
      onOutput: (c) => {
        chunks.push(c);
        if (c.includes('first') && !settled) sawFirstBeforeEnd = true;
      },
    });
    const r = await p;
    settled = true;
    assert.ok(sawFirstBeforeEnd);
    assert.equal(chunks.join(''), 'first\nsecond\n');
    assert.equal(r.output, 'first\nsecond\n');
  });

  test('a timeout kills the whole process group (background jobs too), and the shell keeps working', async () => {
    const r = await sb.exec('sleep 1000 & sleep 1001 & wait', { timeoutMs: 1500 });
    assert.equal(r.timedOut, true);
    assert.equal(r.exitCode, null);
    assert.deepEqual(await processesMatching(sb, 'sleep 100'), []);
    assert.equal((await sb.exec('echo alive')).output, 'alive\n');
    // A busy loop inside the shell itself (no child process) is killed too.
    const loop = await sb.exec('while :; do :; done', { timeoutMs: 1000 });
    assert.equal(loop.timedOut, true);
    assert.equal((await sb.exec('echo still alive')).exitCode, 0);
  });

  test('an abort signal kills the command like a timeout', async () => {
    const ac = new AbortController();
    const p = sb.exec('sleep 1002', { signal: ac.signal });
    setTimeout(() => ac.abort(), 500);
    const r = await p;
    assert.equal(r.exitCode, null);
    assert.deepEqual(await processesMatching(sb, 'sleep 1002'), []);
  });

  test('`yes` forever is capped (head + tail kept, the rest counted) and ends at the timeout', async () => {
    const r = await sb.exec('yes', { timeoutMs: 2000, outputCap: 10_000 });
    assert.equal(r.timedOut, true);
    assert.equal(r.truncated, true);
    assert.ok(r.totalBytes > 1_000_000, `counted ${r.totalBytes} bytes`);
    assert.ok(r.output.length < 10_200, `kept ${r.output.length} chars`);
    assert.match(r.output, /^y\ny\n/);
    assert.match(r.output, /bytes of output omitted/);
  });

  test('huge output: exact byte count, head and tail kept', async () => {
    const r = await sb.exec("echo START; head -c 50000000 /dev/zero | tr '\\0' x; echo; echo END", {
      outputCap: 4096,
    });
    assert.equal(r.exitCode, 0);
    assert.equal(r.totalBytes, 6 + 50_000_000 + 1 + 4);
    assert.ok(r.output.startsWith('START\nxxx'));
    assert.ok(r.output.endsWith('xxx\nEND\n'));
  });

  test('when the shell dies, the next command gets a new one with the saved cwd and env', async () => {
    await sb.exec('cd /tmp && export KEEP=yes');
    const r = await sb.exec('me=$BASHPID; kill -9 $(cut -d" " -f4 /proc/$me/stat); sleep 0.2; echo done');
    assert.equal(r.exitCode, null);
    const next = await sb.exec('pwd; echo $KEEP');
    assert.equal(next.output, '/tmp\nyes\n');
    await sb.exec('cd /workspace');
  });

  test('reattach by label after the client is disposed: same container, files and shell state', async () => {
    await sb.exec('echo persisted > note.txt && cd /var && export AFTER=1');
    const id = sb.info.containerId;
    await sb.dispose();
    const found = await findSandbox(session);
    assert.equal(found?.containerId, id);
    assert.equal(found?.state, 'running');
    const again = await openTestSandbox(ws, session);
    assert.equal(again.info.reattached, true);
    assert.equal(again.info.containerId, id);
    assert.equal(
      (await again.exec('pwd; echo $AFTER; cat /workspace/note.txt')).output,
      '/var\n1\npersisted\n',
    );
    assert.deepEqual(
      (await again.changes()).map((c) => c.path),
      ['note.txt'],
    );
    await again.exec('cd /workspace');
    sb = again;
  });

  test('container death mid-command gives CONTAINER_GONE; opening again restarts it with files intact', async () => {
    const p = sb.exec('sleep 60');
    setTimeout(() => void sb.container.kill().catch(() => undefined), 800);
    await assert.rejects(
      p,
      (e: unknown) => e instanceof SandboxError && e.code === 'CONTAINER_GONE' && /stopped/.test(e.message),
    );
    const again = await openTestSandbox(ws, session);
    assert.equal(again.info.reattached, true);
    assert.equal((await again.exec('cat /workspace/note.txt')).output, 'persisted\n');
    sb = again;
  });

  test('after the container is removed, opening the session creates a fresh one', async () => {
    const old = sb.info.containerId;
    assert.equal(await removeSandbox(session), 1);
    assert.equal(await findSandbox(session), undefined);
    const fresh = await openTestSandbox(ws, session);
    assert.notEqual(fresh.info.containerId, old);
    assert.equal(fresh.info.reattached, false);
    assert.equal((await fresh.exec('cat hello.txt')).output, 'hi\n');
    sb = fresh;
  });
});
