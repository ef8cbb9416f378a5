/**
 * The environment of every child process KLong starts (the devcontainer CLI, and the `docker` it runs):
 * built from an allow-list, never the host's whole environment. A devcontainer.json can read the host
 * environment through `${localEnv:NAME}`, and it may have been written by the agent or come with a cloned
 * repository, so a model key or any other secret in the host environment must not be there to read.
 */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export type { ChildProcess };

/** Variables passed by exact name (compared in upper case: Windows names are case-insensitive). */
const ALLOWED_NAMES = new Set([
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'TZ',
  'TERM',
  'TMPDIR',
  'TMP',
  'TEMP',
  // docker finds a rootless engine's socket and its contexts through these
  'XDG_RUNTIME_DIR',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  // proxies and CA bundles: pulling images and features behind a corporate proxy
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'ALL_PROXY',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  // Windows: processes fail to start or find their profile without these
  'SYSTEMROOT',
  'SYSTEMDRIVE',
  'WINDIR',
  'COMSPEC',
  'PATHEXT',
  'USERPROFILE',
  'USERNAME',
  'HOMEDRIVE',
  'HOMEPATH',
  'APPDATA',
  'LOCALAPPDATA',
  'PROGRAMDATA',
  'PROGRAMFILES',
  'PROGRAMFILES(X86)',
  'PROGRAMW6432',
  'COMMONPROGRAMFILES',
  'NUMBER_OF_PROCESSORS',
  'PROCESSOR_ARCHITECTURE',
]);

/** Variables passed by prefix: locale, the docker CLI's own settings (DOCKER_HOST, DOCKER_CONFIG, ...), BuildKit. */
const ALLOWED_PREFIXES = ['LC_', 'DOCKER_', 'BUILDKIT_', 'BUILDX_'];

/**
 * Names that look like they hold a secret. Checked on every allowed name too (DOCKER_PASSWORD, a proxy
 * variable is fine, DOCKER_AUTH_CONFIG is not); SSH_AUTH_SOCK is a socket path and is let through
 * separately when the engine is reached over ssh.
 */
const SECRET_NAME =
  /KEY|TOKEN|SECRET|PASSW|PASSPHRASE|(^|_)PASS($|_)|_PWD$|CREDENTIAL|(^|_)CREDS?($|_)|AUTH|PRIVATE|COOKIE|SESSION|SIGNATURE|(^|_)SALT($|_)|(^|_)DSN($|_)/;

/** Whether a variable's name looks like it holds a secret (API keys, tokens, passwords, credentials…). */
export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name.toUpperCase());
}

function allowedName(name: string, sshHost: boolean): boolean {
  const n = name.toUpperCase();
  if (n === 'SSH_AUTH_SOCK') return sshHost;
  if (looksSecret(n)) return false;
  return ALLOWED_NAMES.has(n) || ALLOWED_PREFIXES.some((p) => n.startsWith(p));
}

export interface ChildEnvOptions {
  /** The environment to filter (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Secret values (the model key): a variable whose value contains one is never passed, whatever its name. */
  secrets?: readonly (string | undefined)[];
  /** The Docker engine address: SSH_AUTH_SOCK is passed only for ssh:// engines, which need the agent. */
  dockerHost?: string;
  /** Set after filtering (ELECTRON_RUN_AS_NODE, DOCKER_HOST, ...). Values are checked against `secrets` too. */
  set?: Record<string, string>;
}

export interface ChildEnv {
  env: Record<string, string>;
  /** Names in the host environment that were left out. */
  withheld: string[];
}

/** Values shorter than this are not treated as secrets to look for (they would match by accident). */
const MIN_SECRET_LENGTH = 8;

