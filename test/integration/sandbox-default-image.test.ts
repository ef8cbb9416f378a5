/**
 * The default sandbox on a machine without the offline image: KLong pulls the base image from a registry
 * and builds its shipped definition (resources/default-sandbox) through the devcontainer CLI. The registry
 * is Debian's docker-registry on 127.0.0.1 serving a base made from klong/python-min:bookworm; the build's
 * RUN steps and the agent's container have network none, and the pip installs are skipped (no PyPI here).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { defaultDefinitionDir, defaultSandboxImage } from '../../src/sandbox/default-sandbox';
import {
  buildDefaultSandbox,
  openSandbox,
  removeSandbox,
  SandboxError,
  sandboxReadiness,
} from '../../src/sandbox/index';
import { dockerProblem, skipUnlessRequired } from '../support/docker';
import { type LocalRegistry, registryProblem, startRegistry } from '../support/registry';
import { removeDir, TEST_LABELS, tempWorkspace, uniqueSession } from './sandbox-support';

const MIN_IMAGE = 'klong/python-min:bookworm';
const skip = skipUnlessRequired(dockerProblem(MIN_IMAGE) || registryProblem());
if (skip) console.log(`# ${skip}; default sandbox registry tests skipped`);

/** An offline image name no engine has: the build path is taken even where klong/python:bookworm exists. */
const NO_OFFLINE_IMAGE = `klong/offline-absent:${process.pid}`;

function docker(...args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Processes whose command line mentions `text` (the CLI and docker build of a cancelled build). */
function processesWith(text: string): number[] {
  const found: number[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text)) found.push(Number(pid));
    } catch {
      // exited while scanning
    }
  }
  return found;
}

async function until(check: () => boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return check();
}

