/**
 * A new container for a session: its config (devcontainer.json, or KLong's default image, built
 * once), the image, the container, the workspace copy, the lifecycle commands and the shadow git
 * baseline. Apart from open.ts, which finds and reattaches a session's container, because creating
 * one is the long path.
 */
import type Docker from 'dockerode';
import {
  type ContainerMeta,
  createContainer,
  LABEL_META,
  prepareDirs,
  READY_MARKER,
  runLifecycle,
} from './container';
import { ensureDefaultSandboxImage } from './default-sandbox';
import {
  buildConfigImage,
  DEFAULT_IMAGE,
  imageConfig,
  resolveConfig,
  type SandboxConfig,
} from './devcontainer';
import { dockerError, engineCall, hasImage } from './docker-client';
import { DockerSandbox } from './docker-sandbox';
import { SandboxError } from './errors';
import { bashScript } from './exec';
import { installGitGuard } from './git-guard';
import type { OpenSandboxOptions } from './open';
import { initBaseline } from './shadow-git';
import { listWorkspace, tarEntries, type WorkspaceEntry } from './workspace-archive';

export interface CreateSandboxContext {
  o: OpenSandboxOptions;
  /** The workspace folder, resolved. */
  workspace: string;
  docker: Docker;
  host: string;
}

/** Creates, fills and sets up the session's container; a failure removes it again. */
export async function createSandbox(c: CreateSandboxContext): Promise<DockerSandbox> {
  const { o, workspace, docker, host } = c;
  const progress = o.onProgress;
  const cfg = await sandboxConfig(c);
  if (o.signal?.aborted) throw cancelledOpen();
  if (cfg.needsBuild) {
    progress?.(`Building the devcontainer image ${cfg.image}`);
    await buildConfigImage(workspace, cfg, cliOptions(c));
  }
  await ensureImage(docker, host, cfg.image, !o.image && !cfg.configFile);
  // Listing first: a workspace over the size limit fails before any container exists.
  const entries = await listWorkspace(workspace, o);

  progress?.(`Creating the container from ${cfg.image} (network ${o.network ?? 'bridge'})`);
  const network = o.network ?? 'bridge';
  const container = await engineCall(host, () =>
    createContainer(docker, {
      sessionId: o.sessionId,
      workspace,
      cfg,
      network,
      limits: o.limits,
      labels: o.labels,
      ...(o.gpus ? { gpus: o.gpus } : {}),
    }),
  );
  try {
    return await setUp(c, { container, cfg, network, entries });
  } catch (err) {
    await container.remove({ force: true, v: true }).catch(() => undefined);
    throw err instanceof SandboxError ? err : dockerError(err, host);
  }
}

function cliOptions({ o, host }: CreateSandboxContext) {
  return {
    cliPath: o.devcontainerCli,
    dockerHost: host,
    onProgress: o.onProgress,
    onWarning: o.onWarning ?? o.onProgress,
    secrets: o.secrets,
    signal: o.signal,
  };
}

/** The image option, the workspace's devcontainer.json, or the default image (built when missing). */
async function sandboxConfig(c: CreateSandboxContext): Promise<SandboxConfig> {
  const { o, workspace, docker, host } = c;
  const cfg = o.image
    ? imageConfig(o.image)
    : await resolveConfig(workspace, {
        ...cliOptions(c),
        defaultImage: o.defaultImage ?? o.offlineImage ?? DEFAULT_IMAGE,
      });
  // No devcontainer.json: the offline image when the engine has it (air-gapped hosts, CI), else the
  // definition KLong ships, built once.
  if (
    o.image ||
    cfg.configFile ||
    cfg.image !== (o.offlineImage ?? DEFAULT_IMAGE) ||
    (await hasImage(docker, host, cfg.image))
  )
    return cfg;
  const built = await ensureDefaultSandboxImage(
    {
      docker,
      host,
      cliPath: o.devcontainerCli,
      onProgress: o.onProgress,
      secrets: o.secrets,
      signal: o.signal,
    },
    o.defaultBuild,
  );
  return imageConfig(built);
}

