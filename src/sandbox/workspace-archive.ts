/** The user's workspace as a tar stream for putArchive: .gitignore / .klongignore honoured, size-limited. */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { SandboxError } from './errors';
import { tarStream } from './tar-writer';

/** Never copied: VCS data and dependency folders that are rebuilt inside the container. */
export const ALWAYS_IGNORED = ['.git', '.hg', '.svn', 'node_modules', '.DS_Store'];
export const DEFAULT_SIZE_LIMIT = 1024 * 1024 * 1024;

export interface WorkspaceEntry {
  /** Workspace-relative POSIX path. */
  rel: string;
  abs: string;
  type: 'file' | 'directory' | 'symlink';
  size: number;
  mode: number;
  mtime: Date;
  linkTarget?: string;
}

export interface ListOptions {
  /** Extra ignore patterns (gitignore syntax). */
  ignore?: string[];
  /** Total bytes of regular files allowed; more gives WORKSPACE_TOO_LARGE. */
  sizeLimit?: number;
}

interface Scope {
  dir: string;
  ig: Ignore;
}

async function readIgnore(dirAbs: string): Promise<Ignore | undefined> {
  let text = '';
  for (const name of ['.gitignore', '.klongignore']) {
    try {
      text += `${await readFile(join(dirAbs, name), 'utf8')}\n`;
    } catch {
      // absent
    }
  }
  return text.trim() ? ignore().add(text) : undefined;
}

function ignored(scopes: Scope[], rel: string, isDir: boolean): boolean {
  for (const s of scopes) {
    const sub = s.dir ? rel.slice(s.dir.length + 1) : rel;
    if (s.ig.ignores(isDir ? `${sub}/` : sub)) return true;
  }
  return false;
}

function fmtBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} bytes`;
}

/** Lists what is copied into the container, checking the size limit before anything is sent. */
export async function listWorkspace(root: string, opts: ListOptions = {}): Promise<WorkspaceEntry[]> {
  const base = ignore()
    .add(ALWAYS_IGNORED)
    .add(opts.ignore ?? []);
  const out: WorkspaceEntry[] = [];
  let total = 0;
  const walk = async (dirRel: string, scopes: Scope[]): Promise<void> => {
    const dirAbs = dirRel ? join(root, dirRel) : root;
    const own = await readIgnore(dirAbs);
    const here = own ? [...scopes, { dir: dirRel, ig: own }] : scopes;
    const names = (await readdir(dirAbs)).sort();
    // lstat a directory's entries in parallel (a large tree is otherwise one syscall round trip per file).
    const stats = await Promise.all(names.map((name) => lstat(join(dirAbs, name))));
    for (const [i, name] of names.entries()) {
      const rel = dirRel ? `${dirRel}/${name}` : name;
      const abs = join(dirAbs, name);
      const st = stats[i]!;
      const isDir = st.isDirectory();
      if (base.ignores(isDir ? `${rel}/` : rel) || ignored(here, rel, isDir)) continue;
      const common = { rel, abs, mode: st.mode & 0o7777, mtime: st.mtime };
      if (isDir) {
        out.push({ ...common, type: 'directory', size: 0 });
        await walk(rel, here);
      } else if (st.isSymbolicLink()) {
        out.push({ ...common, type: 'symlink', size: 0, linkTarget: await readlink(abs) });
      } else if (st.isFile()) {
        out.push({ ...common, type: 'file', size: st.size });
        total += st.size;
      }
      // sockets, fifos and devices are not copied
    }
  };
  await walk('', []);
  const limit = opts.sizeLimit ?? DEFAULT_SIZE_LIMIT;
  if (total > limit) {
    const biggest = out
      .filter((e) => e.type === 'file')
      .sort((a, b) => b.size - a.size)
      .slice(0, 5)
      .map((e) => `${e.rel} (${fmtBytes(e.size)})`)
      .join(', ');
    throw new SandboxError(
      'WORKSPACE_TOO_LARGE',
      `The workspace is ${fmtBytes(total)}, over the ${fmtBytes(limit)} limit for copying it into the sandbox. Largest files: ${biggest}.`,
      'List large data or build outputs in .gitignore or .klongignore (the agent can download data itself), or raise the size limit.',
    );
  }
  return out;
}

/** A tar stream of the entries (uid/gid 0; the sandbox chowns for a non-root user). */
export function tarEntries(entries: WorkspaceEntry[]): NodeJS.ReadableStream {
  return tarStream(
    entries.map((e) => ({
      name: e.rel,
      type: e.type,
      size: e.size,
      mode: e.mode,
      mtime: e.mtime,
      linkname: e.linkTarget,
      source: e.type === 'file' ? e.abs : undefined,
    })),
  );
}

/** A small tar holding files given in memory (for writeFile). */
export function tarFromFiles(
  files: { path: string; data: Uint8Array | string; mode?: number; uid?: number; gid?: number }[],
): NodeJS.ReadableStream {
  return tarStream(
    files.map((f) => {
      const data = typeof f.data === 'string' ? Buffer.from(f.data, 'utf8') : Buffer.from(f.data);
      return {
        name: f.path,
        type: 'file' as const,
        size: data.length,
        data,
        mode: f.mode ?? 0o644,
        mtime: new Date(),
        uid: f.uid,
        gid: f.gid,
      };
    }),
  );
}
