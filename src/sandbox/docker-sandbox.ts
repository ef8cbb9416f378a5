/** The Sandbox on a Docker engine: persistent shell, files, and the shadow-git baseline of the workspace copy. */
import { posix } from 'node:path';
import type Docker from 'dockerode';
import { ChangeJournal } from './change-journal';
import { listChanges } from './change-scan';
import type { ContainerMeta } from './container';
import { SandboxError } from './errors';
import { bashCmd, bashScript, streamToFile } from './exec';
import type { GpuRequest } from './gpus';
import { importHostHistory, mirrorHistory } from './history-sync';
import type { HistoryRefs, HostHistory } from './host-history';
import { decodePath } from './path-bytes';
import {
  type ExecOptions,
  type ExecResult,
  type FileChange,
  type LineRange,
  resolveWorkspacePath,
  type Sandbox,
} from './sandbox';
import {
  acceptPaths,
  baselineBlobId,
  baselineContent,
  exportPendingPatch,
  type GitTarget,
  revertPath,
  shadowGitBytes,
} from './shadow-git';
import { PersistentShell } from './shell';
import {
  changedBetween,
  commitStep,
  contentAt,
  diffCommits,
  restoreCommit,
  restoreOnto,
  rootCommit,
} from './step-commits';
import { tarFromFiles } from './workspace-archive';

const NOT_FOUND = 44;
const ESCAPE = 45;

/** Resolves a workspace path inside the container (realpath, so symlinks count) and refuses escapes. */
const RESOLVE = `W="$KLONG_WORKDIR"
p=$(realpath -m -- "$W/$1") || exit ${ESCAPE}
case "$p" in "$W"/*) ;; *) echo "$p"; exit ${ESCAPE};; esac
`;

export interface SandboxInfo {
  containerId: string;
  image: string;
  network: string;
  workdir: string;
  user?: string;
  /** True when an existing container was found by its session label and reused. */
  reattached: boolean;
  engine: string;
  /** The GPUs the container got (absent: none); the final run's fresh container gets the same. */
  gpus?: GpuRequest;
}

export class DockerSandbox implements Sandbox {
  readonly workdir: string;
  private shell: PersistentShell;
  /** KLong's own shell (changes, revert, accept): separate saved state, so the agent's cwd/env are untouched. */
  private control: PersistentShell;
  private readonly git: GitTarget;
  private owner?: { uid: number; gid: number };
  /** The baseline moved (an accept) since the host history last received it. */
  baselineMoved = false;
  /** Which paths changed since the last changes(): lets it skip statting every file. */
  private readonly journal = new ChangeJournal();

  constructor(
    readonly docker: Docker,
    readonly container: Docker.Container,
    private readonly meta: ContainerMeta,
    readonly info: SandboxInfo,
  ) {
    this.workdir = meta.workdir;
    this.shell = this.newShell('agent');
    this.control = this.newShell('control');
    this.git = { container, workdir: meta.workdir, user: meta.user, shell: this.control };
  }

  private newShell(stateName: string): PersistentShell {
    return new PersistentShell(this.container, {
      user: this.meta.user,
      env: Object.entries(this.meta.remoteEnv).map(([k, v]) => `${k}=${v}`),
      workdir: this.meta.workdir,
      stateName,
    });
  }

  exec(command: string, opts?: ExecOptions): Promise<ExecResult> {
    return this.shell.exec(command, opts);
  }

  private rel(path: string): string {
    try {
      return resolveWorkspacePath(path);
    } catch (err) {
      throw new SandboxError('PATH_ESCAPE', (err as Error).message, 'Use a path inside the workspace.', {
        cause: err,
      });
    }
  }

  private escape(path: string, resolved: string): SandboxError {
    return new SandboxError(
      'PATH_ESCAPE',
      `Path escapes the workspace through a symlink: ${path}${resolved ? ` -> ${resolved}` : ''}`,
      'Use a path inside the workspace.',
    );
  }

  runScript(script: string, args: string[], opts: { maxStdout?: number } = {}) {
    return bashScript(this.container, script, args, {
      user: this.meta.user,
      ...(opts.maxStdout !== undefined ? { maxStdout: opts.maxStdout } : {}),
    });
  }

  private run(script: string, args: string[]) {
    return bashScript(this.container, script, args, {
      user: this.meta.user,
      env: [`KLONG_WORKDIR=${this.workdir}`],
    });
  }

