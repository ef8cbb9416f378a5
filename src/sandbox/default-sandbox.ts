/**
 * KLong's default sandbox when a workspace has no devcontainer.json: the offline image
 * (klong/python:bookworm, from scripts/build-default-image.sh) when the engine has it, otherwise the
 * definition shipped in the extension (resources/default-sandbox: a Dockerfile on a public Python image
 * with the scientific stack), built once through the devcontainer CLI and cached by a hash of its inputs.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { parse } from 'jsonc-parser';
import { runDevcontainerCli } from './devcontainer';
import { dockerError, hasImage } from './docker-client';
import { SandboxError } from './errors';

export const DEFAULT_BASE_IMAGE = 'python:3.12-slim-bookworm';
export const DEFAULT_PIP_PACKAGES = 'numpy scipy pandas matplotlib scikit-learn';
/** Label on images built from the shipped definition (value: the hash of the inputs). */
export const LABEL_DEFAULT_SANDBOX = 'klong.default-sandbox';
const IMAGE_REPO = 'klong/sandbox-default';

/** How the shipped definition is built. Every field has the default users get. */
export interface DefaultBuildOptions {
  /** The `FROM` image (a mirror, or a registry on 127.0.0.1 in tests). */
  baseImage?: string;
  /** Debian packages to make sure of (only the missing ones are installed). */
  aptPackages?: string;
  /** pip packages installed at build time; "" skips pip. */
  pipPackages?: string;
  /** PyTorch for the CPU. */
  torch?: boolean;
  /** Network of the build's RUN steps (tests: "none"); default the builder's. */
  buildNetwork?: string;
  /** The definition folder (default: the one shipped with KLong). */
  definitionDir?: string;
}

export interface DefaultBuildContext {
  docker: Docker;
  host: string;
  cliPath?: string;
  onProgress?: (message: string) => void;
  secrets?: readonly (string | undefined)[];
  signal?: AbortSignal;
}

/** The folder of the shipped definition: next to the bundle (dist/ → ../resources) or in the source tree. */
export function defaultDefinitionDir(): string {
  const candidates = [
    join(__dirname, '..', 'resources', 'default-sandbox'),
    join(__dirname, '..', '..', 'resources', 'default-sandbox'),
  ];
  for (const c of candidates) if (existsSync(join(c, 'Dockerfile'))) return c;
  throw new SandboxError(
    'CONFIG_INVALID',
    'The default sandbox definition that KLong ships (resources/default-sandbox) is missing.',
    'Reinstall the KLong extension, or add a .devcontainer/devcontainer.json to the workspace.',
  );
}

