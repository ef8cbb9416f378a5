/**
 * devcontainer.json through the spec's reference implementation (@devcontainers/cli, run as a child process):
 * `read-configuration` for JSONC, variable substitution, features and merged lifecycle commands; `build` for
 * Dockerfile / features configurations. The CLI accepts malformed JSON silently, so syntax is checked here first.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { type ParseError, parse, printParseErrorCode } from 'jsonc-parser';
import { type ChildEnv, childEnv, spawnChild, withholdLocalEnv } from './child-env';
import { SandboxError } from './errors';
import { type GpuRequest, gpusFromRunArgs, otherRunArgs } from './gpus';

export const DEFAULT_IMAGE = 'klong/python:bookworm';
export const DEFAULT_WORKDIR = '/workspace';

/** A lifecycle command as the spec allows it: shell string, argv, or named parallel commands. */
export type LifecycleCommand = string | string[] | Record<string, string | string[]>;

export interface SandboxConfig {
  /** Host path of the devcontainer.json, or undefined for the default image. */
  configFile?: string;
  /** Image to run; for build configurations the name `buildImage` gives it. */
  image: string;
  /** The configuration has a Dockerfile or features: run `devcontainer build` first. */
  needsBuild: boolean;
  workspaceFolder: string;
  remoteUser?: string;
  containerUser?: string;
  containerEnv: Record<string, string>;
  remoteEnv: Record<string, string>;
  onCreate: LifecycleCommand[];
  updateContent: LifecycleCommand[];
  postCreate: LifecycleCommand[];
  postStart: LifecycleCommand[];
  gpu: boolean | 'optional';
  /** GPUs that runArgs asks for with `--gpus` (the one run argument KLong applies). */
  gpuRequest?: GpuRequest;
  overrideCommand: boolean;
}

