import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseReproduceArgs } from '../../../src/cli/main';
import { CliError, type ReproduceOptions } from '../../../src/cli/reproduce';
import { containerSpec, gpuPlan } from '../../../src/sandbox/container';
import { imageConfig } from '../../../src/sandbox/devcontainer';
import { SandboxError } from '../../../src/sandbox/errors';
import {
  describeGpus,
  deviceRequests,
  gpusFromRunArgs,
  NO_GPUS,
  otherRunArgs,
  parseGpus,
} from '../../../src/sandbox/gpus';

describe('klong.docker.gpus / --gpus', () => {
  test('none, all, counts and device ids, in the forms docker run --gpus takes', () => {
    const cases: [unknown, string][] = [
      [undefined, 'none'],
      ['', 'none'],
      ['none', 'none'],
      ['NONE', 'none'],
      ['0', 'none'],
      [0, 'none'],
      ['all', 'all'],
      [' All ', 'all'],
      ['count=all', 'all'],
      ['2', '2'],
      [2, '2'],
      ['count=3', '3'],
      ['0,1', 'device=0,1'],
      ['device=1', 'device=1'],
      ['"device=0,2"', 'device=0,2'],
      ['GPU-3a1b2c3d-aaaa-bbbb-cccc-0123456789ab', 'device=GPU-3a1b2c3d-aaaa-bbbb-cccc-0123456789ab'],
      ['MIG-GPU-0/1/0', 'device=MIG-GPU-0/1/0'],
      ['0, 1', 'device=0,1'],
    ];
    for (const [value, want] of cases)
      assert.equal(describeGpus(parseGpus(value)), want, JSON.stringify(value));
  });

  test('invalid values give GPU_SETTING_INVALID naming the value, where it came from and the forms allowed', () => {
    for (const bad of [
      'yes',
      '-1',
      -1,
      1.5,
      'count=0',
      'count=x',
      '0,,1',
      '0,0',
      'device=',
      'a b',
      true,
      {},
      '--all',
    ]) {
      assert.throws(
        () => parseGpus(bad, '--gpus'),
        (e: unknown) =>
          e instanceof SandboxError &&
          e.code === 'GPU_SETTING_INVALID' &&
          e.message.includes(JSON.stringify(bad)) &&
          e.message.includes('--gpus') &&
          /none, all, a number of GPUs such as 2, or device ids such as 0,1/.test(e.hint),
        JSON.stringify(bad),
      );
    }
  });

  test('device requests are what docker run --gpus sends', () => {
    assert.deepEqual(deviceRequests(NO_GPUS), []);
    assert.deepEqual(deviceRequests(parseGpus('all')), [{ Driver: '', Count: -1, Capabilities: [['gpu']] }]);
    assert.deepEqual(deviceRequests(parseGpus('2')), [{ Driver: '', Count: 2, Capabilities: [['gpu']] }]);
    assert.deepEqual(deviceRequests(parseGpus('0,1')), [
      { Driver: '', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['gpu']] },
    ]);
  });

  test('runArgs: --gpus X and --gpus=X are read (last wins); other run arguments stay unapplied', () => {
    assert.equal(gpusFromRunArgs(undefined), undefined);
    assert.equal(gpusFromRunArgs(['--shm-size=1g']), undefined);
    assert.equal(describeGpus(gpusFromRunArgs(['--gpus', 'all'])!), 'all');
    assert.equal(describeGpus(gpusFromRunArgs(['--gpus=1', '--gpus', '"device=2,3"'])!), 'device=2,3');
    assert.deepEqual(otherRunArgs(['--gpus', 'all', '--shm-size=1g', '--gpus=2']), ['--shm-size=1g']);
    assert.throws(
      () => gpusFromRunArgs(['--gpus', 'lots'], 'runArgs in .devcontainer/devcontainer.json'),
      (e: unknown) =>
        e instanceof SandboxError && e.message.includes('runArgs in .devcontainer/devcontainer.json'),
    );
  });

  test('which GPUs a container gets: the setting, else runArgs, else hostRequirements.gpu', () => {
    const plain = imageConfig('img');
    assert.deepEqual(gpuPlan(plain).request, NO_GPUS);
    assert.equal(describeGpus(gpuPlan(plain, parseGpus('0,1')).request), 'device=0,1');
    const required = { ...plain, gpu: true as const };
    const optional = { ...plain, gpu: 'optional' as const };
    assert.deepEqual(gpuPlan(required), {
      request: { kind: 'all' },
      optional: false,
      source: 'hostRequirements.gpu in devcontainer.json',
    });
    assert.equal(gpuPlan(optional).optional, true);
    // A setting other than none narrows what the configuration asks for, and is required.
    assert.deepEqual(gpuPlan(optional, parseGpus('1')), {
      request: { kind: 'count', count: 1 },
      optional: false,
      source: 'klong.docker.gpus / --gpus',
    });
    // none (the default) never takes away GPUs that devcontainer.json asks for.
    const runArgs = { ...plain, gpuRequest: parseGpus('device=3') };
    assert.equal(describeGpus(gpuPlan(runArgs, NO_GPUS).request), 'device=3');
  });

  test('the container spec carries the device request and records it for the final run', () => {
    const o = { sessionId: 's', workspace: '/w', cfg: imageConfig('img'), network: 'none' };
    const none = containerSpec(o, NO_GPUS);
    assert.equal(none.HostConfig?.DeviceRequests, undefined);
    assert.equal(JSON.parse(none.Labels!['klong.sandbox']!).gpus, undefined);
    const two = containerSpec(o, parseGpus('0,1'));
    assert.deepEqual(two.HostConfig?.DeviceRequests, [
      { Driver: '', Count: 0, DeviceIDs: ['0', '1'], Capabilities: [['gpu']] },
    ]);
    assert.deepEqual(JSON.parse(two.Labels!['klong.sandbox']!).gpus, { kind: 'devices', ids: ['0', '1'] });
  });
});

describe('klong reproduce --gpus', () => {
  const parse = (...args: string[]) =>
    parseReproduceArgs(['paper.md', '--workspace', 'ws', ...args], {
      KLONG_API_KEY: 'k',
    }) as ReproduceOptions;

  test('absent is none; a value is parsed into the run settings', () => {
    assert.equal(parse().gpus, undefined);
    assert.deepEqual(parse('--gpus', '0,1').gpus, { kind: 'devices', ids: ['0', '1'] });
    assert.deepEqual(parse('--gpus', 'all').gpus, { kind: 'all' });
  });

  test('a bad value stops before anything starts, with the forms allowed (exit 2)', () => {
    assert.throws(
      () => parse('--gpus', 'lots'),
      (e: unknown) =>
        e instanceof CliError &&
        e.exitCode === 2 &&
        e.message.includes('"lots" (--gpus)') &&
        e.message.includes('device ids such as 0,1'),
    );
  });
});