/** The registry an image reference is pulled from (Docker's rules: a first part with "." or ":" or "localhost"). */
export function imageRegistry(ref: string): string {
  const slash = ref.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = ref.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** The shipped devcontainer.json with the build arguments and options of `o` put in. */
function definitionConfig(
  text: string,
  o: DefaultBuildOptions,
): { config: Json; args: Record<string, string> } {
  const config = obj(parse(text, [], { allowTrailingComma: true }));
  const build = obj(config.build);
  const args: Record<string, string> = {
    BASE_IMAGE: DEFAULT_BASE_IMAGE,
    PIP_PACKAGES: DEFAULT_PIP_PACKAGES,
    ...(obj(build.args) as Record<string, string>),
    ...(o.baseImage !== undefined ? { BASE_IMAGE: o.baseImage } : {}),
    ...(o.aptPackages !== undefined ? { APT_PACKAGES: o.aptPackages } : {}),
    ...(o.pipPackages !== undefined ? { PIP_PACKAGES: o.pipPackages } : {}),
    ...(o.torch !== undefined ? { TORCH: o.torch ? 'cpu' : 'none' } : {}),
  };
  const options = o.buildNetwork ? [`--network=${o.buildNetwork}`] : [];
  return { config: { ...config, build: { ...build, args, options } }, args };
}

interface Definition {
  dir: string;
  image: string;
  config: Json;
  args: Record<string, string>;
}

async function loadDefinition(o: DefaultBuildOptions): Promise<Definition> {
  const dir = o.definitionDir ?? defaultDefinitionDir();
  const dockerfile = await readFile(join(dir, 'Dockerfile'));
  const { config, args } = definitionConfig(await readFile(join(dir, 'devcontainer.json'), 'utf8'), o);
  // A change to the Dockerfile, an argument or an option gives another image (and a new build).
  const hash = createHash('sha256')
    .update(dockerfile)
    .update(JSON.stringify(config))
    .digest('hex')
    .slice(0, 12);
  // The label marks KLong's builds (the CLI's --label is applied by BuildKit only; options reach any builder).
  const build = obj(config.build);
  const options = [...(build.options as string[]), `--label=${LABEL_DEFAULT_SANDBOX}=${hash}`];
  return { dir, image: `${IMAGE_REPO}:${hash}`, config: { ...config, build: { ...build, options } }, args };
}

/** The image name of the shipped definition built with these options. */
export async function defaultSandboxImage(o: DefaultBuildOptions = {}): Promise<string> {
  return (await loadDefinition(o)).image;
}

function cancelled(what: string): SandboxError {
  return new SandboxError(
    'BUILD_CANCELLED',
    `${what} was cancelled.`,
    'Start again to continue (Docker keeps the finished layers), or build the offline image with scripts/build-default-image.sh.',
  );
}

const offlineHint =
  'On a host without internet access, build the offline image klong/python:bookworm once with scripts/build-default-image.sh (from KLong’s source repository, on a Debian host), or add a .devcontainer/devcontainer.json whose image is on the engine.';

/** Pulls the base image (the builder would, but here a failure names the image and its registry). */
async function pullBase(ctx: DefaultBuildContext, ref: string): Promise<void> {
  const { docker, host, signal } = ctx;
  const registry = imageRegistry(ref);
  const fail = (why: string, cause?: unknown) =>
    new SandboxError(
      'IMAGE_PULL_FAILED',
      `Pulling the base image ${ref} of KLong's default sandbox from the registry ${registry} failed: ${why}`,
      `Check that Docker on ${host} can reach ${registry} (network, proxy, \`docker pull ${ref}\`). ${offlineHint}`,
      { cause },
    );
  ctx.onProgress?.(`Pulling the base image ${ref} from ${registry}`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await docker.pull(ref, { abortSignal: signal })) as NodeJS.ReadableStream;
  } catch (err) {
    if (signal?.aborted) throw cancelled(`Pulling ${ref}`);
    const e = err as { statusCode?: number; json?: { message?: string }; message?: string };
    if (e.statusCode === undefined) throw dockerError(err, host);
    throw fail(e.json?.message ?? e.message ?? String(err), err);
  }
  // Layer sizes as the engine reports them; progress is said when another tenth is done.
  const layers = new Map<string, { current: number; total: number }>();
  let lastTenth = -1;
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      (stream as unknown as { destroy?: () => void }).destroy?.();
      reject(cancelled(`Pulling ${ref}`));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    docker.modem.followProgress(
      stream,
      (err: Error | null, output: { error?: string }[]) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return;
        const streamed = output?.find((o) => o.error)?.error;
        if (err || streamed) reject(fail(streamed ?? err?.message ?? 'unknown error', err));
        else resolve();
      },
      (ev: { id?: string; status?: string; progressDetail?: { current?: number; total?: number } }) => {
        if (!ev.id || !ev.progressDetail?.total) return;
        layers.set(ev.id, { current: ev.progressDetail.current ?? 0, total: ev.progressDetail.total });
        let cur = 0;
        let tot = 0;
        for (const l of layers.values()) {
          cur += l.current;
          tot += l.total;
        }
        const tenth = Math.floor((cur / tot) * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          ctx.onProgress?.(`Pulling ${ref}: ${Math.round(cur / 1e6)} of ${Math.round(tot / 1e6)} MB`);
        }
      },
    );
  });
}

