/**
 * A change journal for the workspace copy, so that changes() asks git about the few paths that changed
 * instead of letting `git status` lstat() every file (≈5 µs each on overlayfs: 50–90 ms for 10,000 files).
 *
 * An inotify watcher (Python 3 + ctypes, no packages) runs detached inside the container, one per workspace,
 * and collects the paths that changed. changes() asks it through a FIFO for the paths since its last call:
 * before answering, the watcher drains the inotify queue, and since inotify queues an event inside the
 * syscall that caused it, every change made before the request is in the answer. A path whose directory was
 * created or moved in is reported as the directory (git's pathspec covers what is inside, including files
 * made before the watch was added). A journal naming a .gitignore, .gitattributes or .git entry makes
 * changes() scan everything: those change how git sees other paths.
 *
 * The journal has generations: a new watcher, a lost event (queue overflow) or too many paths starts a new one,
 * and a caller whose generation is not the current one does a full scan. A watcher that cannot watch (watch
 * limit, unreadable directory) answers "-" (full scan every time); one that crashed leaves `broken` and is
 * not restarted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const WATCH_DIR = '/var/lib/klong/watch';

/**
 * Directories never watched: git never looks inside a .git. (The shadow excludes such as node_modules/ are
 * watched all the same: a workspace .gitignore can re-include them, and it outranks info/exclude.)
 */
export const WATCH_SKIP = ['.git'];

/** More paths than this in one call: a full scan is as cheap as a pathspec that long. */
export const JOURNAL_MAX_PATHS = 1000;

/** A full scan at least this often, for writes inotify does not see (mmap, hard links made outside). */
export const FULL_SCAN_EVERY_MS = 5 * 60_000;

/** What one DockerSandbox knows about the journal between changes() calls. */
export class ChangeJournal {
  /** Names this caller's reply FIFO: callers (a reattached extension, the CLI) keep their own offsets. */
  readonly id = randomBytes(6).toString('hex');
  /** Generation and offset after the last call; undefined = next call does a full scan. */
  gen?: string;
  offset = 0;
  lastFull = 0;
  /** How the last changes() found its answer: from the journal, or by scanning the whole tree. */
  lastScan?: 'journal' | 'full';
  /**
   * Paths to ask git about again even if the journal does not name them: last call's changes (our own
   * accept/revert changes their baseline) and paths accept/revert touched.
   */
  pending = new Set<string>();

  /** The next changes() scans the whole tree (after a rewind or a baseline reset). */
  invalidate(): void {
    this.gen = undefined;
  }

  touched(paths: string[]): void {
    for (const p of paths) this.pending.add(p);
  }

  /** True when the next call may use the journal. */
  usable(now: number): boolean {
    return (
      this.gen !== undefined &&
      now - this.lastFull < FULL_SCAN_EVERY_MS &&
      this.pending.size <= JOURNAL_MAX_PATHS
    );
  }
}

/**
 * The watcher. argv: STATE_DIR WORKDIR SKIP..., argv[0] set to klong-watch (callers check it); the foreground
 * process returns once the daemon watches the whole tree and listens (or another daemon already does).
 * Requests, one line each on STATE_DIR/req:
 * - "token ackfifo gen offset limit": reply on the ack FIFO "token gen end n\n" then n NUL-terminated paths,
 *   or n = -1 when the caller must scan everything (other generation, more than limit paths); gen "-" means
 *   the journal is unusable.
 * - "S token id": lstat and text/binary of the paths in STATE_DIR/q.<id>, written to STATE_DIR/r.<id>
 *   (saves starting stat and grep); reply "token sizes texts unknown\n" on STATE_DIR/ack.<id>.
 */
export function watcherSource(): string {
  // watcher.py sits beside this module in src/ and beside the bundles in dist/ (esbuild.mjs copies it).
  watcherText ??= readFileSync(join(__dirname, 'watcher.py'), 'utf8');
  return watcherText;
}
let watcherText: string | undefined;
