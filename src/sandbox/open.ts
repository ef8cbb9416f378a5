/** openSandbox: reattach the session's container by label, or create one (new-container.ts); find, list and remove them. */
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import {
  type ContainerMeta,
  findContainers,
  LABEL_SESSION,
  type Limits,
  READY_MARKER,
  runLifecycle,
} from './container';
import type { DefaultBuildOptions } from './default-sandbox';
import { connectDocker, dockerError, engineCall } from './docker-client';
import { DockerSandbox } from './docker-sandbox';
import { SandboxError } from './errors';
import { bashScript } from './exec';
import { type GitGuard, installGitGuard } from './git-guard';
import type { GpuRequest } from './gpus';
import { createSandbox } from './new-container';

export interface OpenSandboxOptions {
  /** Host folder whose copy the container gets. */
  workspace: string;
  sessionId: string;
  /** Docker network mode: "bridge" (default, for users) or "none" (tests, CI, isolation). */
  network?: string;
  limits?: Limits;
  /** DOCKER_HOST syntax; empty = DOCKER_HOST env, then the local socket. */
  dockerHost?: string;
  /** Use this image and skip the workspace's devcontainer.json. */
  image?: string;
  /**
   * Image when the workspace has no devcontainer.json (default: the offline image). When it is the
   * offline image and the engine does not have it, KLong's shipped definition is built instead.
   */
  defaultImage?: string;
  /** The offline image, preferred when the engine has it (default klong/python:bookworm; tests name an absent one). */
  offlineImage?: string;
  /** How that definition is built (tests: a base image on a local registry, no pip). */
  defaultBuild?: DefaultBuildOptions;
  /** GPUs (klong.docker.gpus / --gpus); none (default) leaves it to devcontainer.json. */
  gpus?: GpuRequest;
  /** Cancels the build of the default sandbox (and whatever opening step comes next). */
  signal?: AbortSignal;
  /** Bytes of workspace copied at most (default 1 GiB). */
  sizeLimit?: number;
  /** Extra ignore patterns for the copy (gitignore syntax). */
  ignore?: string[];
  /** Extra container labels (tests set klong.test=1). */
  labels?: Record<string, string>;
  /** Path of the devcontainer CLI script (default: shipped copy or node_modules). */
  devcontainerCli?: string;
  /** The blacklist guard for git, installed before any lifecycle command runs (new or reattached container). */
  gitGuard?: GitGuard;
  onProgress?: (message: string) => void;
  /** What the user should know about (a `${localEnv:…}` that is not passed on); default onProgress. */
  onWarning?: (message: string) => void;
  /** Values (the model key) that no child process gets in its environment, whatever the variable's name. */
  secrets?: readonly (string | undefined)[];
}

/** A container of the session, started if stopped; undefined when its setup never finished. */
async function reattach(o: {
  docker: Docker;
  host: string;
  id: string;
  meta: ContainerMeta;
  onProgress?: ((m: string) => void) | undefined;
  gitGuard?: GitGuard | undefined;
}): Promise<DockerSandbox | undefined> {
  const { docker, host, id, meta, onProgress, gitGuard } = o;
  const container = docker.getContainer(id);
  const state = await engineCall(host, () => container.inspect());
  let started = false;
  if (!state.State.Running) {
    onProgress?.('Starting the session’s stopped container');
    await engineCall(host, () => container.start());
    started = true;
  }
  const ready = await bashScript(container, `test -f ${READY_MARKER}`, [], { user: 'root' });
  if (ready.exitCode !== 0) return undefined; // setup never finished: start over
  // The blacklist may have changed since the container was made (a new blacklist.txt): write it again.
  if (gitGuard) await installGitGuard(container, gitGuard);
  if (started)
    await runLifecycle(container, { stage: 'postStartCommand', commands: meta.postStart, meta, onProgress });
  return new DockerSandbox(docker, container, meta, {
    containerId: id,
    image: meta.image,
    network: meta.network,
    workdir: meta.workdir,
    user: meta.user,
    reattached: true,
    engine: host,
    ...(meta.gpus ? { gpus: meta.gpus } : {}),
  });
}

