/**
 * The session's step history on the host: a bare git repository in the session folder
 * (`history.git`) that receives every step commit of the container's shadow git as it is recorded,
 * as a thin pack of only the new objects. With it, a session outlives its container: diff and
 * review read it directly, and a new container gets it back (see importHistory in step-commits.ts).
 *
 * Refs: refs/klong/steps (the step commits, as in the container), refs/klong/baseline (the shadow
 * git's HEAD: the accepted state that defines the proposals) and refs/klong/root (the workspace as
 * first copied in: step 0).
 */
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildEnv, type ChildProcess, childEnv, spawnChild } from './child-env';
import { SandboxError } from './errors';
import { parseNameStatus } from './name-status';

export const HISTORY_DIR = 'history.git';
export const REF_STEPS = 'refs/klong/steps';
export const REF_BASELINE = 'refs/klong/baseline';
export const REF_ROOT = 'refs/klong/root';

export interface HistoryRefs {
  steps?: string;
  baseline?: string;
  root?: string;
}

/** More packs than this and a background geometric repack merges the small ones (lookups stay flat). */
const PACK_LIMIT = 16;

interface GitResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Host git is missing (the container's git missing is a plain TOOL_MISSING SandboxError). */
export class HostGitMissingError extends SandboxError {}

export function hostGitMissing(): SandboxError {
  return new HostGitMissingError(
    'TOOL_MISSING',
    'git is not installed on this machine (or not on PATH): KLong keeps each session’s step history in a git repository in the session folder, so that a session survives the loss of its container.',
    'Install git (e.g. `apt-get install git`, `brew install git`, or Git for Windows) and resume the session; until then the step history lives only in the container.',
  );
}

/**
 * Environment for host git: allow-listed like every child process (the user's own GIT_* settings, a
 * hook's GIT_DIR say, must not leak in either), without prompts or the system config.
 */
function gitEnv(): ChildEnv {
  return childEnv({ set: { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1' } });
}

export class HostHistory {
  /** What the repository's refs were after the last read or update (saves a git call per step). */
  private known: HistoryRefs | undefined;
  private repacking: ChildProcess | undefined;

  constructor(readonly dir: string) {}

  /** The history of the session whose folder is `sessionDir`. */
  static of(sessionDir: string): HostHistory {
    return new HostHistory(join(sessionDir, HISTORY_DIR));
  }

  exists(): boolean {
    return existsSync(join(this.dir, 'HEAD'));
  }

  private spawnGit(args: string[]): ChildProcess {
    return spawnChild('git', ['--git-dir', this.dir, '-c', 'core.quotepath=off', ...args], {
      env: gitEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  }

  /** Runs host git; `input` goes to its stdin. Throws the clear TOOL_MISSING error when git is absent. */
  private run(args: string[], input?: string | Buffer): Promise<GitResult> {
    return new Promise((resolve, reject) => {
      const child = this.spawnGit(args);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? hostGitMissing() : e));
      child.on('close', (code) =>
        resolve({
          code: code ?? -1,
          stdout: Buffer.concat(out),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
      child.stdin!.on('error', () => undefined); // git may exit before reading everything (it says why)
      child.stdin!.end(input ?? '');
    });
  }

  private async ok(args: string[], input?: string | Buffer): Promise<Buffer> {
    const r = await this.run(args, input);
    if (r.code !== 0)
      throw new Error(`Host history (${this.dir}): git ${args[0]} failed: ${r.stderr.trim().slice(-2000)}`);
    return r.stdout;
  }

  /** Creates the bare repository if needed. */
  async init(): Promise<void> {
    if (this.exists()) return;
    const r = await new Promise<GitResult>((resolve, reject) => {
      const child = spawnChild('git', ['init', '-q', '--bare', this.dir], {
        env: gitEnv(),
        windowsHide: true,
      });
      let stderr = '';
      child.stderr?.on('data', (b) => {
        stderr += b;
      });
      child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? hostGitMissing() : e));
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.alloc(0), stderr }));
    });
    if (r.code !== 0) throw new Error(`Could not create the step history ${this.dir}: ${r.stderr.trim()}`);
    // Repacks are ours (geometric, in the background); nothing is ever pruned: every step stays.
    await this.ok(['config', 'gc.auto', '0']);
    await this.ok(['config', 'gc.pruneExpire', 'never']);
    await this.ok(['config', 'core.logAllRefUpdates', 'false']);
    this.known = {};
  }

  /** The repository's refs (cached after the first read; every update here keeps the cache). */
  async refs(): Promise<HistoryRefs> {
    if (this.known) return { ...this.known };
    if (!this.exists()) return {};
    const out = await this.ok(['for-each-ref', '--format=%(objectname) %(refname)', 'refs/klong/']);
    const refs: HistoryRefs = {};
    for (const line of out.toString('utf8').split('\n')) {
      const [oid, name] = line.split(' ');
      if (name === REF_STEPS) refs.steps = oid;
      else if (name === REF_BASELINE) refs.baseline = oid;
      else if (name === REF_ROOT) refs.root = oid;
    }
    this.known = refs;
    return { ...refs };
  }

  /**
   * Stores a pack coming as chunks (a thin pack is completed from the objects already here).
   * Returns a writer: `write` each chunk (a promise that resolves when it may continue), then `end`.
   */
  receiver(): { write(chunk: Buffer): Promise<void>; end(): Promise<void>; abort(): void } {
    const child = this.spawnGit(['index-pack', '--stdin', '--fix-thin']);
    let stderr = '';
    child.stderr!.on('data', (b) => {
      stderr += b;
    });
    child.stdout!.resume(); // the pack's name
    let failure: Error | undefined;
    const closed = new Promise<number>((resolve) => {
      child.on('error', (e: NodeJS.ErrnoException) => {
        failure = e.code === 'ENOENT' ? hostGitMissing() : e;
        resolve(-1);
      });
      child.on('close', (code) => resolve(code ?? -1));
    });
    child.stdin!.on('error', (e) => {
      failure ??= e;
    });
    return {
      write: (chunk) =>
        new Promise((resolve, reject) => {
          if (failure) return reject(failure);
          if (child.stdin!.write(chunk)) return resolve();
          // A git that died never drains: its end is the answer too (end() says why).
          const go = () => {
            child.stdin!.off('drain', go);
            resolve();
          };
          child.stdin!.once('drain', go);
          void closed.then(go);
        }),
      end: async () => {
        child.stdin!.end();
        const code = await closed;
        if (failure) throw failure;
        if (code !== 0)
          throw new Error(`Host history (${this.dir}): git index-pack failed: ${stderr.trim().slice(-2000)}`);
      },
      abort: () => {
        child.kill('SIGKILL');
      },
    };
  }

  /** Moves the refs (one transaction); objects must be here already. */
  async setRefs(refs: HistoryRefs): Promise<void> {
    const lines: string[] = [];
    if (refs.steps) lines.push(`update ${REF_STEPS} ${refs.steps}`);
    if (refs.baseline) lines.push(`update ${REF_BASELINE} ${refs.baseline}`);
    if (refs.root) lines.push(`update ${REF_ROOT} ${refs.root}`);
    if (!lines.length) return;
    await this.ok(['update-ref', '--stdin'], `${lines.join('\n')}\n`);
    this.known = { ...(await this.refs()), ...refs };
    this.maybeRepack();
  }

  /** True when the commit is in the repository. */
  async has(commit: string): Promise<boolean> {
    const r = await this.run(['cat-file', '-e', `${commit}^{commit}`]);
    return r.code === 0;
  }

  /** Every object of the history as one pack (for a new container), written to `file`. */
  async packAll(file: string): Promise<boolean> {
    const refs = await this.refs();
    const tips = [refs.steps, refs.baseline, refs.root].filter((x): x is string => !!x);
    if (!tips.length) return false;
    await new Promise<void>((resolve, reject) => {
      const child = this.spawnGit(['pack-objects', '--revs', '--stdout', '-q']);
      const fd = openSync(file, 'w');
      let stderr = '';
      child.stdout!.on('data', (b: Buffer) => {
        writeSync(fd, b); // a local temp file: synchronous writes are the backpressure
      });
      child.stderr!.on('data', (b) => {
        stderr += b;
      });
      child.on('error', (e: NodeJS.ErrnoException) => {
        closeSync(fd);
        reject(e.code === 'ENOENT' ? hostGitMissing() : e);
      });
      child.on('close', (code) => {
        closeSync(fd);
        if (code === 0) resolve();
        else reject(new Error(`Host history: git pack-objects failed: ${stderr.trim().slice(-2000)}`));
      });
      child.stdin!.end(`${tips.join('\n')}\n`);
    });
    return true;
  }

  /** Unified diff between two commits (as the container's diffCommits). */
  async diff(from: string, to: string): Promise<string> {
    const out = await this.ok(['diff', '--no-color', '--no-ext-diff', '--no-renames', from, to, '--']);
    return out.toString('utf8');
  }

  /** Paths that differ between two commits, with how they changed. */
  async changedBetween(
    from: string,
    to: string,
  ): Promise<{ path: string; kind: 'added' | 'modified' | 'deleted' }[]> {
    const out = await this.ok(['diff', '--name-status', '-z', '--no-renames', from, to, '--']);
    return parseNameStatus(out.toString('utf8'));
  }

  /** A file's content at a commit, or null if it was not there. */
  async contentAt(commit: string, rel: string): Promise<Uint8Array | null> {
    const r = await this.run(['cat-file', 'blob', `${commit}:${rel}`]);
    if (r.code !== 0) {
      const t = await this.run(['cat-file', '-e', `${commit}:${rel}`]);
      if (t.code !== 0) return null;
      throw new Error(`Host history: reading ${rel} at ${commit} failed: ${r.stderr.trim()}`);
    }
    return new Uint8Array(r.stdout);
  }

  /** Packs in the repository (each received step adds one until a repack merges them). */
  packCount(): number {
    try {
      return readdirSync(join(this.dir, 'objects', 'pack')).filter((f) => f.endsWith('.pack')).length;
    } catch {
      return 0;
    }
  }

  /**
   * A geometric repack in the background once there are many packs: merges the small ones, so
   * the cost of a step stays flat however long the session (each object is rewritten O(log n) times).
   */
  maybeRepack(): void {
    if (this.repacking || this.packCount() <= PACK_LIMIT) return;
    // One repack at a time across processes too (a resume while the last one still runs).
    const lock = join(this.dir, 'klong-repack.lock');
    try {
      const st = statSync(lock, { throwIfNoEntry: false });
      if (st && Date.now() - st.mtimeMs < 3600_000) return;
      closeSync(openSync(lock, 'w'));
    } catch {
      return;
    }
    const child = spawnChild(
      'git',
      ['--git-dir', this.dir, 'repack', '-d', '-q', '--geometric=2', '--no-write-bitmap-index'],
      { env: gitEnv(), stdio: 'ignore', detached: true, windowsHide: true },
    );
    this.repacking = child;
    const done = () => {
      this.repacking = undefined;
      rmSync(lock, { force: true });
    };
    child.on('error', done);
    child.on('close', done);
    child.unref();
  }

  /** Waits for a background repack of this process (tests, benches). */
  async settle(): Promise<void> {
    const c = this.repacking;
    if (c && c.exitCode === null) await new Promise((r) => c.once('close', r));
  }
}
