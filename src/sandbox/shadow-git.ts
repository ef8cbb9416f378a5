/**
 * The baseline of the container's workspace copy: a git repository whose git dir lives outside the workspace
 * (so the user's own .git, if the agent makes one, is untouched) and whose index always equals HEAD.
 * `git status` against it is how changes are found: over the paths the change journal names (see
 * change-journal.ts), or over the whole tree (stat cache, no full re-read) when the journal cannot be trusted.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { SandboxError } from './errors';
import { bashScript, runStreaming, streamToFile } from './exec';
import { ansiCQuote, type PersistentShell } from './shell';

export const SHADOW_GIT_DIR = '/var/lib/klong/shadow.git';

/**
 * `.git` in any letter case, at any depth: git refuses such paths ("invalid path", which failed every
 * later step commit), and a repository's insides are never the agent's edits nor part of the history.
 */
export const GIT_DIR_EXCLUDE = '.[gG][iI][tT]';

/** Generated files that are never proposed as edits. */
const SHADOW_EXCLUDES = ['__pycache__/', '*.pyc', '.ipynb_checkpoints/', 'node_modules/', GIT_DIR_EXCLUDE];

/** Baselines made before GIT_DIR_EXCLUDE existed get it on first use (a container outlives an upgrade). */
const ENSURE_EXCLUDES = `grep -qxF '${GIT_DIR_EXCLUDE}' "$GIT_DIR/info/exclude" 2>/dev/null || printf '%s\\n' '${GIT_DIR_EXCLUDE}' >> "$GIT_DIR/info/exclude"
`;

/** Runs ENSURE_EXCLUDES once per target. */
export async function ensureExcludes(t: GitTarget): Promise<void> {
  if (t.excludesChecked) return;
  const r = await git(t, ENSURE_EXCLUDES);
  if (r.exitCode !== 0) throw failed('exclude', r.stderr);
  t.excludesChecked = true;
}

// The control shell keeps exported variables between scripts, so the step index that commitStep
// exports must not leak into the next script: every script starts on the baseline's own index.
const PRELUDE = `set -euo pipefail
unset GIT_INDEX_FILE
export GIT_DIR=${SHADOW_GIT_DIR} GIT_WORK_TREE="$KLONG_WORKDIR" GIT_LITERAL_PATHSPECS=1
export GIT_AUTHOR_NAME=klong GIT_AUTHOR_EMAIL=klong@localhost GIT_COMMITTER_NAME=klong GIT_COMMITTER_EMAIL=klong@localhost
# Loose objects stored without zlib: deflating a large file at accept time costs ~10× hashing it (and
# model weights do not compress); the background gc packs, and compresses, them later.
g() { git -c safe.directory='*' -c core.quotepath=off -c core.looseCompression=0 "$@"; }
# The whole tree into the index. A nested repository (a folder with its own .git) is a gitlink to git:
# its files cannot be tracked, and one without a commit fails the whole add; it is passed over, and
# every other error still fails.
add_all() {
  local e
  e=$(g add -A --ignore-errors 2>&1 >/dev/null) && return 0
  if printf '%s\n' "$e" | grep -v -e 'does not have a commit checked out' -e '^hint:' -e '^warning: adding embedded' -e '^warning: in the working copy' | grep -q .; then
    printf '%s\n' "$e" >&2
    return 1
  fi
}
cd "$KLONG_WORKDIR"
`;

export interface GitTarget {
  container: Docker.Container;
  workdir: string;
  user?: string;
  /** A persistent shell for KLong's own commands: saves the exec create/start/inspect round trips. */
  shell?: PersistentShell;
  /** Script files already written into the container through this shell (see gitFast). */
  scripts?: Set<string>;
  /** ensureExcludes ran. */
  excludesChecked?: boolean;
}