/** The allow-listed environment for a child process, and what was withheld from it. */
export function childEnv(o: ChildEnvOptions = {}): ChildEnv {
  const source = o.env ?? process.env;
  const secrets = (o.secrets ?? []).filter((s): s is string => !!s && s.length >= MIN_SECRET_LENGTH);
  const holdsSecret = (v: string) => secrets.some((s) => v.includes(s));
  const sshHost = /^ssh:\/\//i.test(o.dockerHost ?? source.DOCKER_HOST ?? '');
  const env: Record<string, string> = {};
  const withheld: string[] = [];
  for (const [name, value] of Object.entries(source)) {
    if (value === undefined) continue;
    if (allowedName(name, sshHost) && !holdsSecret(value)) env[name] = value;
    else withheld.push(name);
  }
  for (const [name, value] of Object.entries(o.set ?? {})) {
    if (holdsSecret(value)) throw new Error(`Refusing to pass a secret to a child process in ${name}.`);
    env[name] = value;
  }
  return { env, withheld: withheld.sort() };
}

/** `scheme://user:password@host`: a proxy variable carrying credentials. */
const URL_PASSWORD = /\/\/[^/@\s:]*:[^/@\s]+@/;

/** `${localEnv:NAME}` and its alias `${env:NAME}` (with an optional default) in a devcontainer.json text. */
export function localEnvNames(text: string): string[] {
  const names = new Set<string>();
  for (const m of text.matchAll(/\$\{(?:localEnv|env):([^}:]+)(?::[^}]*)?\}/g)) names.add(m[1]!.trim());
  return [...names];
}

/**
 * What `${localEnv:…}` in a devcontainer.json cannot read: the referenced names that the host has but
 * the child environment leaves out. They are set to the empty string in `env`, so that they resolve to
 * empty rather than to a default given in the file, and each gets a warning that names it.
 */
export function withholdLocalEnv(
  configText: string,
  child: ChildEnv,
  source: NodeJS.ProcessEnv = process.env,
): string[] {
  const upper = new Set(Object.keys(source).map((k) => k.toUpperCase()));
  const warnings: string[] = [];
  for (const name of localEnvNames(configText)) {
    if (name in child.env) {
      // A proxy address with a password is passed for pulls, but not handed to the container.
      if (!URL_PASSWORD.test(child.env[name]!)) continue;
      child.env[name] = '';
      warnings.push(
        `devcontainer.json reads \${localEnv:${name}}, whose value holds a password; it resolves to empty (the devcontainer build goes without it).`,
      );
      continue;
    }
    const secret = looksSecret(name);
    // Unset on the host and not a secret's name: the file's default applies, as anywhere else.
    if (!secret && !upper.has(name.toUpperCase())) continue;
    child.env[name] = '';
    warnings.push(
      `devcontainer.json reads \${localEnv:${name}}, which KLong does not pass on (${
        secret
          ? 'the name looks like a secret'
          : 'only PATH, HOME, locale, proxy and DOCKER_* variables are passed, and never one holding the model key'
      }); it resolves to empty.`,
    );
  }
  return warnings;
}

/** `spawn` with the allow-listed environment: the one way KLong starts a child process (a unit test checks). */
export function spawnChild(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'env'> & { env?: ChildEnv | ChildEnvOptions } = {},
): ChildProcess {
  const { env, ...rest } = options;
  const built = env && 'withheld' in env ? env : childEnv(env);
  return spawn(command, args, { ...rest, env: built.env });
}

/**
 * Starts KLong's own engine (`klong reproduce` in a process of its own). It is the user's program with
 * the user's environment, including the model key it needs; the children it starts in turn get
 * `childEnv`. Detached: its own process group and session, so closing the terminal does not stop it.
 */
export function spawnEngine(
  args: string[],
  output: number,
  o: {
    /** Added to this process's environment (VS Code: the model key from its secret storage). */
    env?: Record<string, string>;
    /** This process's node flags (default); VS Code's extension host passes none of its own. */
    execArgv?: string[];
  } = {},
): ChildProcess {
  return spawn(process.execPath, [...(o.execArgv ?? process.execArgv), ...args], {
    detached: true,
    stdio: ['ignore', output, output],
    // Inside Electron (desktop VS Code) its binary runs scripts as node only when told so.
    env: { ...process.env, ...(process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {}), ...o.env },
  });
}
