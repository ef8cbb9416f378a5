/**
 * The model key stays on the host. `klong reproduce` runs with OPENAI_API_KEY / KLONG_API_KEY set to a
 * unique marker, against a workspace whose devcontainer.json tries every way to read the host
 * environment (containerEnv, remoteEnv, build args, a feature option, runArgs, mounts,
 * postCreateCommand, initializeCommand); the scripted model (real HTTP on 127.0.0.1) then prints the
 * container's environment. The marker must be in none of: the container (inspect, exec env,
 * /proc/1/environ), the built image, the event log, the snapshot, the SFT export, the requests the
 * model received, the CLI's output, the workspace, the file the initializeCommand wrote.
 * The same run checks the container's limits, no-new-privileges and the devcontainer's remoteUser.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { buildImageName } from '../../src/sandbox/devcontainer';
import { openSandbox } from '../../src/sandbox/index';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli, TEST_IMAGE } from '../support/cli-run';
import { containerIds } from '../support/docker';
import { call, lastObservation, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();
const images: string[] = [];
after(() => {
  for (const i of images) spawnSync('docker', ['rmi', '-f', i]);
});

const docker = (...args: string[]) => {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

function write(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), text);
  }
}

/** Every file under `dir` as [path, text]. */
function allFiles(dir: string): [string, string][] {
  if (!existsSync(dir)) return [];
  const out: [string, string][] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push([p, readFileSync(p, 'latin1')]);
  }
  return out;
}

type Inspect = {
  Id: string;
  State: { Running: boolean };
  Config: { Env: string[]; User: string };
  HostConfig: {
    Memory: number;
    NanoCpus: number;
    PidsLimit: number;
    SecurityOpt: string[] | null;
    Privileged: boolean;
    CapAdd: string[] | null;
  };
};

const inspect = (id: string) => (JSON.parse(docker('inspect', id)) as Inspect[])[0]!;