  /** The real (symlink-free) workspace-relative path, refusing escapes. */
  private async realRel(path: string): Promise<string> {
    const rel = this.rel(path);
    const r = await this.run(`${RESOLVE}printf '%s' "\${p#"$W"/}"`, [rel]);
    if (r.exitCode === ESCAPE) throw this.escape(path, r.stdout.toString().trim());
    if (r.exitCode !== 0) throw new Error(`Resolving ${path} failed: ${r.stderr.trim()}`);
    return decodePath(r.stdout);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const rel = this.rel(path);
    const r = await this.run(`${RESOLVE}[ -f "$p" ] || exit ${NOT_FOUND}\ncat -- "$p"`, [rel]);
    if (r.exitCode === ESCAPE) throw this.escape(path, r.stdout.toString().trim());
    if (r.exitCode === NOT_FOUND)
      throw new SandboxError('FILE_NOT_FOUND', `No such file in the sandbox: ${rel}`, 'Check the path.');
    if (r.exitCode !== 0) throw new Error(`Reading ${rel} failed: ${r.stderr.trim()}`);
    return new Uint8Array(r.stdout);
  }

  /** Runs `body` on the resolved file "$p" (a regular file inside the workspace); null when there is none. */
  private async onFile(path: string, body: string, args: string[] = [], maxStdout?: number) {
    const rel = this.rel(path);
    const r = await bashScript(
      this.container,
      `${RESOLVE}[ -f "$p" ] || exit ${NOT_FOUND}\n${body}`,
      [rel, ...args],
      { user: this.meta.user, env: [`KLONG_WORKDIR=${this.workdir}`], maxStdout },
    );
    if (r.exitCode === ESCAPE) throw this.escape(path, r.stdout.toString().trim());
    if (r.exitCode === NOT_FOUND) return null;
    if (r.exitCode !== 0) throw new Error(`Reading ${rel} failed: ${r.stderr.trim()}`);
    return r.stdout;
  }

  async fileSize(path: string): Promise<number | null> {
    const out = await this.onFile(path, `stat -c %s -- "$p"`);
    return out === null ? null : Number(out.toString('utf8').trim());
  }

  async fileId(path: string): Promise<{ id: string; size: number } | null> {
    // --stdin without --path: the bytes as they are (no .gitattributes filter), read as a stream.
    const out = await this.onFile(
      path,
      `stat --printf '%s ' -- "$p"; git hash-object --no-filters --stdin < "$p"`,
    );
    if (out === null) return null;
    const [size, id] = out.toString('utf8').trim().split(' ');
    return { id: id!, size: Number(size) };
  }

  baselineId(path: string): Promise<string | null> {
    return baselineBlobId(this.git, this.rel(path));
  }

  async exportFile(path: string, hostFile: string | Buffer): Promise<void> {
    const rel = this.rel(path);
    const r = await streamToFile(
      this.container,
      bashCmd(`${RESOLVE}[ -f "$p" ] || exit ${NOT_FOUND}\nexec cat -- "$p"`, [rel]),
      hostFile,
      { user: this.meta.user, env: [`KLONG_WORKDIR=${this.workdir}`] },
    );
    if (r.exitCode === ESCAPE) throw this.escape(path, '');
    if (r.exitCode === NOT_FOUND)
      throw new SandboxError('FILE_NOT_FOUND', `No such file in the sandbox: ${rel}`, 'Check the path.');
    if (r.exitCode !== 0) throw new Error(`Reading ${rel} failed: ${r.stderr.trim()}`);
  }

  async readLines(path: string, start: number, end: number, maxBytes: number): Promise<LineRange | null> {
    // One pass each for the count and the range, in the container: nothing but the range reaches us.
    const out = await this.onFile(
      path,
      `s=$(stat -c %s -- "$p"); n=$(wc -l < "$p")
[ "$s" -gt 0 ] && [ -n "$(tail -c 1 -- "$p")" ] && n=$((n + 1))
z=$(head -c 8192 -- "$p" | tr -cd '\\000' | wc -c)
printf '%s %s %s\n' "$s" "$n" "$z"
sed -n "$2,$3p;$3q" -- "$p" | head -c "$4"`,
      [String(start), String(end), String(maxBytes + 1)],
      maxBytes + 1 + 256,
    );
    if (out === null) return null;
    const nl = out.indexOf(10);
    const [size, lines, nul] = out.subarray(0, nl).toString('utf8').split(' ').map(Number);
    const body = out.subarray(nl + 1);
    const cut = body.length > maxBytes;
    return {
      size: size!,
      lines: lines!,
      binary: nul! > 0,
      bytes: new Uint8Array(cut ? body.subarray(0, maxBytes) : body),
      cut,
    };
  }

