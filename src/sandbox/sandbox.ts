/** Where the agent's commands run and its files live: a container with its own copy of the workspace. */

export interface ExecOptions {
  /** Milliseconds; on expiry the whole process group is killed. */
  timeoutMs?: number;
  /** Bytes of output kept (head + tail); the rest is counted, not stored. */
  outputCap?: number;
  signal?: AbortSignal;
  onOutput?: (chunk: string) => void;
}

export interface ExecResult {
  exitCode: number | null;
  /** stdout and stderr interleaved, capped head + tail. */
  output: string;
  /** Total bytes produced, including what the cap dropped. */
  totalBytes: number;
  truncated: boolean;
  timedOut: boolean;
  durationMs: number;
}

export type ChangeKind = 'added' | 'modified' | 'deleted';

export interface FileChange {
  /** Workspace-relative POSIX path. */
  path: string;
  kind: ChangeKind;
  binary: boolean;
  size: number;
  /** Executable (any x bit) in the sandbox now; absent when not known or deleted. */
  executable?: boolean;
  /** Executable at the baseline (false for an added file); absent when not known. */
  wasExecutable?: boolean;
}

export interface Sandbox {
  /** Absolute path of the workspace copy inside the sandbox (e.g. /workspace). */
  readonly workdir: string;
  /** Run a command in the session's persistent shell (cwd and env persist). */
  exec(command: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Workspace-relative paths; reject paths that escape the workspace. */
  readFile(path: string): Promise<Uint8Array>;
  writeFile(path: string, data: Uint8Array | string): Promise<void>;
  /** Files changed against the baseline. */
  changes(): Promise<FileChange[]>;
  /** Content of a file at the baseline, or null if it did not exist there. */
  baselineFile(path: string): Promise<Uint8Array | null>;
  /** Put a file back to its baseline state (deleting it if it was added). */
  revert(path: string): Promise<void>;
  /** Make the current content of these paths part of the baseline (after the user accepts them). */
  acceptIntoBaseline(paths: string[]): Promise<void>;
  dispose(): Promise<void>;
  // Optional streaming access, so that memory stays bounded whatever the file size (callers fall
  // back to readFile/baselineFile where a sandbox lacks them).
  /** Size in bytes of a regular file, or null when there is none. */
  fileSize?(path: string): Promise<number | null>;
  /** Git blob id (SHA-1 of "blob <size>\0" + bytes) and size of a file, or null when there is none. */
  fileId?(path: string): Promise<{ id: string; size: number } | null>;
  /** Git blob id of a file at the baseline, or null when it was not there. */
  baselineId?(path: string): Promise<string | null>;
  /** Streams a file's bytes into a new file on the host. */
  exportFile?(path: string, hostFile: string | Buffer): Promise<void>;
  /** Lines start..end (1-based, inclusive) of a file, at most maxBytes of them, with its size and line count. */
  readLines?(path: string, start: number, end: number, maxBytes: number): Promise<LineRange | null>;
  /**
   * A bash script as its own short exec (as the shell's user, outside the agent's shell, so it does
   * not wait behind a running command): `bash -c script klong args...`. Stdout beyond maxStdout is dropped.
   */
  runScript?(script: string, args: string[], opts?: { maxStdout?: number }): Promise<ScriptRun>;
}

export interface ScriptRun {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

export interface LineRange {
  size: number;
  /** Number of lines (a last line without a newline counts). */
  lines: number;
  /** A NUL byte in the first 8 KB. */
  binary: boolean;
  /** The bytes of the requested lines, cut at maxBytes. */
  bytes: Uint8Array;
  /** maxBytes cut the range. */
  cut: boolean;
}

/** A path inside the workspace, or an error saying why not. Shared by every Sandbox implementation. */
export function resolveWorkspacePath(path: string): string {
  const parts: string[] = [];
  // POSIX: a backslash is part of a file name (git and Linux allow it), not a separator.
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new Error(`Path escapes the workspace: ${path}`);
      parts.pop();
    } else parts.push(part);
  }
  if (path.startsWith('/')) throw new Error(`Use a path relative to the workspace, not ${path}`);
  if (parts.length === 0) throw new Error(`Not a file path: ${path || '(empty)'}`);
  return parts.join('/');
}

/** True for a path with a `.git` component in any letter case: a repository's insides, never an edit. */
export function isInsideGitDir(path: string): boolean {
  return path.split('/').some((part) => part.toLowerCase() === '.git');
}
