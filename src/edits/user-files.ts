/**
 * The user's side of an edit: the workspace files as the user sees them. In VS Code an unsaved
 * editor's text wins over the disk and writes go through a WorkspaceEdit (src/ui/edits/workspace.ts);
 * the CLI and tests use the directory implementation below.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { encodePath, hasEscapedBytes } from '../sandbox/path-bytes';
import { isInsideGitDir, resolveWorkspacePath } from '../sandbox/sandbox';

/** A string is an editor's text (any line endings); bytes are the file on disk. */
export type UserContent = string | Uint8Array;

export interface UserFileEdit {
  /** Workspace-relative POSIX path. */
  path: string;
  /** null deletes the file. */
  content: UserContent | null;
}

export interface UserFiles {
  /** Current content, or null when the file does not exist. */
  read(path: string): Promise<UserContent | null>;
  /** Applies the edits together (one undo step where the host has undo); false if the host refused. */
  apply(edits: UserFileEdit[], label: string): Promise<boolean>;
  // Optional, for files too big to hold in memory (accepted whole): callers fall back to read/apply.
  /** Git blob id and size of the file as it is now, read as a stream; null when it does not exist. */
  fileId?(path: string): Promise<{ id: string; size: number } | null>;
  /**
   * Replaces the file with the bytes `fill` writes into a temp file beside it (renamed into place
   * only when `fill` resolves); false if the host refused.
   */
  writeFrom?(
    path: string,
    fill: (tmpFile: string | Buffer) => Promise<void>,
    label: string,
  ): Promise<boolean>;
}

/** Git blob id (SHA-1 of "blob <size>\0" + bytes) of a host file, read as a stream. */
export async function hostBlobId(file: string | Buffer): Promise<{ id: string; size: number }> {
  const { size } = await stat(file);
  const h = createHash('sha1').update(`blob ${size}\0`);
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024 })) h.update(chunk as Buffer);
  return { id: h.digest('hex'), size };
}

/** The workspace as a plain directory: for the CLI and tests. Refuses paths and symlinks that escape it. */
export class DirUserFiles implements UserFiles {
  constructor(private readonly root: string) {
    // An empty root would resolve against the process's cwd (or fail as `realpath ''` on each accept).
    if (!root) throw new Error('The workspace folder of the session is unknown: no user files to write.');
  }

  async read(path: string): Promise<Uint8Array | null> {
    const abs = await this.resolve(path);
    try {
      return new Uint8Array(await readFile(abs));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async apply(edits: UserFileEdit[]): Promise<boolean> {
    const targets = await Promise.all(edits.map(async (e) => ({ e, abs: await this.resolve(e.path) })));
    for (const { e, abs } of targets) {
      if (e.content === null) {
        await rm(abs, { force: true });
        continue;
      }
      // Temp file + rename: a crash never leaves the user's file half-written.
      const content = e.content;
      await writeViaTemp(abs, (tmp) => writeFile(tmp, content));
    }
    return true;
  }

  async fileId(path: string): Promise<{ id: string; size: number } | null> {
    const abs = await this.resolve(path);
    try {
      return await hostBlobId(abs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async writeFrom(path: string, fill: (tmpFile: string | Buffer) => Promise<void>): Promise<boolean> {
    await writeViaTemp(await this.resolve(path), fill);
    return true;
  }

  /**
   * Absolute path inside the root, following symlinks of the existing part of the path. A name with
   * bytes that are not UTF-8 (see path-bytes.ts) is given as a Buffer, which every fs call takes.
   */
  private async resolve(path: string): Promise<string | Buffer> {
    const rel = resolveWorkspacePath(path);
    if (isInsideGitDir(rel)) throw new Error(`KLong never writes inside a .git folder: ${path}`);
    const root = await realpath(this.root);
    const abs = join(root, ...rel.split('/'));
    let probe = abs;
    for (;;) {
      try {
        const real = await realpath(encodePath(probe));
        if (real !== root && !real.startsWith(root + sep)) {
          throw new Error(`Path leads outside the workspace through a symbolic link: ${path}`);
        }
        return hasEscapedBytes(abs) ? encodePath(abs) : abs;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        const up = dirname(probe);
        if (up === probe) return hasEscapedBytes(abs) ? encodePath(abs) : abs;
        probe = up;
      }
    }
  }
}

/** Replaces `abs` with what `fill` writes into a temp file beside it; nothing changes if `fill` throws. */
export async function writeViaTemp(
  abs: string | Buffer,
  fill: (tmpFile: string | Buffer) => Promise<void>,
): Promise<void> {
  await mkdir(dirOf(abs), { recursive: true });
  const tmp = tmpName(abs);
  try {
    await fill(tmp);
    await rename(tmp, abs);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** A temp file beside the target (same file system, so the rename is atomic). */
function tmpName(abs: string | Buffer): string | Buffer {
  // A short name of its own: the target's name plus a suffix could pass the file system's name limit.
  const name = `.klong-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.tmp`;
  const dir = dirOf(abs);
  return typeof dir === 'string' ? join(dir, name) : Buffer.concat([dir, Buffer.from(`/${name}`)]);
}

function dirOf(abs: string | Buffer): string | Buffer {
  return typeof abs === 'string' ? dirname(abs) : abs.subarray(0, Math.max(1, abs.lastIndexOf(0x2f)));
}