/** Inside the new container: folders, git guard, the workspace, lifecycle commands, the baseline. */
async function setUp(
  c: CreateSandboxContext,
  n: { container: Docker.Container; cfg: SandboxConfig; network: string; entries: WorkspaceEntry[] },
): Promise<DockerSandbox> {
  const { o, docker, host } = c;
  const { container, cfg, network } = n;
  const progress = o.onProgress;
  const user = cfg.remoteUser ?? cfg.containerUser;
  // What the container got: an optional GPU may have been left out.
  const created = await container.inspect();
  const gpus = (JSON.parse(created.Config.Labels[LABEL_META] ?? '{}') as Partial<ContainerMeta>).gpus;
  const meta: ContainerMeta = {
    workdir: cfg.workspaceFolder,
    user,
    remoteEnv: cfg.remoteEnv,
    postStart: cfg.postStart,
    image: cfg.image,
    network,
    ...(gpus ? { gpus } : {}),
  };
  await prepareDirs(container, cfg.workspaceFolder, user);
  if (o.gitGuard) await installGitGuard(container, o.gitGuard);
  progress?.('Copying the workspace into the container');
  const count = await copyWorkspaceIn(container, {
    workspace: c.workspace,
    workdir: cfg.workspaceFolder,
    user,
    entries: n.entries,
  });
  progress?.(`Copied ${count} entries`);
  for (const [stage, commands] of [
    ['onCreateCommand', cfg.onCreate],
    ['updateContentCommand', cfg.updateContent],
    ['postCreateCommand', cfg.postCreate],
    ['postStartCommand', cfg.postStart],
  ] as const)
    await runLifecycle(container, { stage, commands, meta, onProgress: progress });
  // Baseline after the lifecycle commands: what they generate is not the agent's change.
  await initBaseline({ container, workdir: cfg.workspaceFolder, user });
  await bashScript(container, `touch ${READY_MARKER}`, [], { user: 'root' });
  const info = await container.inspect();
  return new DockerSandbox(docker, container, meta, {
    containerId: info.Id,
    image: cfg.image,
    network,
    workdir: cfg.workspaceFolder,
    user,
    reattached: false,
    engine: host,
    ...(gpus ? { gpus } : {}),
  });
}

function cancelledOpen(): SandboxError {
  return new SandboxError(
    'BUILD_CANCELLED',
    'Opening the sandbox was cancelled.',
    'Start the session again to continue.',
  );
}

async function ensureImage(docker: Docker, host: string, image: string, isDefault: boolean): Promise<void> {
  if (await hasImage(docker, host, image)) return;
  throw new SandboxError(
    'IMAGE_NOT_FOUND',
    `The sandbox image ${image} is not on the Docker engine at ${host}.`,
    isDefault
      ? 'Pull or build it, or clear the klong.docker.defaultImage setting so that KLong builds its default sandbox, or add a .devcontainer/devcontainer.json to the workspace.'
      : `Pull or build ${image} (e.g. \`docker pull ${image}\`), or change the image in devcontainer.json.`,
  );
}

/** Copies the workspace into the container (a size-checked tar stream through putArchive). */
export async function copyWorkspaceIn(
  container: Docker.Container,
  o: {
    /** Host folder. */
    workspace: string;
    /** Where it goes in the container. */
    workdir: string;
    /** Owner of the copy (root when unset). */
    user?: string | undefined;
    sizeLimit?: number;
    ignore?: string[];
    /** Already listed (and size-checked): copied as they are. */
    entries?: WorkspaceEntry[];
  },
): Promise<number> {
  const { workdir, user } = o;
  const entries = o.entries ?? (await listWorkspace(o.workspace, o));
  await container.putArchive(tarEntries(entries), { path: workdir });
  if (user && user !== 'root') {
    const r = await bashScript(container, 'chown -R "$1" "$2"', [user, workdir], { user: 'root' });
    if (r.exitCode !== 0) throw new Error(`chown of the workspace failed: ${r.stderr.trim()}`);
  }
  return entries.length;
}
