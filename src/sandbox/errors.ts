/** Sandbox failures the user can act on: one code, one message, one hint each. */

export type SandboxErrorCode =
  | 'DOCKER_NOT_INSTALLED'
  | 'DOCKER_DOWN'
  | 'DOCKER_PERMISSION'
  | 'DOCKER_UNREACHABLE'
  | 'DOCKER_HOST_INVALID'
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_BUILD_FAILED'
  | 'IMAGE_PULL_FAILED'
  | 'BUILD_CANCELLED'
  | 'CONFIG_SYNTAX'
  | 'CONFIG_INVALID'
  | 'CONFIG_UNSUPPORTED'
  | 'GPU_UNAVAILABLE'
  | 'GPU_SETTING_INVALID'
  | 'LIFECYCLE_FAILED'
  | 'WORKSPACE_TOO_LARGE'
  | 'PATH_ESCAPE'
  | 'FILE_NOT_FOUND'
  | 'CONTAINER_GONE'
  | 'TOOL_MISSING'
  | 'DOCKER_ERROR';

export class SandboxError extends Error {
  override readonly name = 'SandboxError';
  constructor(
    readonly code: SandboxErrorCode,
    message: string,
    /** What the user can do about it, one sentence. */
    readonly hint: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Message and hint together, for logs and notifications. */
  describe(): string {
    return `${this.message}\n${this.hint}`;
  }
}

interface ErrnoLike {
  code?: string;
  errno?: number | string;
  statusCode?: number;
  message?: string;
  address?: string;
  reason?: string;
  json?: { message?: string } | null;
}

/** Where dockerode talks to, in DOCKER_HOST syntax, for messages. */
export type EngineAddress = string;

/**
 * Turns a low-level error from dockerode / docker-modem into a SandboxError when it is one of the
 * "Docker is not usable" cases; other errors come back as DOCKER_ERROR with the engine's own message.
 */
export function classifyDockerError(
  err: unknown,
  engine: EngineAddress,
  dockerCliFound: boolean,
): SandboxError {
  if (err instanceof SandboxError) return err;
  const e = (err ?? {}) as ErrnoLike;
  const msg = e.json?.message ?? e.message ?? String(err);
  const unix = engine.startsWith('unix://') || engine.startsWith('npipe://');
  switch (e.code) {
    case 'ENOENT':
      if (unix && !dockerCliFound)
        return new SandboxError(
          'DOCKER_NOT_INSTALLED',
          `Docker is not installed (no engine socket at ${engine} and no docker command on PATH).`,
          'Install Docker (Docker Desktop, or the docker.io / docker-ce package on Linux) and start it, or set klong.docker.host to a remote engine.',
          { cause: err },
        );
      return new SandboxError(
        'DOCKER_DOWN',
        `The Docker engine is not running (no socket at ${engine}).`,
        'Start Docker (Docker Desktop, or `sudo systemctl start docker`) and try again.',
        { cause: err },
      );
    case 'ECONNREFUSED':
      return new SandboxError(
        'DOCKER_DOWN',
        `The Docker engine at ${engine} refused the connection: it is not running.`,
        unix
          ? 'Start Docker (Docker Desktop, or `sudo systemctl start docker`) and try again.'
          : 'Check that the remote engine is running and listening on that address (klong.docker.host / DOCKER_HOST).',
        { cause: err },
      );
    case 'EACCES':
    case 'EPERM':
      return new SandboxError(
        'DOCKER_PERMISSION',
        `Permission denied on the Docker socket ${engine}.`,
        'Add your user to the docker group (`sudo usermod -aG docker $USER`, then log out and back in), or use rootless Docker.',
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'ECONNRESET':
      return new SandboxError(
        'DOCKER_UNREACHABLE',
        `Cannot reach the Docker engine at ${engine} (${e.code}).`,
        'Check klong.docker.host / DOCKER_HOST, the network and (for ssh://) that `ssh` to that host works without a password prompt.',
        { cause: err },
      );
  }
  if (/All configured authentication methods failed|ssh|handshake/i.test(msg) && engine.startsWith('ssh://'))
    return new SandboxError(
      'DOCKER_UNREACHABLE',
      `SSH to the Docker engine at ${engine} failed: ${msg}`,
      'Load your key into ssh-agent (`ssh-add`) so that `ssh` to that host works without a prompt.',
      { cause: err },
    );
  if (e.statusCode === 404 && /no such image|not found/i.test(msg))
    return new SandboxError(
      'IMAGE_NOT_FOUND',
      `Image not found: ${msg}`,
      'Build it (for the default image: scripts/build-default-image.sh) or set a devcontainer.json.',
      {
        cause: err,
      },
    );
  return new SandboxError('DOCKER_ERROR', `Docker engine error: ${msg}`, 'See the KLong log for details.', {
    cause: err,
  });
}
