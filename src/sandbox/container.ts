/** Creating, finding and removing the session's container; its setup and lifecycle commands. */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import type { LifecycleCommand, SandboxConfig } from './devcontainer';
import { SandboxError } from './errors';
import { bashScript, runInContainer } from './exec';
import { describeGpus, deviceRequests, type GpuRequest, NO_GPUS } from './gpus';
import { SHELL_STATE_DIR } from './shell';

export const LABEL_SESSION = 'klong.session';
export const LABEL_WORKSPACE = 'klong.workspace';
/** Hash of the state folder of the session: `klong sessions --prune` removes only its own folder's containers. */
export const LABEL_STATE = 'klong.state';
/** JSON of what a reattach needs (workdir, user, env, postStart commands). */
export const LABEL_META = 'klong.sandbox';
/** Written inside the container once setup (copy, baseline, lifecycle) finished. */
export const READY_MARKER = '/var/lib/klong/ready';

export interface Limits {
  /** Bytes, or a size such as "8g", "512m". */
  memory?: number | string;
  cpus?: number;
  pids?: number;
}

export interface ContainerMeta {
  workdir: string;
  user?: string;
  remoteEnv: Record<string, string>;
  postStart: LifecycleCommand[];
  image: string;
  network: string;
  /** The GPUs the container got (absent: none); a fresh final-run container gets the same. */
  gpus?: GpuRequest;
}

export function workspaceHash(workspace: string): string {
  return createHash('sha256').update(workspace).digest('hex').slice(0, 16);
}

/** The label that ties a container to the state folder its session lives in. */
export function stateLabel(stateDir: string): Record<string, string> {
  return { [LABEL_STATE]: createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 16) };
}

export function parseSize(v: number | string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number') return v;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$/i.exec(v);
  if (!m) throw new SandboxError('CONFIG_INVALID', `Not a size: ${v}`, 'Use a size such as 512m, 8g or 16g.');
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase()] ?? 1;
  return Math.round(Number(m[1]) * mult);
}

const KEEPALIVE = 'trap "exit 0" TERM INT; while sleep 3600 & wait $!; do :; done';

export interface CreateOptions {
  sessionId: string;
  workspace: string;
  cfg: SandboxConfig;
  network: string;
  limits?: Limits;
  labels?: Record<string, string>;
  /** The user's GPU choice (klong.docker.gpus / --gpus); none defers to what devcontainer.json asks for. */
  gpus?: GpuRequest;
}

/** Which GPUs a container asks for, whether it may go without them, and who asked (for messages). */
export interface GpuPlan {
  request: GpuRequest;
  optional: boolean;
  source: string;
}

/**
 * The user's choice when it is not none (it narrows or widens what the configuration asks for), then
 * runArgs' --gpus, then hostRequirements.gpu (all GPUs; "optional" may go without).
 */
export function gpuPlan(cfg: SandboxConfig, setting: GpuRequest = NO_GPUS): GpuPlan {
  if (setting.kind !== 'none')
    return { request: setting, optional: false, source: 'klong.docker.gpus / --gpus' };
  if (cfg.gpuRequest)
    return { request: cfg.gpuRequest, optional: false, source: 'runArgs --gpus in devcontainer.json' };
  if (cfg.gpu !== false)
    return {
      request: { kind: 'all' },
      optional: cfg.gpu === 'optional',
      source: 'hostRequirements.gpu in devcontainer.json',
    };
  return { request: NO_GPUS, optional: false, source: 'none' };
}