/** The end of a failed build's log, without the CLI's stack trace and the long docker command line. */
export function buildLogTail(stderr: string, lines = 10): string {
  return (
    stderr
      .split('\n')
      .map((l) => l.replace(/^\[[^\]]*\]\s*/, '').trimEnd())
      // apt writes "E" / "W" and ":" in writes of their own, which the CLI shows as lines of their own.
      .filter((l) => !/^\s*[EW:]?\s*$/.test(l) && !/^\s*at /.test(l) && !/^Error: Command failed: /.test(l))
      .slice(-lines)
      .join('\n')
  );
}

/** Lines of the build log worth showing as progress (steps, pip's downloads, the end). */
const PROGRESS_LINE = /^(Step \d+\/\d+|#\d+ \[|Collecting |Downloading |Installing collected|Successfully)/;

/**
 * The image of the shipped definition, built when the engine does not have it yet. Returns its name.
 * Cancelling through `signal` stops the pull or kills the build (the CLI and the docker client it runs).
 */
export async function ensureDefaultSandboxImage(
  ctx: DefaultBuildContext,
  o: DefaultBuildOptions = {},
): Promise<string> {
  const { docker, host, signal } = ctx;
  const def = await loadDefinition(o);
  const { image, args } = def;
  const have = (ref: string) => hasImage(docker, host, ref);
  if (await have(image)) return image;
  if (signal?.aborted) throw cancelled("Building KLong's default sandbox image");
  const base = args.BASE_IMAGE ?? DEFAULT_BASE_IMAGE;
  const what = [args.PIP_PACKAGES, args.TORCH === 'cpu' ? 'torch (CPU)' : ''].filter(Boolean).join(' ');
  ctx.onProgress?.(
    `No devcontainer.json and no local image klong/python:bookworm: building KLong's default sandbox ${image} (${base}${what ? ` + ${what}` : ''}); the first build takes a few minutes, later sessions reuse it.`,
  );
  if (!(await have(base))) await pullBase(ctx, base);

  // A copy: the extension's folder may be read-only, and the arguments go into its devcontainer.json.
  const work = await mkdtemp(join(tmpdir(), 'klong-default-sandbox-'));
  try {
    await cp(def.dir, work, { recursive: true });
    await writeFile(join(work, 'devcontainer.json'), JSON.stringify(def.config, null, 2));
    const r = await runDevcontainerCli(
      [
        'build',
        '--workspace-folder',
        work,
        '--config',
        join(work, 'devcontainer.json'),
        '--image-name',
        image,
        '--log-format',
        'text',
      ],
      {
        cliPath: ctx.cliPath,
        dockerHost: host,
        secrets: ctx.secrets,
        signal,
        onProgress: (line) => {
          const l = line.replace(/^\[[^\]]*\]\s*/, '').trim();
          if (PROGRESS_LINE.test(l)) ctx.onProgress?.(`Building the default sandbox: ${l.slice(0, 200)}`);
        },
      },
    );
    if (signal?.aborted) throw cancelled("Building KLong's default sandbox image");
    if (r.code !== 0 || !(await have(image))) {
      const log = buildLogTail(r.stderr);
      const network = /pip|Could not|Temporary failure|resolve|Connection|apt-get|Failed to fetch/i.test(log);
      throw new SandboxError(
        'IMAGE_BUILD_FAILED',
        `Building KLong's default sandbox image ${image} (from ${base}) failed:\n${log || 'no output'}`,
        network
          ? `The build installs Debian and pip packages from the internet: check that Docker's builds can reach deb.debian.org and pypi.org (network, proxy). ${offlineHint}`
          : `Try again; if it fails the same way, add a .devcontainer/devcontainer.json to the workspace. ${offlineHint}`,
      );
    }
    ctx.onProgress?.(`Built the default sandbox image ${image}`);
    return image;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
