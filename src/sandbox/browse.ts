/**
 * A look into a session's container from the editor: its workspace read-only (list, stat, read)
 * and an interactive shell for a terminal. Found by the session label, so it works whichever
 * process drives the session; nothing here writes to the workspace.
 */
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { type ContainerMeta, findContainers } from './container';
import { connectDocker, dockerError } from './docker-client';
import { SandboxError } from './errors';
import { bashScript } from './exec';
import { resolveWorkspacePath } from './sandbox';

export type EntryType = 'file' | 'dir' | 'symlink' | 'other';

export interface SandboxEntry {
  name: string;
  type: EntryType;
  size: number;
  mtimeMs: number;
}

const NOT_FOUND = 44;
const ESCAPE = 45;
const WRONG_TYPE = 46;
const TOO_LARGE = 47;
/** Files larger than this are not read into the editor (a log can grow without bound). */
export const BROWSE_READ_MAX = 50 * 1024 * 1024;

/** "$p": the path resolved inside the workspace (symlinks followed), refusing escapes; "" is the root. */
const RESOLVE = `W="$KLONG_WORKDIR"
p=$(realpath -m -- "$W/$1") || exit ${ESCAPE}
case "$p" in "$W"|"$W"/*) ;; *) exit ${ESCAPE};; esac
[ -e "$p" ] || exit ${NOT_FOUND}
`;

const TYPES: Record<string, EntryType> = { f: 'file', d: 'dir', l: 'symlink' };

/** Parses `find -printf '%Y\t%s\t%T@\t%f\0'` output (%Y: the type a symlink points to). */
export function parseEntries(out: Buffer): SandboxEntry[] {
  const list: SandboxEntry[] = [];
  for (const rec of out.toString('utf8').split('\0')) {
    if (!rec) continue;
    const [y, size, mtime, ...name] = rec.split('\t');
    list.push({
      name: name.join('\t'),
      type: TYPES[y ?? ''] ?? 'other',
      size: Number(size) || 0,
      mtimeMs: Math.round(Number(mtime) * 1000) || 0,
    });
  }
  return list;
}

export class SandboxBrowser {
  private constructor(
    readonly container: Docker.Container,
    readonly meta: ContainerMeta,
    readonly containerName: string,
  ) {}

  /** The session's running container; a clear error when there is none or it is stopped. */
  static async open(sessionId: string, dockerHost?: string): Promise<SandboxBrowser> {
    const { docker, host } = connectDocker(dockerHost);
    let found: Awaited<ReturnType<typeof findContainers>>;
    try {
      found = await findContainers(docker, sessionId);
    } catch (err) {
      throw dockerError(err, host);
    }
    const f = found.find((c) => c.meta && c.state === 'running') ?? found.find((c) => c.meta);
    if (!f?.meta)
      throw new SandboxError(
        'CONTAINER_GONE',
        `Session ${sessionId} has no container now.`,
        'Resume the session: its container is created again from the step history.',
      );
    if (f.state !== 'running')
      throw new SandboxError(
        'CONTAINER_GONE',
        `The container of session ${sessionId} is ${f.state}.`,
        'Resume the session to start it again.',
      );
    const container = docker.getContainer(f.id);
    return new SandboxBrowser(container, f.meta, f.id.slice(0, 12));
  }

  get workdir(): string {
    return this.meta.workdir;
  }

  private rel(path: string): string {
    const p = path.replace(/^\/+/, '');
    return p === '' ? '' : resolveWorkspacePath(p);
  }

