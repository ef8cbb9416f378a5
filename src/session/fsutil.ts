/** Small synchronous file helpers with the durability the checkpoint needs (fsync file and directory). */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** fsync a directory so a rename or create in it survives a crash (best effort where unsupported). */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    // Some filesystems (and Windows) refuse fsync on directories; the rename is still atomic there.
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Write all of `data` at `position` (loops over short writes). */
export function writeAll(fd: number, data: Buffer, position: number | null): void {
  let done = 0;
  while (done < data.length) {
    const pos = position === null ? null : position + done;
    done += writeSync(fd, data, done, data.length - done, pos);
  }
}

/**
 * Write a file to `.<name>.tmp` beside `path`, fsync it, and return the temp path (caller renames).
 * `unique` gives the temp file a per-process name, for files that several processes may write.
 */
export function writeDurableTemp(path: string, data: string | Buffer, unique = false): string {
  const tag = unique ? `.${process.pid}-${Math.random().toString(36).slice(2, 8)}` : '';
  const tmp = join(dirname(path), `.${basename(path)}${tag}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** temp + fsync + rename + fsync(dir): readers see the old file or the new one, never a torn one. */
export function writeFileAtomic(path: string, data: string | Buffer, unique = false): void {
  const tmp = writeDurableTemp(path, data, unique);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** Read and parse a JSON file; undefined when it does not exist. Throws on bad JSON. */
export function readJsonIfExists(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as unknown;
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

/**
 * The bytes a growing file (a detached engine's engine.log, a session's inbox) got after byte `from`,
 * at most its last `max` bytes, and the size it was read up to.
 */
export function readBytesFrom(
  path: string,
  from: number,
  max = Number.POSITIVE_INFINITY,
): { bytes: Buffer; size: number } {
  const size = statSync(path).size;
  const start = Math.max(from, size - max);
  if (size <= start) return { bytes: Buffer.alloc(0), size };
  const bytes = Buffer.alloc(size - start);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, start);
  } finally {
    closeSync(fd);
  }
  return { bytes, size };
}

/** readBytesFrom as text. */
export function readFrom(
  path: string,
  from: number,
  max = Number.POSITIVE_INFINITY,
): { text: string; size: number } {
  const { bytes, size } = readBytesFrom(path, from, max);
  return { text: bytes.toString('utf8'), size };
}