/** Where the control shell keeps KLong's scripts, named by content hash (so a new version never runs an old one). */
const SCRIPT_DIR = '/var/lib/klong/scripts';
const NO_SCRIPT = 197;

/** Text-output scripts through the control shell; falls back to a one-off exec (which keeps stderr apart). */
export async function gitFast(
  t: GitTarget,
  script: string,
  args: string[] = [],
  /** The output lists file names: re-run through an exec (raw bytes) when the shell's text lost some. */
  opts: { names?: boolean } = {},
) {
  if (t.shell) {
    // Runs in the shell's own subshell: no extra bash, no exec round trip; stderr is dropped so that it cannot
    // mix with the parsed output (a failure is re-run below through an exec that keeps it).
    const head = `exec 2>/dev/null; set -- ${args.map(ansiCQuote).join(' ')}; KLONG_WORKDIR=${ansiCQuote(t.workdir)}\n`;
    // The shell reads its input byte by byte (≈5 ms per KB on a busy machine), so the script itself is written
    // to a file once and sourced from there (buffered reads); only the arguments travel each time.
    const body = PRELUDE + script;
    const file = `${SCRIPT_DIR}/${createHash('sha1').update(body).digest('hex').slice(0, 16)}.sh`;
    t.scripts ??= new Set();
    const install = t.scripts.has(file)
      ? ''
      : `mkdir -p ${SCRIPT_DIR} && printf '%s' ${ansiCQuote(body)} > ${file}.$BASHPID && mv -f ${file}.$BASHPID ${file}\n`;
    let r = await t.shell.exec(`${head}${install}[ -r ${file} ] || exit ${NO_SCRIPT}\n. ${file}`, {
      outputCap: 512 * 1024 * 1024,
    });
    if (r.exitCode === NO_SCRIPT) {
      // Removed behind our back, or the directory is not writable: install next time, run inline now.
      t.scripts.delete(file);
      r = await t.shell.exec(head + body, { outputCap: 512 * 1024 * 1024 });
    } else t.scripts.add(file);
    const lossy = opts.names && r.output.includes('\uFFFD');
    if (r.exitCode === 0 && !lossy) return { exitCode: 0, stdout: Buffer.from(r.output, 'utf8'), stderr: '' };
  }
  return git(t, script, args);
}

export async function git(t: GitTarget, script: string, args: string[] = [], maxStdout?: number) {
  const r = await bashScript(t.container, PRELUDE + script, args, {
    user: t.user,
    env: [`KLONG_WORKDIR=${t.workdir}`],
    maxStdout,
  });
  if (r.exitCode === 127 && /git: command not found|git: not found/.test(r.stderr))
    throw new SandboxError(
      'TOOL_MISSING',
      'The sandbox image has no git, which KLong needs to track the agent’s changes.',
      'Add git to the image (e.g. `apt-get install -y git` in the Dockerfile, or the devcontainers "git" feature).',
    );
  return r;
}

/** A script whose stdout is handed on as it comes (binary, any size; see runStreaming). */
export function gitStream(
  t: GitTarget,
  script: string,
  args: string[],
  onStdout: (chunk: Buffer) => Promise<void> | void,
) {
  return runStreaming(t.container, ['bash', '-c', PRELUDE + script, 'klong', ...args], onStdout, {
    user: t.user,
    env: [`KLONG_WORKDIR=${t.workdir}`],
  });
}

export function failed(what: string, stderr: string): Error {
  return new Error(`Shadow git ${what} failed: ${stderr.trim().slice(-2000)}`);
}

/** Creates the baseline from the current workspace content (idempotent: an existing baseline is kept). */
export async function initBaseline(t: GitTarget): Promise<void> {
  const r = await git(
    t,
    `if [ ! -f "$GIT_DIR/HEAD" ]; then
  g init -q
  g config core.autocrlf false; g config core.fileMode true; g config gc.auto 0; g config status.showUntrackedFiles all
  # Unchanged directories are not re-read on every status (their mtime is cached in the index).
  g config core.untrackedCache true
  printf '%s\\n' "$@" > "$GIT_DIR/info/exclude"
  add_all
  g commit -q --allow-empty --no-verify -m baseline
  g update-ref refs/klong/root HEAD
fi`,
    SHADOW_EXCLUDES,
  );
  if (r.exitCode !== 0) throw failed('init', r.stderr);
}

