/** The final reproduction: a command (e.g. `bash reproduce.sh`) in a fresh container from the same image. */
import { resolve } from 'node:path';
import { createContainer, type Limits, prepareDirs } from './container';
import { DEFAULT_WORKDIR, imageConfig } from './devcontainer';
import { connectDocker, dockerError } from './docker-client';
import { DockerSandbox } from './docker-sandbox';
import { SandboxError } from './errors';
import { type GitGuard, installGitGuard } from './git-guard';
import type { GpuRequest } from './gpus';
import { copyWorkspaceIn } from './new-container';
import type { ExecResult } from './sandbox';
import { PersistentShell } from './shell';

export interface FreshRunOptions {
  image: string;
  /** The fresh workspace: a sandbox's current workspace copy, or a host folder (ignore rules apply). */
  source: DockerSandbox | string;
  command: string;
  timeoutMs?: number;
  outputCap?: number;
  onOutput?: (chunk: string) => void;
  network?: string;
  limits?: Limits;
  dockerHost?: string;
  /** Files (workspace-relative) to read back after the run, e.g. reproduce.log. */
  readBack?: string[];
  labels?: Record<string, string>;
  /** The session this run belongs to: its container carries it in LABEL_FRESH_OF, so that a resume
   * after a crash (which skips the removal below) can find and remove it. */
  freshOf?: string;
  /** The blacklist guard for git (reproduce.sh must not fetch a blacklisted repository either). */
  gitGuard?: GitGuard;
  /** The GPUs of the session's container (its info.gpus): the final run gets the same. */
  gpus?: GpuRequest;
  signal?: AbortSignal;
}

/** Label of final-run containers: the id of their session (not klong.session, which marks the session's own container). */
export const LABEL_FRESH_OF = 'klong.fresh-of';

export interface FreshRunResult extends ExecResult {
  /** Content of the readBack files; null when a file does not exist. */
  files: Record<string, Uint8Array | null>;
}

export async function runFreshContainer(o: FreshRunOptions): Promise<FreshRunResult> {
  const { docker, host } = connectDocker(o.dockerHost);
  const fromSandbox = o.source instanceof DockerSandbox ? o.source : undefined;
  const workdir = fromSandbox?.workdir ?? DEFAULT_WORKDIR;
  const user = fromSandbox?.info.user;
  const cfg = imageConfig(o.image, workdir, user);
  const sessionId = `fresh-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  let container: Awaited<ReturnType<typeof createContainer>>;
  try {
    await docker.getImage(o.image).inspect();
    container = await createContainer(docker, {
      sessionId,
      workspace: fromSandbox ? fromSandbox.info.containerId : resolve(o.source as string),
      cfg,
      network: o.network ?? 'bridge',
      limits: o.limits,
      labels: { ...o.labels, 'klong.fresh': '1', ...(o.freshOf ? { [LABEL_FRESH_OF]: o.freshOf } : {}) },
      ...(o.gpus ? { gpus: o.gpus } : {}),
    });
  } catch (err) {
    throw dockerError(err, host);
  }
  try {
    await prepareDirs(container, workdir, user);
    if (o.gitGuard) await installGitGuard(container, o.gitGuard);
    if (fromSandbox) {
      const archive = await fromSandbox.container.getArchive({ path: `${workdir}/.` });
      await container.putArchive(archive, { path: workdir });
    } else {
      await copyWorkspaceIn(container, { workspace: resolve(o.source as string), workdir, user });
    }
    const shell = new PersistentShell(container, { user, workdir });
    try {
      const r = await shell.exec(o.command, {
        timeoutMs: o.timeoutMs,
        outputCap: o.outputCap,
        onOutput: o.onOutput,
        signal: o.signal,
      });
      const files: Record<string, Uint8Array | null> = {};
      const view = new DockerSandbox(
        docker,
        container,
        { workdir, user, remoteEnv: {}, postStart: [], image: o.image, network: o.network ?? 'bridge' },
        {
          containerId: container.id,
          image: o.image,
          network: o.network ?? 'bridge',
          workdir,
          user,
          reattached: false,
          engine: host,
        },
      );
      for (const p of o.readBack ?? []) {
        files[p] = await view.readFile(p).catch((err: unknown) => {
          if (err instanceof SandboxError && err.code === 'FILE_NOT_FOUND') return null;
          throw err;
        });
      }
      const { shellRestarted: _, ...result } = r;
      return { ...result, files };
    } finally {
      shell.dispose();
    }
  } finally {
    await container.remove({ force: true, v: true }).catch(() => undefined);
  }
}

/** Removes the final-run containers of a session left by a crash; returns how many there were. */
export async function removeFreshContainers(sessionId: string, dockerHost?: string): Promise<number> {
  const { docker, host } = connectDocker(dockerHost);
  try {
    const list = await docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_FRESH_OF}=${sessionId}`] },
    });
    await Promise.all(
      list.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true, v: true })
          .catch((err: { statusCode?: number }) => {
            // Gone already, or being removed by the run that made it.
            if (err.statusCode !== 404 && err.statusCode !== 409) throw err;
          }),
      ),
    );
    return list.length;
  } catch (err) {
    throw dockerError(err, host);
  }
}