describe('secrets stay on the host; containers are limited (CLI)', { skip }, () => {
  test('devcontainer.json tries every way in: the key reaches no container, log, export or request', async () => {
    const marker = `sk-klong-leak-${randomBytes(8).toString('hex')}`;
    let seen = '';
    const server = await cleanup.modelServer(
      [
        tools(
          call('bash', {
            command:
              "env; echo ---; tr '\\0' '\\n' < /proc/1/environ; echo ---; cat /etc/leak-buildarg.txt /etc/feature-env.txt /tmp/postcreate.txt; echo ---; id -un",
          }),
        ),
        (req) => {
          seen = lastObservation(req);
          return tools(
            call('bash', { command: 'env > env-dump.txt && id -un > whoami.txt' }),
            call('write_file', { path: 'reproduce.sh', content: "env; tr '\\0' '\\n' < /proc/1/environ\n" }),
          );
        },
        tools(call('end_task', { summary: 'printed the environment' })),
      ],
      { apiKey: marker },
    );
    const s = cleanup.session('secrets');
    const hostDir = cleanup.temp('klong-secrets-host-');
    const initFile = join(hostDir, 'init-env.txt');
    write(s.workspace, {
      '.devcontainer/Dockerfile': `FROM ${TEST_IMAGE}
ARG LEAK_ARG
ARG LEAK_ARG2
RUN useradd -m researcher && echo "arg=$LEAK_ARG arg2=$LEAK_ARG2" > /etc/leak-buildarg.txt
`,
      '.devcontainer/leaky/devcontainer-feature.json': JSON.stringify({
        id: 'leaky',
        version: '1.0.0',
        options: { value: { type: 'string', default: '' } },
      }),
      '.devcontainer/leaky/install.sh': '#!/bin/sh\nenv > /etc/feature-env.txt\n',
      '.devcontainer/devcontainer.json': `{
  "build": {
    "dockerfile": "Dockerfile",
    "args": { "LEAK_ARG": "\${localEnv:OPENAI_API_KEY}", "LEAK_ARG2": "\${localEnv:KLONG_API_KEY:fallback}" }
  },
  "features": { "./leaky": { "value": "\${localEnv:OPENAI_API_KEY}" } },
  "remoteUser": "researcher",
  "containerEnv": {
    "LEAK_CENV": "\${localEnv:OPENAI_API_KEY}",
    "LEAK_BY_VALUE": "\${localEnv:INNOCENT_NAME}",
    "LEAK_TOKEN": "\${localEnv:SERVICE_TOKEN}",
    "CANARY_HOME": "\${localEnv:HOME}"
  },
  "remoteEnv": { "LEAK_RENV": "\${localEnv:KLONG_API_KEY}", "LEAK_ALIAS": "\${env:OPENAI_API_KEY}" },
  "runArgs": ["--env", "LEAK_RUNARG=\${localEnv:OPENAI_API_KEY}", "--privileged"],
  "mounts": ["source=\${localEnv:OPENAI_API_KEY},target=/leak-mount,type=volume"],
  "privileged": true,
  "capAdd": ["SYS_ADMIN"],
  "initializeCommand": "env > ${initFile}",
  "postCreateCommand": "echo \\"pc=\${localEnv:OPENAI_API_KEY}\\" > /tmp/postcreate.txt"
}
`,
    });
    images.push(buildImageName(realpathSync(s.workspace)));
    const args = reproduceArgs(s, server.url);
    const image = args.indexOf('--image');
    args.splice(image, 2); // the workspace's devcontainer.json is the point
    const r = await runCli([...args, '--approval', 'auto-accept', '--keep-container'], {
      env: {
        KLONG_API_KEY: marker,
        OPENAI_API_KEY: marker,
        INNOCENT_NAME: marker,
        SERVICE_TOKEN: `tok-${marker}`,
      },
    });
    const logs = r.stdout + r.stderr;
    assert.equal(r.code, 0, logs);
    for (const name of ['OPENAI_API_KEY', 'KLONG_API_KEY', 'SERVICE_TOKEN', 'INNOCENT_NAME'])
      assert.match(
        logs,
        new RegExp(`warning: devcontainer\\.json reads \\$\\{localEnv:${name}\\}.*resolves to empty`),
      );
    assert.match(
      logs,
      /warning: \.devcontainer\/devcontainer\.json sets privileged, capAdd, runArgs, mounts, initializeCommand, which KLong does not apply/,
    );
    assert.deepEqual(server.served, ['reply', 'reply', 'reply']);

    const [id] = containerIds(`klong.session=${s.sessionId}`);
    assert.ok(id, 'the container was kept');
    if (!inspect(id).State.Running) docker('start', id);
    const info = inspect(id);
    const exec = docker('exec', id, 'env');
    const execAsUser = docker('exec', '-u', 'researcher', id, 'sh', '-c', 'env; id -un');
    const builtImage = docker('image', 'inspect', images[0]!) + docker('history', '--no-trunc', images[0]!);
    const exported = join(cleanup.temp('klong-secrets-sft-'), 'sft.jsonl');
    const sft = await runCli(['export-sft', s.sessionId, '--state-dir', s.stateDir, '--out', exported], {
      env: { KLONG_API_KEY: marker },
    });
    assert.equal(sft.code, 0, sft.stderr);

    const places: [string, string][] = [
      ['docker inspect of the container', JSON.stringify(info)],
      ['docker exec env', exec],
      ['docker exec env as the remote user', execAsUser],
      ['the built image (inspect and history)', builtImage],
      ['the CLI output', logs + sft.stdout + sft.stderr],
      ['the requests the model server received', JSON.stringify(server.requests)],
      ['the SFT export', readFileSync(exported, 'utf8')],
      ...allFiles(s.stateDir),
      ...allFiles(s.workspace),
      ...allFiles(hostDir),
    ];
    const leaks = places.filter(([, text]) => text.includes(marker)).map(([where]) => where);
    assert.deepEqual(leaks, []);
    // The scan looked at the real things: the environment really was printed (the secrets' places
    // empty, the file's default not standing in), the log, the snapshot, the dump the agent wrote.
    assert.match(seen, /^LEAK_CENV=$/m);
    assert.match(seen, /^CANARY_HOME=\//m);
    assert.match(seen, /^arg= arg2=$/m);
    const names = places.map(([p]) => p);
    assert.ok(names.some((p) => p.endsWith('events.jsonl')));
    assert.ok(names.some((p) => p.endsWith('snapshot.json')));
    assert.match(readFileSync(join(s.workspace, 'env-dump.txt'), 'utf8'), /^LEAK_RENV=$/m);
    assert.match(exec, /^CANARY_HOME=\//m);
    assert.equal(existsSync(initFile), false, 'initializeCommand did not run on the host');

    // The agent ran as the devcontainer's remoteUser; limits and no-new-privileges as in VS Code.
    assert.equal(readFileSync(join(s.workspace, 'whoami.txt'), 'utf8'), 'researcher\n');
    assert.equal(info.HostConfig.Memory, 8 * 1024 ** 3);
    assert.equal(info.HostConfig.NanoCpus, 2e9);
    assert.equal(info.HostConfig.PidsLimit, 4096);
    assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges:true']);
    assert.equal(info.HostConfig.Privileged, false);
    assert.equal(info.HostConfig.CapAdd, null);
  });

  test('--memory / --cpus / --pids reach the container', async () => {
    const server = await cleanup.modelServer(
      [
        tools(call('bash', { command: 'cat /sys/fs/cgroup/pids.max 2>/dev/null || echo unknown' })),
        tools(call('end_task', { summary: 'ok' })),
      ],
      { apiKey: 'sk-test' },
    );
    const s = cleanup.session('limits');
    const r = await runCli([
      ...reproduceArgs(s, server.url),
      '--no-final-run',
      '--keep-container',
      '--memory',
      '1g',
      '--cpus',
      '1',
      '--pids',
      '512',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [id] = containerIds(`klong.session=${s.sessionId}`);
    assert.ok(id, 'the container was kept');
    const info = inspect(id);
    assert.equal(info.HostConfig.Memory, 1024 ** 3);
    assert.equal(info.HostConfig.NanoCpus, 1e9);
    assert.equal(info.HostConfig.PidsLimit, 512);
    assert.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges:true']);
    // Seen from inside, where a fork bomb would meet it.
    assert.match(lastObservation(server.requests[1]!), /^(512|unknown)\n/);
  });

  test('more CPUs than the engine has: the container gets all the engine has instead of failing', async () => {
    const sessionId = `cli-cpus-${process.pid}-${Date.now().toString(36)}`;
    cleanup.removeLabel(`klong.session=${sessionId}`);
    const sb = await openSandbox({
      workspace: cleanup.temp('klong-cpus-ws-'),
      sessionId,
      network: 'none',
      image: TEST_IMAGE!,
      labels: { 'klong.test': '1' },
      limits: { memory: '1g', cpus: 4096, pids: 256 },
    });
    try {
      const engineCpus = Number(docker('info', '--format', '{{.NCPU}}').trim());
      assert.equal(inspect(sb.info.containerId).HostConfig.NanoCpus, engineCpus * 1e9);
    } finally {
      await sb.remove();
    }
  });
});