  async writeFile(path: string, data: Uint8Array | string): Promise<void> {
    const rel = this.rel(path);
    // Resolve, make the parent directory, and keep the mode of an existing file (a script stays executable).
    const r = await this.run(
      `${RESOLVE}[ -d "$p" ] && { echo "is a directory"; exit 46; }
mkdir -p -- "$(dirname -- "$p")"
printf '%s\\n%s\\n%s' "$(id -u):$(id -g)" "$(stat -c %a -- "$p" 2>/dev/null || echo 644)" "$p"`,
      [rel],
    );
    if (r.exitCode === ESCAPE) throw this.escape(path, r.stdout.toString().trim());
    if (r.exitCode !== 0)
      throw new Error(`Writing ${rel} failed: ${r.stdout.toString().trim()} ${r.stderr.trim()}`);
    const [ids, mode, real] = decodePath(r.stdout).split('\n');
    const [uid, gid] = (ids ?? '0:0').split(':').map(Number);
    this.owner = { uid: uid ?? 0, gid: gid ?? 0 };
    const abs = real ?? posix.join(this.workdir, rel);
    const tar = tarFromFiles([{ path: posix.basename(abs), data, mode: Number.parseInt(mode ?? '644', 8) }]);
    await this.container.putArchive(tar, { path: posix.dirname(abs) });
    // The engine extracts as root: hand a new file to the shell user (putArchive works on remote engines,
    // where closing an exec's stdin is not always passed on).
    if (this.owner.uid !== 0) {
      const c = await bashScript(
        this.container,
        'chown -h "$1" "$2"',
        [`${this.owner.uid}:${this.owner.gid}`, abs],
        {
          user: 'root',
        },
      );
      if (c.exitCode !== 0) throw new Error(`chown of ${rel} failed: ${c.stderr.trim()}`);
    }
  }

  /** How the last changes() found its answer (diagnostics and tests): the change journal or a full scan. */
  get lastChangesScan(): 'journal' | 'full' | undefined {
    return this.journal.lastScan;
  }

  changes(): Promise<FileChange[]> {
    return listChanges(this.git, this.journal);
  }

  async baselineFile(path: string): Promise<Uint8Array | null> {
    return baselineContent(this.git, this.rel(path));
  }

  async revert(path: string): Promise<void> {
    const rel = this.rel(path);
    // The parent must resolve inside the workspace (the file itself may be a symlink the agent added).
    const parent = posix.dirname(rel);
    if (parent !== '.') await this.realRel(parent);
    this.journal.touched([rel]);
    await revertPath(this.git, rel);
  }

  async acceptIntoBaseline(paths: string[]): Promise<void> {
    const rels = paths.map((p) => this.rel(p));
    this.baselineMoved = true;
    // Their baseline changes without a write in the workspace: the journal would not name them.
    this.journal.touched(rels);
    await acceptPaths(this.git, rels);
  }

  /** Records the workspace as a step commit; undefined when nothing changed since the last one. */
  commitStep(step: number): Promise<string | undefined> {
    return commitStep(this.git, `step ${step}`);
  }

  /** The workspace as it was copied in (the code at step 0). */
  rootCommit(): Promise<string> {
    return rootCommit(this.git);
  }

  /** Workspace back to a step commit, byte for byte; the baseline (and so the proposals' left side) stays. */
  async restoreCommit(commit: string): Promise<void> {
    // Rewrites many files at once: the next changes() scans the whole tree.
    this.journal.invalidate();
    await restoreCommit(this.git, commit);
  }

  /** A rebuilt container: the agent's changes of `commit` against `base` over the user's files (see restoreOnto). */
  async restoreOnto(base: string, commit: string): Promise<void> {
    this.journal.invalidate();
    await restoreOnto(this.git, base, commit);
  }

  diffCommits(from: string, to: string): Promise<string> {
    return diffCommits(this.git, from, to);
  }

  changedBetween(from: string, to: string) {
    return changedBetween(this.git, from, to);
  }

  fileAt(commit: string, path: string): Promise<Uint8Array | null> {
    return contentAt(this.git, commit, this.rel(path));
  }

  /** The pending changes as a git patch (binary included) in a new host file. */
  pendingPatch(hostFile: string): Promise<void> {
    return exportPendingPatch(this.git, hostFile);
  }

  /** Sends the new step commits and the baseline to the session's history on the host. */
  async mirrorHistory(history: HostHistory): Promise<HistoryRefs> {
    const moved = this.baselineMoved;
    this.baselineMoved = false;
    try {
      return await mirrorHistory(this.git, history);
    } catch (err) {
      this.baselineMoved ||= moved;
      throw err;
    }
  }

  /** A new container takes the host history back (step commits and root); see importHostHistory. */
  importHistory(history: HostHistory): Promise<HistoryRefs | undefined> {
    return importHostHistory(this.git, history);
  }

  shadowGitBytes(): Promise<number> {
    return shadowGitBytes(this.git);
  }

  /** Stops the container (files kept; a later openSandbox with the same session starts it again). */
  async stop(): Promise<void> {
    this.shell.dispose();
    this.control.dispose();
    await this.container.stop({ t: 2 }).catch(() => undefined);
  }

  /** Removes the container and everything in it. */
  async remove(): Promise<void> {
    this.shell.dispose();
    this.control.dispose();
    await this.container.remove({ force: true, v: true }).catch(() => undefined);
  }

  /** Detaches: the container keeps running and can be reattached by its session label. */
  async dispose(): Promise<void> {
    this.shell.dispose();
    this.control.dispose();
    this.shell = this.newShell('agent');
    this.control = this.newShell('control');
    this.git.shell = this.control;
  }
}
