/** A dockerode client for DOCKER_HOST-style addresses (unix, tcp, ssh), and the Docker preflight check. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import Docker from 'dockerode';
import { classifyDockerError, SandboxError } from './errors';

export interface DockerConnection {
  docker: Docker;
  /** The engine address in DOCKER_HOST syntax (for messages and for child processes such as the docker CLI). */
  host: string;
}

/** The engine address to use: explicit setting, then DOCKER_HOST, then the local default socket. */
export function resolveDockerHost(dockerHost?: string): string {
  const h = (dockerHost ?? '').trim() || (process.env.DOCKER_HOST ?? '').trim();
  if (h) return h.includes('://') ? h : `tcp://${h}`;
  if (process.platform === 'win32') return 'npipe:////./pipe/docker_engine';
  const userSock = join(homedir(), '.docker', 'run', 'docker.sock');
  return `unix://${existsSync(userSock) ? userSock : '/var/run/docker.sock'}`;
}

/** docker-modem options for a DOCKER_HOST address. Every key is set so that DOCKER_HOST in the env cannot leak in. */
export function modemOptions(host: string): Docker.DockerOptions {
  if (host.startsWith('unix://') || host.startsWith('npipe://')) {
    const socketPath = host.startsWith('unix://')
      ? host.slice('unix://'.length)
      : host.slice('npipe://'.length);
    return { socketPath, host: undefined, port: undefined, protocol: undefined };
  }
  let url: URL;
  try {
    url = new URL(host);
  } catch (err) {
    throw new SandboxError(
      'DOCKER_HOST_INVALID',
      `Not a Docker engine address: ${host}`,
      'Use unix:///path/docker.sock, tcp://host:2375 or ssh://user@host (klong.docker.host / DOCKER_HOST).',
      { cause: err },
    );
  }
  if (url.protocol === 'ssh:') {
    return {
      protocol: 'ssh',
      host: url.hostname,
      port: url.port || 22,
      username: url.username || undefined,
      socketPath: undefined,
      sshOptions: { agent: process.env.SSH_AUTH_SOCK },
    } as Docker.DockerOptions;
  }
  if (url.protocol === 'tcp:' || url.protocol === 'http:' || url.protocol === 'https:') {
    const tls = url.protocol === 'https:' || process.env.DOCKER_TLS_VERIFY === '1' || url.port === '2376';
    const certDir = process.env.DOCKER_CERT_PATH;
    const certs =
      tls && certDir
        ? {
            ca: readFileSync(join(certDir, 'ca.pem')),
            cert: readFileSync(join(certDir, 'cert.pem')),
            key: readFileSync(join(certDir, 'key.pem')),
          }
        : {};
    return {
      protocol: tls ? 'https' : 'http',
      host: url.hostname,
      port: url.port || (tls ? 2376 : 2375),
      socketPath: undefined,
      ...certs,
    };
  }
  throw new SandboxError(
    'DOCKER_HOST_INVALID',
    `Unsupported Docker engine address: ${host}`,
    'Use unix://, tcp:// or ssh:// (klong.docker.host / DOCKER_HOST).',
  );
}

export function connectDocker(dockerHost?: string): DockerConnection {
  const host = resolveDockerHost(dockerHost);
  return { docker: new Docker(modemOptions(host)), host };
}

/** Whether a `docker` executable is on PATH (to tell "not installed" from "not running"). */
export function dockerCliOnPath(): boolean {
  const names = process.platform === 'win32' ? ['docker.exe'] : ['docker'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && names.some((n) => existsSync(join(dir, n)))) return true;
  }
  return false;
}

/** Wraps any engine error into the matching SandboxError. */
export function dockerError(err: unknown, host: string): SandboxError {
  return classifyDockerError(err, host, dockerCliOnPath());
}

/** An engine call whose failure becomes a SandboxError that names the engine. */
export async function engineCall<T>(host: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw dockerError(err, host);
  }
}

/** Whether the engine has this image (a 404 is "no"; any other failure is the engine's error). */
export async function hasImage(docker: Docker, host: string, image: string): Promise<boolean> {
  try {
    await docker.getImage(image).inspect();
    return true;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return false;
    throw dockerError(err, host);
  }
}

export interface DockerInfo {
  host: string;
  serverVersion: string;
  apiVersion: string;
  os: string;
  /** The engine can hand GPUs to containers (an nvidia runtime is registered). */
  gpu: boolean;
}

/** Preflight: is the engine reachable and usable? Throws a SandboxError that says what to do. */
export async function checkDocker(dockerHost?: string): Promise<DockerInfo> {
  const { docker, host } = connectDocker(dockerHost);
  try {
    const [version, info] = await Promise.all([
      docker.version() as Promise<{ Version: string; ApiVersion: string }>,
      docker.info() as Promise<{ OperatingSystem?: string; Runtimes?: Record<string, unknown> }>,
    ]);
    return {
      host,
      serverVersion: version.Version,
      apiVersion: version.ApiVersion,
      os: info.OperatingSystem ?? '',
      gpu: Object.keys(info.Runtimes ?? {}).some((r) => r.includes('nvidia')),
    };
  } catch (err) {
    throw dockerError(err, host);
  }
}
