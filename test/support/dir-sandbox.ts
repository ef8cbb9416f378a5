/**
 * TEST-ONLY Sandbox on a temporary host directory (the product uses the docker sandbox).
 * Commands run with `bash -c` in the directory, in their own process group (killed whole on
 * timeout or abort). The shell is not persistent: each command starts in the workspace root.
 * The baseline is an in-memory copy of the files taken at creation.
 */
import { spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import {
  type ExecOptions,
  type ExecResult,
  type FileChange,
  resolveWorkspacePath,
  type Sandbox,
} from '../../src/sandbox/sandbox';

async function walk(root: string, dir = root, out: string[] = []): Promise<string[]> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(root, p, out);
    else if (e.isFile()) out.push(relative(root, p).split(sep).join('/'));
  }
  return out;
}

export class DirSandbox implements Sandbox {
  private baseline = new Map<string, Buffer>();
  /** Baseline paths with an x bit (a chmod +x is a change, as in the docker sandbox). */
  private baselineExec = new Set<string>();
  /** Every command run, for assertions. */
  readonly commands: string[] = [];

  private constructor(readonly workdir: string) {}

  /** A sandbox on a fresh temp dir, optionally seeded with files (path → content). */
  static async create(files: Record<string, string> = {}): Promise<DirSandbox> {
    const dir = realpathSync(await mkdtemp(join(tmpdir(), 'klong-dirsb-')));
    const sb = new DirSandbox(dir);
    for (const [p, c] of Object.entries(files)) {
      await mkdir(dirname(join(dir, p)), { recursive: true });
      await writeFile(join(dir, p), c);
    }
    for (const p of await walk(dir)) {
      sb.baseline.set(p, await readFile(join(dir, p)));
      if (await sb.isExecutable(p)) sb.baselineExec.add(p);
    }
    return sb;
  }

  private async isExecutable(p: string): Promise<boolean> {
    return ((await stat(join(this.workdir, p))).mode & 0o111) !== 0;
  }

  /** Host path of a workspace path; throws if it (or a symlink on the way) escapes the workspace. */
  hostPath(path: string): string {
    const p = join(this.workdir, resolveWorkspacePath(path));
    let probe = p;
    while (!existsSync(probe)) probe = dirname(probe);
    const real = realpathSync(probe);
    if (real !== this.workdir && !real.startsWith(this.workdir + sep)) {
      throw new Error(`Path escapes the workspace through a symlink: ${path}`);
    }
    return p;
  }

  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.commands.push(command);
    const cap = opts.outputCap ?? 64 * 1024;
    const started = Date.now();
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], {
        cwd: this.workdir,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.workdir, LANG: 'C.UTF-8' },
      });
      let head = '';
      let tail = '';
      let total = 0;
      let timedOut = false;
      const onData = (b: Buffer) => {
        const s = b.toString('utf8');
        opts.onOutput?.(s);
        total += b.length;
        if (head.length < cap / 2) {
          const take = cap / 2 - head.length;
          head += s.slice(0, take);
          tail = (tail + s.slice(take)).slice(-cap / 2);
        } else tail = (tail + s).slice(-cap / 2);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      const kill = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      };
      const timer = opts.timeoutMs
        ? setTimeout(() => {
            timedOut = true;
            kill();
          }, opts.timeoutMs)
        : undefined;
      opts.signal?.addEventListener('abort', kill, { once: true });
      child.on('close', (code) => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', kill);
        const truncated = total > head.length + tail.length;
        resolve({
          exitCode: timedOut ? null : code,
          output: truncated
            ? `${head}\n[… ${total - head.length - tail.length} bytes omitted …]\n${tail}`
            : head + tail,
          totalBytes: total,
          truncated,
          timedOut,
          durationMs: Date.now() - started,
        });
      });
    });
  }

  async readFile(path: string): Promise<Uint8Array> {
    return readFile(this.hostPath(path));
  }

  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const p = this.hostPath(path);
    await mkdir(dirname(p), { recursive: true });
    await writeFile(p, data);
  }

  async changes(): Promise<FileChange[]> {
    const out: FileChange[] = [];
    const now = new Set(await walk(this.workdir));
    for (const p of [...now].sort()) {
      const cur = await readFile(join(this.workdir, p));
      const base = this.baseline.get(p);
      const executable = await this.isExecutable(p);
      const wasExecutable = this.baselineExec.has(p);
      const common = { path: p, binary: cur.includes(0), size: cur.length, executable };
      if (!base) out.push({ ...common, kind: 'added', wasExecutable: false });
      else if (!base.equals(cur) || executable !== wasExecutable)
        out.push({ ...common, kind: 'modified', wasExecutable });
    }
    for (const p of this.baseline.keys())
      if (!now.has(p)) out.push({ path: p, kind: 'deleted', binary: false, size: 0 });
    return out;
  }

  async baselineFile(path: string): Promise<Uint8Array | null> {
    return this.baseline.get(resolveWorkspacePath(path)) ?? null;
  }

  async revert(path: string): Promise<void> {
    const p = resolveWorkspacePath(path);
    const base = this.baseline.get(p);
    if (base) await this.writeFile(p, base);
    else if (existsSync(join(this.workdir, p))) await unlink(join(this.workdir, p));
  }

  async acceptIntoBaseline(paths: string[]): Promise<void> {
    for (const path of paths) {
      const p = resolveWorkspacePath(path);
      const host = join(this.workdir, p);
      if (existsSync(host) && (await stat(host)).isFile()) {
        this.baseline.set(p, await readFile(host));
        if (await this.isExecutable(p)) this.baselineExec.add(p);
        else this.baselineExec.delete(p);
      } else {
        this.baseline.delete(p);
        this.baselineExec.delete(p);
      }
    }
  }

  async dispose(): Promise<void> {
    await rm(this.workdir, { recursive: true, force: true });
  }
}