  private async run(path: string, body: string, what = 'file') {
    const rel = this.rel(path);
    const r = await bashScript(this.container, `${RESOLVE}${body}`, [rel], {
      user: this.meta.user,
      env: [`KLONG_WORKDIR=${this.workdir}`],
    });
    if (r.exitCode === NOT_FOUND)
      throw new SandboxError(
        'FILE_NOT_FOUND',
        `No such file in the sandbox: ${rel || '/'}`,
        'Check the path.',
      );
    if (r.exitCode === ESCAPE)
      throw new SandboxError(
        'PATH_ESCAPE',
        `Outside the sandbox's workspace: ${rel}`,
        'Use a path inside it.',
      );
    if (r.exitCode === WRONG_TYPE) throw new Error(`Not a ${what} in the sandbox: ${rel || '/'}`);
    if (r.exitCode === TOO_LARGE)
      throw new Error(
        `${rel} is larger than ${BROWSE_READ_MAX / 1024 / 1024} MB: open it in the sandbox's terminal (KLong: Open terminal in the sandbox).`,
      );
    if (r.exitCode !== 0) throw new Error(`Reading ${rel || '/'} in the sandbox failed: ${r.stderr.trim()}`);
    return r;
  }

  /** The entries of a workspace folder ("" = the workspace itself), the shadow git's `.git` left out. */
  async list(path: string): Promise<SandboxEntry[]> {
    const r = await this.run(
      path,
      `[ -d "$p" ] || exit ${WRONG_TYPE}\nfind "$p" -mindepth 1 -maxdepth 1 -printf '%Y\\t%s\\t%T@\\t%f\\0'`,
      'folder',
    );
    return parseEntries(r.stdout).filter((e) => !(path.replace(/^\/+/, '') === '' && e.name === '.git'));
  }

  async stat(path: string): Promise<SandboxEntry> {
    const r = await this.run(path, `find "$p" -maxdepth 0 -printf '%Y\\t%s\\t%T@\\t%f\\0'`);
    const e = parseEntries(r.stdout)[0];
    if (!e)
      throw new SandboxError('FILE_NOT_FOUND', `No such file in the sandbox: ${path}`, 'Check the path.');
    return e;
  }

  async read(path: string): Promise<Uint8Array> {
    const r = await this.run(
      path,
      `[ -f "$p" ] || exit ${WRONG_TYPE}\n[ "$(stat -c %s -- "$p")" -le ${BROWSE_READ_MAX} ] || exit ${TOO_LARGE}\ncat -- "$p"`,
    );
    return new Uint8Array(r.stdout);
  }

  /**
   * An interactive bash (a TTY) in the workspace as the session's user: for a terminal in the editor.
   * The model key is never in the container, so nothing of it reaches this shell.
   */
  async shell(size: { columns: number; rows: number }): Promise<SandboxShell> {
    const env = Object.entries(this.meta.remoteEnv).map(([k, v]) => `${k}=${v}`);
    const exec = await this.container.exec({
      Cmd: ['bash', '-l'],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: true,
      User: this.meta.user,
      WorkingDir: this.workdir,
      Env: ['TERM=xterm-256color', ...env],
    });
    const stream = (await exec.start({ hijack: true, stdin: true, Tty: true })) as Duplex;
    const resize = (s: { columns: number; rows: number }) =>
      exec.resize({ h: s.rows, w: s.columns }).catch(() => undefined);
    void resize(size);
    return new SandboxShell(exec, stream, resize);
  }
}

/** One interactive shell in the container: bytes in, bytes out, resize, exit code. */
export class SandboxShell {
  private readonly decoder = new StringDecoder('utf8');
  readonly exited: Promise<number | null>;

  constructor(
    private readonly exec: Docker.Exec,
    private readonly stream: Duplex,
    readonly resize: (s: { columns: number; rows: number }) => Promise<unknown>,
  ) {
    this.exited = new Promise((resolve) => {
      const done = () =>
        void this.exec.inspect().then(
          (i) => resolve(i.ExitCode ?? null),
          () => resolve(null),
        );
      stream.once('end', done);
      stream.once('close', done);
      stream.once('error', done);
    });
  }

  onData(listener: (text: string) => void): void {
    // With a TTY the engine sends the raw stream (no stdout/stderr framing).
    this.stream.on('data', (b: Buffer) => listener(this.decoder.write(b)));
  }

  write(data: string): void {
    this.stream.write(data);
  }

  close(): void {
    this.stream.end();
    this.stream.destroy();
  }
}