describe('default sandbox built from a registry base image', { skip }, () => {
  let registry: LocalRegistry;
  let base: string;
  let baseId: string;
  const tag = `${process.pid}-${Date.now().toString(36)}`;
  const dirs: string[] = [];
  const sessions: string[] = [];
  const images: string[] = [];
  const build = () => ({
    baseImage: base,
    aptPackages: 'git ca-certificates',
    pipPackages: '',
    buildNetwork: 'none',
  });

  before(async () => {
    registry = await startRegistry();
    base = `${registry.address}/klong-test/base:${tag}`;
    // An image of its own (a label on top of the minimal one), so that its containers are ours alone.
    const made = spawnSync('docker', ['build', '-q', '-t', base, '--label', `klong.test.base=${tag}`, '-'], {
      input: `FROM ${MIN_IMAGE}\n`,
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
    baseId = docker('image', 'inspect', '--format', '{{.Id}}', base);
    docker('push', base);
    // Gone from the engine: opening the sandbox has to pull it from the registry.
    docker('rmi', base);
  });

  after(async () => {
    for (const s of sessions) await removeSandbox(s).catch(() => 0);
    for (const d of dirs) removeDir(d);
    for (const i of images) spawnSync('docker', ['rmi', '-f', i]);
    spawnSync('docker', ['rmi', '-f', base]);
    await registry?.stop();
  });

  test('no devcontainer.json and no offline image: the base is pulled, the definition built, the session runs', async () => {
    const ws = tempWorkspace({ 'main.py': 'print("paper")\n' });
    dirs.push(ws);
    const session = uniqueSession('default-build');
    sessions.push(session);
    const expected = await defaultSandboxImage(build());
    images.push(expected);
    // The walkthrough's check says what the session will do: build the shipped definition.
    const check = { offlineImage: NO_OFFLINE_IMAGE, defaultBuild: build() };
    assert.deepEqual(await sandboxReadiness(ws, check), {
      kind: 'image',
      image: NO_OFFLINE_IMAGE,
      present: false,
      build: expected,
    });
    // A custom image that is missing is a pull, not a build.
    assert.deepEqual(await sandboxReadiness(ws, { ...check, defaultImage: `klong-test/custom:${tag}` }), {
      kind: 'image',
      image: `klong-test/custom:${tag}`,
      present: false,
    });
    const progress: string[] = [];
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      labels: TEST_LABELS,
      offlineImage: NO_OFFLINE_IMAGE,
      defaultBuild: build(),
      onProgress: (m) => progress.push(m),
    });
    assert.equal(sb.info.image, expected);
    assert.equal(sb.info.network, 'none');
    assert.ok(
      progress.some((m) => m.includes(`Pulling the base image ${base} from ${registry.address}`)),
      progress.join('\n'),
    );
    assert.ok(
      progress.some((m) => /^Building the default sandbox: Step \d+\/\d+/.test(m)),
      progress.join('\n'),
    );
    // The pull was real: the base is on the engine again, the same image that was pushed.
    assert.equal(docker('image', 'inspect', '--format', '{{.Id}}', base), baseId);
    const label = docker(
      'image',
      'inspect',
      '--format',
      '{{index .Config.Labels "klong.default-sandbox"}}',
      expected,
    );
    assert.equal(label, expected.split(':')[1]);

    const r = await sb.exec(
      'python3 -c "print(6*7)"; git --version >/dev/null && echo git-ok; echo $MPLBACKEND; cat main.py',
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(r.output, '42\ngit-ok\nAgg\nprint("paper")\n');
    const net = docker('inspect', '--format', '{{.HostConfig.NetworkMode}}', sb.info.containerId);
    assert.equal(net, 'none');

    // A second session reuses the image: no pull, no build.
    const again: string[] = [];
    const session2 = uniqueSession('default-reuse');
    sessions.push(session2);
    const sb2 = await openSandbox({
      workspace: ws,
      sessionId: session2,
      network: 'none',
      labels: TEST_LABELS,
      offlineImage: NO_OFFLINE_IMAGE,
      defaultBuild: build(),
      onProgress: (m) => again.push(m),
    });
    assert.equal(sb2.info.image, expected);
    assert.ok(!again.some((m) => /Pulling|Building/.test(m)), again.join('\n'));

    // Now the check finds the built image ready, and the walkthrough's "Build it now" has nothing to do.
    const ready = await sandboxReadiness(ws, check);
    assert.equal(ready.kind === 'image' && ready.present && ready.image, expected);
    const quiet: string[] = [];
    assert.equal(
      await buildDefaultSandbox({ defaultBuild: build(), onProgress: (m) => quiet.push(m) }),
      expected,
    );
    assert.deepEqual(quiet, []);
  });

  test('the offline image stays preferred when the engine has it', async () => {
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    const session = uniqueSession('default-offline');
    sessions.push(session);
    const progress: string[] = [];
    const sb = await openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      labels: TEST_LABELS,
      offlineImage: MIN_IMAGE,
      // A base nobody serves: a build would fail, so success means no build was tried.
      defaultBuild: { ...build(), baseImage: `${registry.address}/klong-test/nothing:${tag}` },
      onProgress: (m) => progress.push(m),
    });
    assert.equal(sb.info.image, MIN_IMAGE);
    assert.ok(!progress.some((m) => /Pulling|Building/.test(m)), progress.join('\n'));
  });

  test('a base image the registry does not have: IMAGE_PULL_FAILED names the image, the registry and the offline way', async () => {
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    const missing = `${registry.address}/klong-test/missing:${tag}`;
    const session = uniqueSession('default-nopull');
    await assert.rejects(
      openSandbox({
        workspace: ws,
        sessionId: session,
        network: 'none',
        labels: TEST_LABELS,
        offlineImage: NO_OFFLINE_IMAGE,
        defaultBuild: { ...build(), baseImage: missing },
      }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'IMAGE_PULL_FAILED' &&
        e.message.includes(missing) &&
        e.message.includes(`registry ${registry.address}`) &&
        e.hint.includes('scripts/build-default-image.sh') &&
        e.hint.includes(`docker pull ${missing}`),
    );
    assert.equal(await removeSandbox(session), 0);
  });

  test("packages that cannot be downloaded: IMAGE_BUILD_FAILED with apt's output and the network and offline hints", async () => {
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    // procps is not in the base, and the build has no network: apt-get cannot fetch it.
    const opts = { ...build(), aptPackages: 'git procps' };
    const image = await defaultSandboxImage(opts);
    images.push(image);
    const session = uniqueSession('default-noapt');
    await assert.rejects(
      openSandbox({
        workspace: ws,
        sessionId: session,
        network: 'none',
        labels: TEST_LABELS,
        offlineImage: NO_OFFLINE_IMAGE,
        defaultBuild: opts,
      }),
      (e: unknown) =>
        e instanceof SandboxError &&
        e.code === 'IMAGE_BUILD_FAILED' &&
        e.message.includes(image) &&
        e.message.includes(`from ${base}`) &&
        /apt|Temporary failure|resolve/i.test(e.message) &&
        e.hint.includes('deb.debian.org and pypi.org') &&
        e.hint.includes('scripts/build-default-image.sh'),
    );
    assert.notEqual(
      spawnSync('docker', ['image', 'inspect', image]).status,
      0,
      'a failed build left an image',
    );
    assert.equal(await removeSandbox(session), 0);
  });

  test('Cancel kills the build: no build process or build container is left, and no image', async () => {
    // The shipped definition with a step that would run for minutes.
    const def = mkdtempSync(join(tmpdir(), 'klong-def-'));
    dirs.push(def);
    const shipped = defaultDefinitionDir();
    writeFileSync(join(def, 'devcontainer.json'), readFileSync(join(shipped, 'devcontainer.json')));
    writeFileSync(
      join(def, 'Dockerfile'),
      `${readFileSync(join(shipped, 'Dockerfile'), 'utf8')}\nRUN echo slow-step-${tag} && sleep 600\n`,
    );
    const opts = { ...build(), definitionDir: def };
    const image = await defaultSandboxImage(opts);
    images.push(image);
    const ws = tempWorkspace({ 'a.txt': 'a' });
    dirs.push(ws);
    const ctrl = new AbortController();
    const session = uniqueSession('default-cancel');
    const progress: string[] = [];
    const opening = openSandbox({
      workspace: ws,
      sessionId: session,
      network: 'none',
      labels: TEST_LABELS,
      offlineImage: NO_OFFLINE_IMAGE,
      defaultBuild: opts,
      signal: ctrl.signal,
      onProgress: (m) => {
        progress.push(m);
        if (m.includes(`RUN echo slow-step-${tag}`)) ctrl.abort();
      },
    });
    await assert.rejects(
      opening,
      (e: unknown) =>
        e instanceof SandboxError && e.code === 'BUILD_CANCELLED' && /cancelled/.test(e.message),
    );
    assert.ok(
      progress.some((m) => m.includes('slow-step')),
      progress.join('\n'),
    );
    // The devcontainer CLI and its docker build are gone, and so is the engine's build container (the engine
    // stops it on the closed connection, with its usual grace period for a process that ignores SIGTERM).
    assert.ok(
      await until(() => processesWith(image).length === 0),
      `left: ${processesWith(image).join(' ')}`,
    );
    const running = () =>
      docker('ps', '--no-trunc', '--filter', `ancestor=${baseId}`, '--format', '{{.ID}} {{.Command}}')
        .split('\n')
        .filter((l) => l.includes(`slow-step-${tag}`))
        .join('\n');
    assert.ok(await until(() => running() === ''), `build container still running: ${running()}`);
    assert.notEqual(
      spawnSync('docker', ['image', 'inspect', image]).status,
      0,
      'a cancelled build left an image',
    );
    assert.equal(await removeSandbox(session), 0);
    rmSync(def, { recursive: true, force: true });
  });
});
