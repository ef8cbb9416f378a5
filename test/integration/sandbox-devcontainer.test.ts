import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, test } from 'node:test';
import {
  checkDocker,
  openSandbox,
  removeSandbox,
  runFreshContainer,
  SandboxError,
} from '../../src/sandbox/index';
import {
  removeDir,
  skipDocker,
  TEST_IMAGE,
  TEST_LABELS,
  tempWorkspace,
  uniqueSession,
} from './sandbox-support';

describe('sandbox from a devcontainer.json', { skip: skipDocker }, () => {
  const dirs: string[] = [];
  const sessions: string[] = [];
  const images: string[] = [];
  after(async () => {
    for (const s of sessions) await removeSandbox(s);
    for (const d of dirs) removeDir(d);
    for (const i of images) spawnSync('docker', ['rmi', '-f', i]);
  });

  test('Dockerfile FROM the local image, features-free build, lifecycle commands, env, user', async () => {
    const ws = tempWorkspace({
      '.devcontainer/Dockerfile': `FROM ${TEST_IMAGE}\nRUN useradd -m -u 1234 researcher && echo built > /etc/built.txt\n`,
      '.devcontainer/devcontainer.json': `// JSONC: comments and trailing commas are fine
{
  "name": "paper",
  "build": { "dockerfile": "Dockerfile" },
  "remoteUser": "researcher",
  "containerEnv": { "PROJECT": "\${localWorkspaceFolderBasename}" },
  "remoteEnv": { "MODE": "repro" },
  "onCreateCommand": "echo oncreate > /tmp/oncreate.txt",
  "postCreateCommand": ["bash", "-c", "cat /etc/built.txt > made-by-postcreate.txt && whoami >> made-by-postcreate.txt"],
  "postStartCommand": { "a": "touch /tmp/started-a", "b": "touch /tmp/started-b" },
}
`,
      'main.py': 'print("paper")\n',
    });
    dirs.push(ws);
    const session = uniqueSession('devc');
    sessions.push(session);
    const progress: string[] = [];
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      labels: TEST_LABELS,
      onProgress: (m) => progress.push(m),
    });
    images.push(sb.info.image);
    assert.match(sb.info.image, /^klong-devcontainer\//);
    assert.equal(sb.info.user, 'researcher');
    assert.ok(progress.some((m) => m.includes('postCreateCommand')));
    const base = ws.split('/').pop();
    const r = await sb.exec(
      'whoami; pwd; echo "$PROJECT $MODE"; cat made-by-postcreate.txt /tmp/oncreate.txt; ls /tmp/started-a /tmp/started-b; stat -c %U main.py',
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(
      r.output,
      `researcher\n${sb.workdir}\n${base} repro\nbuilt\nresearcher\noncreate\n/tmp/started-a\n/tmp/started-b\nresearcher\n`,
    );
    // The file made by postCreateCommand belongs to the baseline: it is not the agent's change.
    assert.deepEqual(await sb.changes(), []);
    await sb.writeFile('out.txt', 'by agent\n');
    assert.equal((await sb.exec('stat -c %U out.txt')).output, 'researcher\n');
    assert.deepEqual(
      (await sb.changes()).map((c) => c.path),
      ['out.txt'],
    );

    // The final reproduction runs in a fresh container from the same image with the current workspace.
    await sb.writeFile(
      'reproduce.sh',
      'echo "reproduced as $(whoami)" | tee reproduce.log\ntest -f /tmp/oncreate.txt || echo fresh\n',
    );
    const fresh = await runFreshContainer({
      image: sb.info.image,
      source: sb,
      command: 'bash reproduce.sh',
      network: 'none',
      timeoutMs: 60_000,
      readBack: ['reproduce.log', 'missing.txt'],
      labels: TEST_LABELS,
    });
    assert.equal(fresh.exitCode, 0);
    assert.equal(fresh.output, 'reproduced as researcher\nfresh\n');
    assert.equal(Buffer.from(fresh.files['reproduce.log']!).toString(), 'reproduced as researcher\n');
    assert.equal(fresh.files['missing.txt'], null);
  });

  test('image + a local feature (offline), merged lifecycle commands, optional GPU falls back', async () => {
    const ws = tempWorkspace({
      '.devcontainer/devcontainer.json': JSON.stringify({
        image: TEST_IMAGE,
        features: { './greeter': { greeting: 'bonjour' } },
        hostRequirements: { gpu: 'optional' },
      }),
      '.devcontainer/greeter/devcontainer-feature.json': JSON.stringify({
        id: 'greeter',
        version: '1.0.0',
        name: 'Greeter',
        options: { greeting: { type: 'string', default: 'hello' } },
        containerEnv: { GREETER_ON: 'yes' },
        postCreateCommand: 'echo from-feature > /tmp/feature-post.txt',
      }),
      '.devcontainer/greeter/install.sh': '#!/bin/sh\nset -e\necho "$GREETING" > /etc/greeting.txt\n',
    });
    dirs.push(ws);
    const session = uniqueSession('feature');
    sessions.push(session);
    const sb = await openSandbox({ workspace: ws, sessionId: session, network: 'none', labels: TEST_LABELS });
    images.push(sb.info.image);
    const r = await sb.exec('cat /etc/greeting.txt /tmp/feature-post.txt; echo $GREETER_ON');
    assert.equal(r.output, 'bonjour\nfrom-feature\nyes\n');
  });

  test('a required GPU on an engine without one gives GPU_UNAVAILABLE', async (t) => {
    if ((await checkDocker()).gpu) return t.skip('this engine has a GPU runtime');
    const ws = tempWorkspace({
      '.devcontainer.json': JSON.stringify({ image: TEST_IMAGE, hostRequirements: { gpu: true } }),
    });
    dirs.push(ws);
    const session = uniqueSession('gpu');
    await assert.rejects(
      openSandbox({ workspace: ws, sessionId: session, network: 'none', labels: TEST_LABELS }),
      (e: unknown) =>
        e instanceof SandboxError && e.code === 'GPU_UNAVAILABLE' && /NVIDIA Container Toolkit/.test(e.hint),
    );
    assert.equal(await removeSandbox(session), 0);
  });

  test('malformed devcontainer.json gives file:line:column before anything runs', async () => {
    const ws = tempWorkspace({
      '.devcontainer/devcontainer.json': '{\n  "image": "x"\n  "remoteUser": "root"\n}\n',
    });
    dirs.push(ws);
    await assert.rejects(
      openSandbox({ workspace: ws, sessionId: uniqueSession('bad'), network: 'none', labels: TEST_LABELS }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'CONFIG_SYNTAX' &&
        e.message.includes('.devcontainer/devcontainer.json:3:3: CommaExpected') &&
        /line and column/.test(e.hint),
    );
  });

  test('a failing Dockerfile gives IMAGE_BUILD_FAILED with the build output', async () => {
    const ws = tempWorkspace({
      '.devcontainer.json': '{ "build": { "dockerfile": "Dockerfile.klong" } }',
      'Dockerfile.klong': `FROM ${TEST_IMAGE}\nRUN echo broken-step && exit 3\n`,
    });
    dirs.push(ws);
    await assert.rejects(
      openSandbox({
        workspace: ws,
        sessionId: uniqueSession('badbuild'),
        network: 'none',
        labels: TEST_LABELS,
      }),
      (e: unknown) =>
        e instanceof SandboxError && e.code === 'IMAGE_BUILD_FAILED' && /Dockerfile/.test(e.hint),
    );
  });

  test('a failing postCreateCommand gives LIFECYCLE_FAILED and leaves no container behind', async () => {
    const ws = tempWorkspace({
      '.devcontainer.json': `{ "image": "${TEST_IMAGE}", "postCreateCommand": "echo about-to-fail; exit 9" }`,
    });
    dirs.push(ws);
    const session = uniqueSession('badlife');
    await assert.rejects(
      openSandbox({ workspace: ws, sessionId: session, network: 'none', labels: TEST_LABELS }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'LIFECYCLE_FAILED' &&
        /exit code 9/.test(e.message) &&
        /about-to-fail/.test(e.message),
    );
    assert.equal(await removeSandbox(session), 0);
  });

  test('an image that is not there gives IMAGE_NOT_FOUND', async () => {
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    await assert.rejects(
      openSandbox({
        workspace: ws,
        sessionId: uniqueSession('noimg'),
        network: 'none',
        image: 'klong/does-not-exist:1',
        labels: TEST_LABELS,
      }),
      (e: unknown) => e instanceof SandboxError && e.code === 'IMAGE_NOT_FOUND' && /pull|build/i.test(e.hint),
    );
  });
});