/** Opens the session's sandbox: reattaches its container by label, or creates one from the workspace. */
export async function openSandbox(o: OpenSandboxOptions): Promise<DockerSandbox> {
  const workspace = resolve(o.workspace);
  const { docker, host } = connectDocker(o.dockerHost);
  const progress = o.onProgress;
  await engineCall(host, () => docker.ping());

  for (const found of await engineCall(host, () => findContainers(docker, o.sessionId))) {
    if (found.meta) {
      const sb = await reattach({
        docker,
        host,
        id: found.id,
        meta: found.meta,
        onProgress: progress,
        gitGuard: o.gitGuard,
      });
      if (sb) return sb;
    }
    progress?.('Removing an unfinished container of this session');
    await docker
      .getContainer(found.id)
      .remove({ force: true, v: true })
      .catch(() => undefined);
  }

  return createSandbox({ o, workspace, docker, host });
}

export interface SandboxSummary {
  containerId: string;
  state: string;
  sessionId: string;
  workspaceHash?: string;
  image?: string;
  network?: string;
}

/** The session's container, if there is one (any state). */
export async function findSandbox(
  sessionId: string,
  dockerHost?: string,
): Promise<SandboxSummary | undefined> {
  const { docker, host } = connectDocker(dockerHost);
  const found = await engineCall(host, () => findContainers(docker, sessionId));
  const f = found[0];
  if (!f) return undefined;
  return {
    containerId: f.id,
    state: f.state,
    sessionId,
    workspaceHash: f.labels['klong.workspace'],
    image: f.meta?.image,
    network: f.meta?.network,
  };
}

/** Removes the session's container(s) and their anonymous volumes. Returns how many were removed. */
export async function removeSandbox(sessionId: string, dockerHost?: string): Promise<number> {
  const { docker, host } = connectDocker(dockerHost);
  const found = await engineCall(host, () => findContainers(docker, sessionId));
  for (const f of found)
    await engineCall(host, () => docker.getContainer(f.id).remove({ force: true, v: true }));
  return found.length;
}

/**
 * The session's existing container, started if stopped, without ever creating one: rewind and diff
 * read the shadow git inside it (sessions without a history on the host).
 */
export async function attachSandbox(sessionId: string, dockerHost?: string): Promise<DockerSandbox> {
  const { docker, host } = connectDocker(dockerHost);
  await engineCall(host, () => docker.ping());
  for (const found of await engineCall(host, () => findContainers(docker, sessionId))) {
    if (!found.meta) continue;
    const sb = await reattach({ docker, host, id: found.id, meta: found.meta });
    if (sb) return sb;
  }
  throw new SandboxError(
    'CONTAINER_GONE',
    `Session ${sessionId} has no container any more, and no step history on this machine.`,
    'Rewind and diff read the step history that KLong keeps in the session folder (history.git, which needs git on this machine) or, for sessions from before it, in the container (kept with --keep-container). Rewinding only the conversation (--conversation) still works.',
  );
}

/** Every container KLong made on the engine (any session, any state), with its labels. */
export async function listSessionContainers(
  dockerHost?: string,
): Promise<{ id: string; name: string; state: string; labels: Record<string, string> }[]> {
  const { docker, host } = connectDocker(dockerHost);
  const list = await engineCall(host, () =>
    docker.listContainers({ all: true, filters: { label: [LABEL_SESSION] } }),
  );
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    state: c.State,
    labels: c.Labels,
  }));
}

/** Removes one container by id (and its anonymous volumes); a container already gone is fine. */
export async function removeContainer(id: string, dockerHost?: string): Promise<void> {
  const { docker, host } = connectDocker(dockerHost);
  try {
    await docker.getContainer(id).remove({ force: true, v: true });
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return;
    throw dockerError(err, host);
  }
}