/** Content of a file at the baseline, or null if it was not there. */
export async function baselineContent(t: GitTarget, rel: string): Promise<Uint8Array | null> {
  const r = await git(
    t,
    `if g cat-file -e "HEAD:$1" 2>/dev/null; then g cat-file blob "HEAD:$1"; else exit 44; fi`,
    [rel],
  );
  if (r.exitCode === 44) return null;
  if (r.exitCode !== 0) throw failed('show', r.stderr);
  return new Uint8Array(r.stdout);
}

/** Git blob id of a file at the baseline, or null if it was not there. */
export async function baselineBlobId(t: GitTarget, rel: string): Promise<string | null> {
  const r = await gitFast(t, `g rev-parse -q --verify "HEAD:$1" 2>/dev/null || true`, [rel]);
  if (r.exitCode !== 0) throw failed('rev-parse', r.stderr);
  const id = r.stdout.toString('utf8').trim();
  return /^[0-9a-f]{40,64}$/.test(id) ? id : null;
}

/** Back to the baseline: restored if it existed there, removed if it was added. */
export async function revertPath(t: GitTarget, rel: string): Promise<void> {
  const r = await gitFast(
    t,
    `if g cat-file -e "HEAD:$1" 2>/dev/null; then
  g checkout -q HEAD -- "$1"
else
  rm -f -- "$1"
  d=$(dirname -- "$1"); [ "$d" = . ] || rmdir -p --ignore-fail-on-non-empty -- "$d" 2>/dev/null || true
fi`,
    [rel],
  );
  if (r.exitCode !== 0) throw failed('revert', r.stderr);
}

/** Current content of these paths becomes the baseline (added, modified or deleted alike). */
export async function acceptPaths(t: GitTarget, rels: string[]): Promise<void> {
  if (rels.length === 0) return;
  const r = await gitFast(
    t,
    `printf '%s\\0' "$@" | g add -A --pathspec-from-file=- --pathspec-file-nul
g commit -q --allow-empty --no-verify -m accept`,
    rels,
  );
  if (r.exitCode !== 0) throw failed('accept', r.stderr);
}

/**
 * Every change against the baseline (what is still proposed) as a patch for `git apply`, written by
 * git itself into a new host file: paths quoted the way git quotes them, binary files included
 * (--binary), streamed so that its size does not matter. The baseline's index is not touched.
 */
export async function exportPendingPatch(t: GitTarget, hostFile: string): Promise<void> {
  await ensureExcludes(t);
  const script = `${PRELUDE}export GIT_INDEX_FILE=$(mktemp)
trap 'rm -f "$GIT_INDEX_FILE"' EXIT
cp "$GIT_DIR/index" "$GIT_INDEX_FILE"
add_all
g -c core.quotepath=true diff --cached --binary --full-index --no-color --no-ext-diff --no-textconv --no-renames HEAD --`;
  const r = await streamToFile(t.container, ['bash', '-c', script, 'klong'], hostFile, {
    user: t.user,
    env: [`KLONG_WORKDIR=${t.workdir}`],
  });
  if (r.exitCode !== 0) throw failed('diff', r.stderr);
}

/** Bytes the shadow git takes on disk (objects, packs, indexes). */
export async function shadowGitBytes(t: GitTarget): Promise<number> {
  const r = await git(t, `du -sb "$GIT_DIR" | cut -f1`);
  if (r.exitCode !== 0) throw failed('du', r.stderr);
  return Number(r.stdout.toString('utf8').trim());
}