/** Where the devcontainer CLI script is: shipped next to the bundle (dist/devcontainer-cli), or in node_modules. */
export function findDevcontainerCli(explicit?: string): string {
  const candidates = [
    explicit,
    process.env.KLONG_DEVCONTAINER_CLI,
    join(__dirname, 'devcontainer-cli', 'devcontainer.js'),
    join(__dirname, '..', '..', 'dist', 'devcontainer-cli', 'devcontainer.js'),
    join(__dirname, '..', '..', 'node_modules', '@devcontainers', 'cli', 'devcontainer.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  throw new SandboxError(
    'CONFIG_INVALID',
    'The devcontainer CLI that KLong ships is missing.',
    'Reinstall the KLong extension (or run `npm run build` in a development checkout).',
  );
}

/** `.devcontainer/devcontainer.json`, `.devcontainer.json`, then the first `.devcontainer/<name>/devcontainer.json`. */
export function findConfigFile(workspace: string): string | undefined {
  for (const p of [
    join(workspace, '.devcontainer', 'devcontainer.json'),
    join(workspace, '.devcontainer.json'),
  ])
    if (existsSync(p)) return p;
  const dir = join(workspace, '.devcontainer');
  if (!existsSync(dir)) return undefined;
  for (const sub of readdirSync(dir).sort()) {
    const p = join(dir, sub, 'devcontainer.json');
    if (existsSync(p)) return p;
  }
  return undefined;
}

function lineCol(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** JSONC syntax check with file:line:column, since the CLI parses broken files without a word. */
export async function checkConfigSyntax(file: string, workspace: string): Promise<void> {
  const text = await readFile(file, 'utf8');
  const errors: ParseError[] = [];
  const value = parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  const shown = relative(workspace, file) || file;
  if (errors.length > 0) {
    const list = errors.slice(0, 3).map((e) => {
      const { line, column } = lineCol(text, e.offset);
      return `${shown}:${line}:${column}: ${printParseErrorCode(e.error)}`;
    });
    throw new SandboxError(
      'CONFIG_SYNTAX',
      `devcontainer.json has a syntax error: ${list.join('; ')}`,
      `Fix ${shown} at the line and column shown (JSON with comments; trailing commas are allowed).`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new SandboxError(
      'CONFIG_SYNTAX',
      `${shown}:1:1: devcontainer.json must be a JSON object.`,
      `Make ${shown} an object such as { "image": "..." }.`,
    );
}

export interface CliOptions {
  cliPath?: string;
  /** DOCKER_HOST for the CLI and the docker command it runs. */
  dockerHost: string;
  onProgress?: (line: string) => void;
  /** `${localEnv:…}` in devcontainer.json of a variable that is not passed on (see child-env.ts). */
  onWarning?: (message: string) => void;
  /** Values that must not reach the CLI's environment (the model key), whatever the variable's name. */
  secrets?: readonly (string | undefined)[];
  /** Kills the CLI and what it started (the docker client of a build, so the engine stops the build). */
  signal?: AbortSignal;
}

/** The CLI's allow-listed environment, with the withheld `${localEnv:…}` names of the config blanked. */
function cliEnv(opts: CliOptions, configText?: string): { env: ChildEnv; warnings: string[] } {
  const child = childEnv({
    secrets: opts.secrets,
    dockerHost: opts.dockerHost,
    set: { ELECTRON_RUN_AS_NODE: '1', DOCKER_HOST: opts.dockerHost },
  });
  const warnings = configText === undefined ? [] : withholdLocalEnv(configText, child);
  return { env: child, warnings };
}

/** Runs the devcontainer CLI under Node (ELECTRON_RUN_AS_NODE: in desktop VS Code execPath is Electron). */
export function runDevcontainerCli(
  args: string[],
  opts: CliOptions,
  env: ChildEnv = cliEnv(opts).env,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const cli = findDevcontainerCli(opts.cliPath);
  const { signal } = opts;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return resolve({ code: -1, stdout: '', stderr: 'cancelled' });
    // A process group of its own (POSIX): cancelling kills the CLI and the docker client it runs,
    // whose closed connection makes the engine stop the build.
    const group = process.platform !== 'win32';
    const child = spawnChild(process.execPath, [cli, ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: group,
      windowsHide: true,
    });
    const kill = () => {
      try {
        if (group && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    signal?.addEventListener('abort', kill, { once: true });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    // Whole lines only: a chunk may end in the middle of one.
    let partial = '';
    const say = (line: string) => {
      if (opts.onProgress && line.trim()) opts.onProgress(line);
    };
    child.stderr?.on('data', (d: Buffer) => {
      const s = d.toString('utf8');
      stderr = (stderr + s).slice(-64 * 1024);
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) say(line);
    });
    child.stderr?.on('end', () => say(partial));
    child.on('error', (err) => {
      signal?.removeEventListener('abort', kill);
      reject(err);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', kill);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

function lastJson(stdout: string): Record<string, unknown> | undefined {
  const lines = stdout.trim().split('\n').reverse();
  for (const l of lines) {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      // not JSON
    }
  }
  return undefined;
}

function cliFailure(stdout: string, stderr: string): string {
  const j = lastJson(stdout);
  const msg = [j?.message, j?.description].filter((x) => typeof x === 'string' && x).join(': ');
  if (msg) return msg;
  const tail = stderr
    .split('\n')
    .filter((l) => l.trim())
    .slice(-8)
    .join('\n');
  return tail || 'no output';
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const strMap = (v: unknown): Record<string, string> =>
  Object.fromEntries(Object.entries(obj(v)).filter((e): e is [string, string] => typeof e[1] === 'string'));
const cmds = (v: unknown): LifecycleCommand[] => (Array.isArray(v) ? (v as LifecycleCommand[]) : []);

/** Stable image name for a workspace's build configuration. */
export function buildImageName(workspace: string): string {
  return `klong-devcontainer/${createHash('sha256').update(workspace).digest('hex').slice(0, 12)}:latest`;
}

/** A plain image with no devcontainer.json: no build, no lifecycle commands. */
export function imageConfig(
  image: string,
  workspaceFolder = DEFAULT_WORKDIR,
  remoteUser?: string,
): SandboxConfig {
  return {
    image,
    needsBuild: false,
    workspaceFolder,
    remoteUser,
    containerEnv: {},
    remoteEnv: {},
    onCreate: [],
    updateContent: [],
    postCreate: [],
    postStart: [],
    gpu: false,
    overrideCommand: true,
  };
}

/** devcontainer.json properties that would widen what the container (or the file's author) can do on the host. */
const IGNORED_PROPERTIES = [
  'privileged',
  'capAdd',
  'securityOpt',
  'runArgs',
  'mounts',
  'workspaceMount',
  'initializeCommand',
];

/** The sandbox configuration of a workspace (default image when it has no devcontainer.json). */
export async function resolveConfig(
  workspace: string,
  opts: CliOptions & { defaultImage?: string },
): Promise<SandboxConfig> {
  const configFile = findConfigFile(workspace);
  if (!configFile) {
    return imageConfig(opts.defaultImage ?? DEFAULT_IMAGE);
  }
  await checkConfigSyntax(configFile, workspace);
  const text = await readFile(configFile, 'utf8');
  const gpuRequest = checkSupported(obj(parse(text, [], { allowTrailingComma: true })), {
    workspace,
    configFile,
    opts,
  });
  const out = await readConfiguration({ workspace, configFile, opts, text });
  return {
    configFile,
    ...fromConfiguration(out, workspace),
    ...(gpuRequest && gpuRequest.kind !== 'none' ? { gpuRequest } : {}),
  };
}

/**
 * Refuses what KLong cannot run (Docker Compose) and warns about what it leaves out (privileges,
 * mounts, run arguments); returns runArgs' --gpus, which it applies.
 */
function checkSupported(
  raw: Record<string, unknown>,
  c: { workspace: string; configFile: string; opts: CliOptions },
): ReturnType<typeof gpusFromRunArgs> {
  const name = relative(c.workspace, c.configFile);
  if (raw.dockerComposeFile !== undefined)
    throw new SandboxError(
      'CONFIG_UNSUPPORTED',
      `${name} uses Docker Compose (dockerComposeFile), which KLong does not run.`,
      'Point the configuration at an "image" or a "build.dockerfile" instead (e.g. a second file in .devcontainer/<name>/).',
    );
  // runArgs' --gpus is applied (as a device request); any other run argument is not.
  const ignored = IGNORED_PROPERTIES.filter(
    (k) => raw[k] !== undefined && (k !== 'runArgs' || otherRunArgs(raw.runArgs).length > 0),
  );
  const gpuRequest = gpusFromRunArgs(raw.runArgs, `runArgs in ${name}`);
  if (ignored.length)
    (c.opts.onWarning ?? c.opts.onProgress)?.(
      `${name} sets ${ignored.join(', ')}, which KLong does not apply: the agent's container gets no extra privileges, capabilities, mounts or run arguments (except --gpus), and nothing runs on the host.`,
    );
  return gpuRequest;
}

/** `devcontainer read-configuration` with features and image metadata merged in. */
async function readConfiguration(c: {
  workspace: string;
  configFile: string;
  opts: CliOptions;
  text: string;
}): Promise<Record<string, unknown>> {
  const { workspace, configFile, opts } = c;
  const { env, warnings } = cliEnv(opts, c.text);
  for (const w of warnings) (opts.onWarning ?? opts.onProgress)?.(w);
  const r = await runDevcontainerCli(
    [
      'read-configuration',
      '--workspace-folder',
      workspace,
      '--config',
      configFile,
      '--include-merged-configuration',
      '--log-format',
      'text',
    ],
    opts,
    env,
  );
  const out = r.code === 0 ? lastJson(r.stdout) : undefined;
  if (out) return out;
  const why = cliFailure(r.stdout, r.stderr);
  const missingImage = /pull|manifest|not found|ENOTFOUND|registry/i.test(why);
  throw new SandboxError(
    missingImage ? 'IMAGE_NOT_FOUND' : 'CONFIG_INVALID',
    `Reading ${relative(workspace, configFile)} failed: ${why}`,
    missingImage
      ? 'The image in devcontainer.json is not available locally and could not be pulled: build or pull it, or check the network.'
      : 'Check the devcontainer.json against https://containers.dev/implementors/json_reference/.',
  );
}

/** The CLI's answer as KLong's config (everything but the file and runArgs' GPUs). */
function fromConfiguration(
  out: Record<string, unknown>,
  workspace: string,
): Omit<SandboxConfig, 'configFile' | 'gpuRequest'> {
  const merged = obj(out.mergedConfiguration);
  const config = obj(out.configuration);
  const build = obj(config.build);
  const needsBuild =
    typeof build.dockerfile === 'string' ||
    typeof config.dockerFile === 'string' ||
    Object.keys(obj(config.features)).length > 0;
  const image = typeof config.image === 'string' ? config.image : buildImageName(workspace);
  const gpu = obj(merged.hostRequirements).gpu ?? obj(config.hostRequirements).gpu;
  return {
    image: needsBuild ? buildImageName(workspace) : image,
    needsBuild,
    workspaceFolder:
      typeof obj(out.workspace).workspaceFolder === 'string'
        ? (obj(out.workspace).workspaceFolder as string)
        : DEFAULT_WORKDIR,
    remoteUser: typeof merged.remoteUser === 'string' ? merged.remoteUser : undefined,
    containerUser: typeof merged.containerUser === 'string' ? merged.containerUser : undefined,
    containerEnv: strMap(merged.containerEnv),
    remoteEnv: strMap(merged.remoteEnv),
    onCreate: cmds(merged.onCreateCommands),
    updateContent: cmds(merged.updateContentCommands),
    postCreate: cmds(merged.postCreateCommands),
    postStart: cmds(merged.postStartCommands),
    gpu:
      gpu === true || (typeof gpu === 'object' && gpu !== null)
        ? true
        : gpu === 'optional'
          ? 'optional'
          : false,
    overrideCommand: merged.overrideCommand !== false,
  };
}

/** Builds the image of a Dockerfile / features configuration with `devcontainer build`. */
export async function buildConfigImage(
  workspace: string,
  cfg: SandboxConfig,
  opts: CliOptions,
): Promise<void> {
  if (!cfg.needsBuild || !cfg.configFile) return;
  // Warned about when the configuration was read; here the same names only need blanking.
  const { env } = cliEnv(opts, await readFile(cfg.configFile, 'utf8'));
  const r = await runDevcontainerCli(
    [
      'build',
      '--workspace-folder',
      workspace,
      '--config',
      cfg.configFile,
      '--image-name',
      cfg.image,
      '--log-format',
      'text',
    ],
    opts,
    env,
  );
  if (opts.signal?.aborted)
    throw new SandboxError(
      'BUILD_CANCELLED',
      `Building the devcontainer image from ${relative(workspace, cfg.configFile)} was cancelled.`,
      'Start again to continue (Docker keeps the finished layers).',
    );
  const res = lastJson(r.stdout);
  if (r.code !== 0 || res?.outcome !== 'success') {
    throw new SandboxError(
      'IMAGE_BUILD_FAILED',
      `Building the devcontainer image from ${relative(workspace, cfg.configFile)} failed: ${cliFailure(r.stdout, r.stderr)}`,
      `Fix the Dockerfile or features in ${relative(workspace, dirname(cfg.configFile))} (try \`devcontainer build --workspace-folder .\` in a terminal to see the full log).`,
    );
  }
}
