/**
 * A Sandbox over two plain directories (work copy + baseline copy), for the edits tests until the
 * shared test/support/dir-sandbox.ts lands. Real files, real comparisons; no container.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ExecResult, FileChange, Sandbox } from '../../src/sandbox/sandbox';
import { resolveWorkspacePath } from '../../src/sandbox/sandbox';

async function walk(dir: string, prefix = ''): Promise<string[]> {
  let out: string[] = [];
  let entries: import('node:fs').Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out = out.concat(await walk(join(dir, e.name), rel));
    else out.push(rel);
  }
  return out;
}

async function readOrNull(p: string): Promise<Uint8Array | null> {
  try {
    return new Uint8Array(await readFile(p));
  } catch {
    return null;
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export class TwoDirSandbox implements Sandbox {
  readonly workdir: string;
  /** Extra changes a test can inject (e.g. a path that escapes the workspace). */
  extraChanges: FileChange[] = [];
  private constructor(
    readonly root: string,
    private readonly base: string,
  ) {
    this.workdir = join(root, 'work');
  }

  static async create(files: Record<string, string | Uint8Array> = {}): Promise<TwoDirSandbox> {
    const root = await mkdtemp(join(tmpdir(), 'klong-edits-'));
    const s = new TwoDirSandbox(root, join(root, 'base'));
    await mkdir(s.workdir, { recursive: true });
    await mkdir(s.base, { recursive: true });
    for (const [p, c] of Object.entries(files)) {
      await s.put(s.workdir, p, c);
      await s.put(s.base, p, c);
    }
    return s;
  }

  private async put(dir: string, p: string, c: string | Uint8Array): Promise<void> {
    const abs = join(dir, resolveWorkspacePath(p));
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, c);
  }

  async exec(): Promise<ExecResult> {
    throw new Error('TwoDirSandbox has no shell');
  }

  async readFile(path: string): Promise<Uint8Array> {
    return new Uint8Array(await readFile(join(this.workdir, resolveWorkspacePath(path))));
  }

  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    await this.put(this.workdir, path, data);
  }

  async remove(path: string): Promise<void> {
    await rm(join(this.workdir, resolveWorkspacePath(path)), { force: true });
  }

  async changes(): Promise<FileChange[]> {
    const work = new Set(await walk(this.workdir));
    const base = new Set(await walk(this.base));
    const out: FileChange[] = [...this.extraChanges];
    for (const p of [...new Set([...work, ...base])].sort()) {
      const w = work.has(p) ? await readOrNull(join(this.workdir, p)) : null;
      const b = base.has(p) ? await readOrNull(join(this.base, p)) : null;
      if (w && b && same(w, b)) continue;
      const bytes = w ?? b!;
      out.push({
        path: p,
        kind: !b ? 'added' : !w ? 'deleted' : 'modified',
        binary: bytes.subarray(0, 8000).includes(0),
        size: w?.length ?? 0,
      });
    }
    return out;
  }

  async baselineFile(path: string): Promise<Uint8Array | null> {
    return readOrNull(join(this.base, resolveWorkspacePath(path)));
  }

  async revert(path: string): Promise<void> {
    const b = await this.baselineFile(path);
    if (b) await this.put(this.workdir, path, b);
    else await this.remove(path);
  }

  async acceptIntoBaseline(paths: string[]): Promise<void> {
    for (const p of paths) {
      const w = await readOrNull(join(this.workdir, resolveWorkspacePath(p)));
      if (w) await this.put(this.base, p, w);
      else await rm(join(this.base, resolveWorkspacePath(p)), { force: true });
    }
  }

  async dispose(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}
