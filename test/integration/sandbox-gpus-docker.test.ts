/**
 * GPU device requests on a real engine. This engine has no GPU: containers that ask for one are created
 * without being started (the engine accepts and records the request), and opening a session that asks
 * for one fails with GPU_UNAVAILABLE, which says what was asked for and by whom.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import Docker from 'dockerode';
import { containerSpec, gpuPlan } from '../../src/sandbox/container';
import { imageConfig, resolveConfig } from '../../src/sandbox/devcontainer';
import { resolveDockerHost } from '../../src/sandbox/docker-client';
import {
  checkDocker,
  NO_GPUS,
  openSandbox,
  parseGpus,
  removeSandbox,
  runFreshContainer,
  SandboxError,
} from '../../src/sandbox/index';
import { containerIds, dockerProblem, removeContainers, skipUnlessRequired } from '../support/docker';
import { removeDir, TEST_LABELS, tempWorkspace, uniqueSession } from './sandbox-support';

const IMAGE = 'klong/python-min:bookworm';
const skip = skipUnlessRequired(dockerProblem(IMAGE));
const docker = new Docker();

describe('GPU device requests', { skip }, () => {
  const dirs: string[] = [];
  const sessions: string[] = [];
  const label = `klong.test.gpus=${process.pid}`;
  after(async () => {
    for (const s of sessions) await removeSandbox(s).catch(() => 0);
    for (const d of dirs) removeDir(d);
    removeContainers(label);
  });
  const labels = { ...TEST_LABELS, 'klong.test.gpus': String(process.pid) };

  test('the engine records the device request of --gpus 0,1 / all / 2 (created, not started)', async () => {
    for (const [value, want] of [
      ['0,1', { Count: 0, DeviceIDs: ['0', '1'] }],
      ['all', { Count: -1, DeviceIDs: null }],
      ['2', { Count: 2, DeviceIDs: null }],
    ] as const) {
      const spec = containerSpec(
        {
          sessionId: uniqueSession('gpu-spec'),
          workspace: '/nowhere',
          cfg: imageConfig(IMAGE),
          network: 'none',
          labels,
        },
        parseGpus(value),
      );
      const c = await docker.createContainer(spec);
      try {
        const info = await c.inspect();
        const [req, ...rest] = info.HostConfig.DeviceRequests ?? [];
        assert.equal(rest.length, 0);
        assert.equal(req?.Count, want.Count, value);
        assert.deepEqual(req?.DeviceIDs ?? null, want.DeviceIDs, value);
        assert.deepEqual(req?.Capabilities, [['gpu']], value);
      } finally {
        await c.remove({ force: true });
      }
    }
  });

  test('--gpus none: the session container has no device request', async () => {
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    const session = uniqueSession('gpu-none');
    sessions.push(session);
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      image: IMAGE,
      labels,
      gpus: parseGpus('none'),
    });
    assert.equal(sb.info.gpus, undefined);
    const info = await docker.getContainer(sb.info.containerId).inspect();
    assert.deepEqual(info.HostConfig.DeviceRequests ?? [], []);
  });

  test('asking this engine for GPUs fails with GPU_UNAVAILABLE naming the request and its source, leaving nothing', async (t) => {
    if ((await checkDocker()).gpu) return t.skip('this engine has a GPU runtime');
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    const session = uniqueSession('gpu-all');
    await assert.rejects(
      openSandbox({
        workspace: ws,
        sessionId: session,
        network: 'none',
        image: IMAGE,
        labels,
        gpus: parseGpus('0,1'),
      }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'GPU_UNAVAILABLE' &&
        e.message.includes('device=0,1, from klong.docker.gpus / --gpus') &&
        /set klong\.docker\.gpus \/ --gpus to none/.test(e.hint),
    );
    assert.equal(await removeSandbox(session), 0);

    // runArgs --gpus in devcontainer.json is applied (not warned about as an ignored run argument).
    const ws2 = tempWorkspace({
      '.devcontainer.json': JSON.stringify({ image: IMAGE, runArgs: ['--gpus', 'device=1'] }),
    });
    dirs.push(ws2);
    const warnings: string[] = [];
    const session2 = uniqueSession('gpu-runargs');
    await assert.rejects(
      openSandbox({
        workspace: ws2,
        sessionId: session2,
        network: 'none',
        labels,
        onWarning: (m) => warnings.push(m),
        gpus: NO_GPUS,
      }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'GPU_UNAVAILABLE' &&
        e.message.includes('device=1, from runArgs --gpus in devcontainer.json'),
    );
    assert.deepEqual(warnings, []);
    assert.equal(await removeSandbox(session2), 0);
  });

  test('the fresh final-run container gets the session’s GPUs', async (t) => {
    if ((await checkDocker()).gpu) return t.skip('this engine has a GPU runtime');
    const ws = tempWorkspace({ 'reproduce.sh': 'echo ran\n' });
    dirs.push(ws);
    const freshLabel = { ...labels, 'klong.test.gpus-fresh': String(process.pid) };
    // Without GPUs it runs; with the session's GPU request it asks the engine for them (none here).
    const plain = await runFreshContainer({
      image: IMAGE,
      source: ws,
      command: 'bash reproduce.sh',
      network: 'none',
      labels: freshLabel,
    });
    assert.equal(plain.exitCode, 0);
    assert.equal(plain.output, 'ran\n');
    await assert.rejects(
      runFreshContainer({
        image: IMAGE,
        source: ws,
        command: 'bash reproduce.sh',
        network: 'none',
        labels: freshLabel,
        gpus: parseGpus('1'),
      }),
      (e: unknown) =>
        e instanceof SandboxError && e.code === 'GPU_UNAVAILABLE' && e.message.includes('(1, from'),
    );
    assert.deepEqual(
      containerIds(`klong.test.gpus-fresh=${process.pid}`),
      [],
      'a final-run container was left',
    );
  });

  test('gpuPlan of a devcontainer.json with hostRequirements.gpu "optional" falls back to none on this engine', async (t) => {
    if ((await checkDocker()).gpu) return t.skip('this engine has a GPU runtime');
    const ws = tempWorkspace({
      '.devcontainer.json': JSON.stringify({ image: IMAGE, hostRequirements: { gpu: 'optional' } }),
    });
    dirs.push(ws);
    const cfg = await resolveConfig(ws, { dockerHost: resolveDockerHost() });
    assert.equal(gpuPlan(cfg).optional, true);
    const session = uniqueSession('gpu-optional');
    sessions.push(session);
    const sb = await openSandbox({ workspace: ws, sessionId: session, network: 'none', labels });
    assert.equal(sb.info.gpus, undefined, 'the container went without GPUs, and says so');
  });
});
