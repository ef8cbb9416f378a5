import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'jsonc-parser';
import {
  buildLogTail,
  DEFAULT_BASE_IMAGE,
  defaultDefinitionDir,
  defaultSandboxImage,
  imageRegistry,
} from '../../../src/sandbox/default-sandbox';

test('the registry an image is pulled from, by Docker’s rules', () => {
  assert.equal(imageRegistry('python:3.12-slim-bookworm'), 'docker.io');
  assert.equal(imageRegistry('library/python:3.12'), 'docker.io');
  assert.equal(imageRegistry('pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime'), 'docker.io');
  assert.equal(imageRegistry('ghcr.io/org/img:1'), 'ghcr.io');
  assert.equal(imageRegistry('127.0.0.1:5000/klong/base:1'), '127.0.0.1:5000');
  assert.equal(imageRegistry('localhost/base'), 'localhost');
});

test('the shipped definition: a devcontainer.json on the Dockerfile, with the base KLong names in its messages', () => {
  const dir = defaultDefinitionDir();
  const config = parse(readFileSync(join(dir, 'devcontainer.json'), 'utf8')) as {
    build: { dockerfile: string; args: Record<string, string> };
  };
  assert.equal(config.build.dockerfile, 'Dockerfile');
  assert.equal(config.build.args.BASE_IMAGE, DEFAULT_BASE_IMAGE);
  const dockerfile = readFileSync(join(dir, config.build.dockerfile), 'utf8');
  assert.match(dockerfile, /^FROM \$\{BASE_IMAGE\}$/m);
  for (const arg of Object.keys(config.build.args))
    assert.match(dockerfile, new RegExp(`^ARG ${arg}\\b`, 'm'));
  assert.match(config.build.args.PIP_PACKAGES!, /numpy.*scipy.*pandas.*matplotlib.*scikit-learn/);
});

test('the image name follows the build’s inputs: same options, same image; another base or option, another', async () => {
  const a = await defaultSandboxImage();
  assert.match(a, /^klong\/sandbox-default:[0-9a-f]{12}$/);
  assert.equal(await defaultSandboxImage({}), a);
  assert.notEqual(await defaultSandboxImage({ baseImage: 'mirror.example/python:3.12-slim-bookworm' }), a);
  assert.notEqual(await defaultSandboxImage({ torch: true }), a);
  assert.notEqual(await defaultSandboxImage({ buildNetwork: 'none' }), a);
});

test('a failed build’s log tail drops the CLI’s stack trace, the docker command line and apt’s split prefixes', () => {
  const stderr = [
    '[2026-12-06T22:00:00.000Z] Step 2/5 : RUN apt-get install procps',
    'E',
    ':',
    ' Unable to locate package procps',
    "The command '/bin/sh -c apt-get install procps' returned a non-zero code: 100",
    'Error: Command failed: docker build -f /tmp/x/Dockerfile -t klong/sandbox-default:abc /tmp/x',
    '    at IW (/x/devContainersSpecCLI.js:470:2009)',
    '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
    '',
  ].join('\n');
  assert.equal(
    buildLogTail(stderr),
    [
      'Step 2/5 : RUN apt-get install procps',
      ' Unable to locate package procps',
      "The command '/bin/sh -c apt-get install procps' returned a non-zero code: 100",
    ].join('\n'),
  );
});