/** The Engine API's create options for the session's container (exported for tests that create without starting). */
export function containerSpec(
  o: CreateOptions,
  gpus: GpuRequest,
  cpus = o.limits?.cpus,
): Docker.ContainerCreateOptions {
  const memory = parseSize(o.limits?.memory);
  const meta: ContainerMeta = {
    workdir: o.cfg.workspaceFolder,
    user: o.cfg.remoteUser ?? o.cfg.containerUser,
    remoteEnv: o.cfg.remoteEnv,
    postStart: o.cfg.postStart,
    image: o.cfg.image,
    network: o.network,
    ...(gpus.kind !== 'none' ? { gpus } : {}),
  };
  const devices = deviceRequests(gpus);
  return {
    name: containerName(o.sessionId),
    Image: o.cfg.image,
    // Only the configuration's containerEnv: nothing from the host environment (API keys stay out).
    Env: Object.entries(o.cfg.containerEnv).map(([k, v]) => `${k}=${v}`),
    User: o.cfg.containerUser,
    WorkingDir: o.cfg.workspaceFolder,
    ...(o.cfg.overrideCommand ? { Entrypoint: ['/bin/sh', '-c', KEEPALIVE], Cmd: [] } : {}),
    Labels: {
      ...o.labels,
      [LABEL_SESSION]: o.sessionId,
      [LABEL_WORKSPACE]: workspaceHash(o.workspace),
      [LABEL_META]: JSON.stringify(meta),
    },
    HostConfig: {
      NetworkMode: o.network,
      Init: true,
      // setuid binaries (sudo, su) cannot raise privileges, and no capability beyond Docker's default set
      // is added: devcontainer.json's privileged / capAdd / securityOpt / runArgs are not applied.
      SecurityOpt: ['no-new-privileges:true'],
      Privileged: false,
      ...(memory ? { Memory: memory, MemorySwap: memory } : {}),
      ...(cpus ? { NanoCpus: Math.round(cpus * 1e9) } : {}),
      ...(o.limits?.pids ? { PidsLimit: o.limits.pids } : {}),
      ...(devices.length ? { DeviceRequests: devices } : {}),
    },
  };
}

function containerName(sessionId: string): string {
  return `klong-${sessionId.replace(/[^a-zA-Z0-9_.-]/g, '-').slice(0, 60)}`;
}

export async function createContainer(docker: Docker, o: CreateOptions): Promise<Docker.Container> {
  let cpus = o.limits?.cpus;
  const plan = gpuPlan(o.cfg, o.gpus);
  // The default of 2 CPUs on a one-CPU engine: the engine refuses it, so use what it has.
  const fitCpus = async <T>(create: () => Promise<T>): Promise<T> => {
    try {
      return await create();
    } catch (err) {
      const msg = String((err as { json?: { message?: string } }).json?.message ?? (err as Error).message);
      if (!cpus || !/range of CPUs/i.test(msg)) throw err;
      const { NCPU } = (await docker.info()) as { NCPU?: number };
      if (!NCPU || NCPU >= cpus) throw err;
      cpus = NCPU;
      return create();
    }
  };
  // A container that was created but could not start is removed: a failed open leaves nothing behind.
  const createAndStart = async (gpus: GpuRequest) => {
    const c = await fitCpus(() => docker.createContainer(containerSpec(o, gpus, cpus)));
    try {
      await c.start();
    } catch (err) {
      await c.remove({ force: true }).catch(() => undefined);
      throw err;
    }
    return c;
  };
  try {
    return await createAndStart(plan.request);
  } catch (err) {
    const msg = String((err as { json?: { message?: string } }).json?.message ?? (err as Error).message);
    if (plan.request.kind !== 'none' && /device driver|gpu|nvidia/i.test(msg)) {
      if (plan.optional) {
        return createAndStart(NO_GPUS);
      }
      const fromSetting = plan.source.startsWith('klong.docker.gpus');
      throw new SandboxError(
        'GPU_UNAVAILABLE',
        `The container asks for GPUs (${describeGpus(plan.request)}, from ${plan.source}) but the Docker engine cannot provide them: ${msg}`,
        fromSetting
          ? 'Install the NVIDIA Container Toolkit on the Docker host (and check the device ids with `nvidia-smi -L`), or set klong.docker.gpus / --gpus to none.'
          : 'Install the NVIDIA Container Toolkit on the Docker host, or set "hostRequirements": { "gpu": "optional" } in devcontainer.json.',
        { cause: err },
      );
    }
    throw err;
  }
}

export interface FoundContainer {
  id: string;
  state: string;
  labels: Record<string, string>;
  meta: ContainerMeta | undefined;
}

export async function findContainers(docker: Docker, sessionId: string): Promise<FoundContainer[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_SESSION}=${sessionId}`] },
  });
  return list.map((c) => {
    let meta: ContainerMeta | undefined;
    try {
      meta = JSON.parse(c.Labels[LABEL_META] ?? '') as ContainerMeta;
    } catch {
      meta = undefined;
    }
    return { id: c.Id, state: c.State, labels: c.Labels, meta };
  });
}

/** Directories the sandbox needs, made as root: the workspace, the shadow git dir, the shell's state dir. */
export async function prepareDirs(
  c: Docker.Container,
  workdir: string,
  user: string | undefined,
): Promise<void> {
  const r = await bashScript(
    c,
    `set -e
mkdir -p "$1" /var/lib/klong "${SHELL_STATE_DIR}"
chmod 1777 "${SHELL_STATE_DIR}"
if [ -n "$2" ] && [ "$2" != root ]; then chown "$2" "$1" /var/lib/klong; fi
command -v git >/dev/null || echo "no-git"`,
    [workdir, user ?? ''],
    { user: 'root' },
  );
  if (r.exitCode === 127 || /bash: .*not found|executable file not found/i.test(r.stderr + r.stdout))
    throw new SandboxError(
      'TOOL_MISSING',
      'The sandbox image has no bash, which KLong needs for the agent’s shell.',
      'Use an image with bash (a Debian/Ubuntu base), or install it in the Dockerfile.',
    );
  if (r.exitCode !== 0) throw new Error(`Preparing the sandbox failed: ${r.stderr.trim()}`);
  if (r.stdout.toString().includes('no-git'))
    throw new SandboxError(
      'TOOL_MISSING',
      'The sandbox image has no git, which KLong needs to track the agent’s changes.',
      'Add git to the image (e.g. `apt-get install -y git` in the Dockerfile, or the devcontainers "git" feature).',
    );
}

function commandArgv(cmd: string | string[]): string[] {
  return typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : cmd;
}

/** Runs lifecycle commands in order (named commands of one entry in parallel), as the remote user. */
export async function runLifecycle(
  c: Docker.Container,
  o: {
    stage: string;
    commands: LifecycleCommand[];
    meta: { workdir: string; user?: string; remoteEnv: Record<string, string> };
    onProgress?: ((line: string) => void) | undefined;
  },
): Promise<void> {
  const { stage, commands, meta, onProgress } = o;
  const env = Object.entries(meta.remoteEnv).map(([k, v]) => `${k}=${v}`);
  for (const entry of commands) {
    const named: [string, string | string[]][] =
      typeof entry === 'string' || Array.isArray(entry) ? [[stage, entry]] : Object.entries(entry);
    await Promise.all(
      named.map(async ([name, cmd]) => {
        onProgress?.(`Running ${stage} (${name}): ${typeof cmd === 'string' ? cmd : cmd.join(' ')}`);
        const r = await runInContainer(c, commandArgv(cmd), {
          user: meta.user,
          env,
          workdir: meta.workdir,
          maxStdout: 256 * 1024,
        });
        const out = `${r.stdout.toString('utf8')}${r.stderr}`.trim();
        if (out) onProgress?.(out.slice(-4000));
        if (r.exitCode !== 0)
          throw new SandboxError(
            'LIFECYCLE_FAILED',
            `The devcontainer ${stage} command "${name}" failed with exit code ${r.exitCode}: ${out.slice(-1500)}`,
            `Fix the ${stage} in devcontainer.json (it runs in ${meta.workdir} as ${meta.user ?? 'the container user'}).`,
          );
      }),
    );
  }
}
