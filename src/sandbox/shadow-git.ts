/**
 * The baseline of the container's workspace copy: a git repository whose git dir lives outside the workspace
 * (so the user's own .git, if the agent makes one, is untouched) and whose index always equals HEAD.
 * `git status` against it is how changes are found: over the paths the change journal names (see
 * change-journal.ts), or over the whole tree (stat cache, no full re-read) when the journal cannot be trusted.
 */
import { createHash } from 'node:crypto';
import type Docker from 'dockerode';
import { type ChangeJournal, JOURNAL_MAX_PATHS, WATCH_DIR, WATCH_SKIP, WATCHER_PY } from './change-journal';
import { SandboxError } from './errors';
import { bashScript, runStreaming } from './exec';
import type { FileChange } from './sandbox';
import { ansiCQuote, type PersistentShell } from './shell';

export const SHADOW_GIT_DIR = '/var/lib/klong/shadow.git';

/** Generated files that are never proposed as edits. */
const SHADOW_EXCLUDES = ['__pycache__/', '*.pyc', '.ipynb_checkpoints/', 'node_modules/'];

// The control shell keeps exported variables between scripts, so the step index that commitStep
// exports must not leak into the next script: every script starts on the baseline's own index.
const PRELUDE = `set -euo pipefail
unset GIT_INDEX_FILE
export GIT_DIR=${SHADOW_GIT_DIR} GIT_WORK_TREE="$KLONG_WORKDIR" GIT_LITERAL_PATHSPECS=1
export GIT_AUTHOR_NAME=klong GIT_AUTHOR_EMAIL=klong@localhost GIT_COMMITTER_NAME=klong GIT_COMMITTER_EMAIL=klong@localhost
g() { git -c safe.directory='*' -c core.quotepath=off "$@"; }
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
}

/** Where the control shell keeps KLong's scripts, named by content hash (so a new version never runs an old one). */
const SCRIPT_DIR = '/var/lib/klong/scripts';
const NO_SCRIPT = 197;

/** Text-output scripts through the control shell; falls back to a one-off exec (which keeps stderr apart). */
export async function gitFast(t: GitTarget, script: string, args: string[] = []) {
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
    if (r.exitCode === 0) return { exitCode: 0, stdout: Buffer.from(r.output, 'utf8'), stderr: '' };
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
  g add -A
  g commit -q --allow-empty --no-verify -m baseline
  g update-ref refs/klong/root HEAD
fi`,
    SHADOW_EXCLUDES,
  );
  if (r.exitCode !== 0) throw failed('init', r.stderr);
}

const SEP = '\x1e';

/**
 * Asks the watcher for the paths changed since the caller's offset (see change-journal.ts); starts it when it
 * is not running. Sets jgen/jend (the position to keep), n (-1: scan everything) and jp (the paths).
 * Builtins only, except when the watcher has to be started.
 */
const JOURNAL = `n=-1; jp=()
want=$1 off=$2 cid=$3 D=${WATCH_DIR} A=${WATCH_DIR}/ack.$3 src=$4; shift 4
klong_sync() {
  local pid t g e c cl
  # Alive and ours (after a container restart the old pid may belong to anything): its argv[0] is klong-watch.
  [ -p "$D/req" ] && read -r pid < "$D/pid" && read -r -d '' cl < "/proc/$pid/cmdline" && [ "$cl" = klong-watch ] || return 1
  [ -p "$A" ] || mkfifo -m 600 "$A" || return 1
  exec {ak}<>"$A" {rq}<>"$D/req"
  t=$BASHPID.$RANDOM$RANDOM
  printf '%s %s %s %s %s\\n' "$t" "$A" "\${want:--}" "$off" ${JOURNAL_MAX_PATHS} >&$rq
  read -r -t 10 -u $ak tok g e c && [ "$tok" = "$t" ] || return 1
  # The paths through a read-only descriptor: should the watcher die mid-reply, that is EOF, not a hang.
  if (( c > 0 )); then
    exec {ar}<"$A" {ak}>&-
    mapfile -d '' -n "$c" -u $ar jp
    (( \${#jp[@]} == c )) || return 1
  fi
  jgen=$g jend=$e n=$c
}
if ! klong_sync 2>/dev/null && [ -n "$src" ] && [ ! -e "$D/broken" ] && command -v python3 >/dev/null; then
  mkdir -p "$D" && (exec -a klong-watch python3 -I -S -c "$src" "$D" "$KLONG_WORKDIR" ${WATCH_SKIP.join(' ')}) </dev/null >/dev/null 2>&1 ||
    echo "the watcher did not start" > "$D/broken" || true
  klong_sync 2>/dev/null || true
fi
if [ -n "$want" ] && [ "$jgen" = "$want" ] && (( n >= 0 )); then
  mode=inc; ps=("$@" \${jp[@]+"\${jp[@]}"})
  # What changes how git sees other paths: ignore rules, attributes, nested repositories.
  for p in \${jp[@]+"\${jp[@]}"}; do case /$p/ in */.git/*|*/.gitignore/|*/.gitattributes/) mode=full; ps=(); break;; esac; done
fi
`;

/**
 * Files changed against the baseline: `git status` plus sizes and a binary check (grep -I), in one script.
 * With a journal, git is asked only about the paths changed since the last call (and the last call's
 * changes); without one, or when the journal cannot be trusted, about the whole tree.
 */
export async function listChanges(t: GitTarget, journal?: ChangeJournal): Promise<FileChange[]> {
  const now = Date.now();
  const inc = journal?.usable(now) ?? false;
  // The watcher's source only when it may have to be started: the control shell reads each command byte by
  // byte, and a long one costs milliseconds. A watcher found dead on an incremental call is started on the next.
  const args = journal
    ? [inc ? journal.gen! : '', String(journal.offset), journal.id, inc ? '' : WATCHER_PY]
    : [];
  if (journal && inc) args.push(...journal.pending);
  const r = await gitFast(
    t,
    `mode=full; ps=(); jgen=-; jend=0
${journal ? JOURNAL : ''}printf '%s\\t%s\\t%s\\n' "$mode" "$jgen" "$jend"
# Nothing changed since the last call, and nothing was pending: nothing to ask git.
[ $mode = inc ] && (( \${#ps[@]} == 0 )) && exit 0
# A few paths: threads to lstat them in parallel cost more than they save.
[ $mode = inc ] && gi=(-c core.preloadIndex=false) || gi=()
mapfile -d '' entries < <(g "\${gi[@]}" status --porcelain=v1 -z --untracked-files=all --no-renames -- \${ps[@]+"\${ps[@]}"})
wait $!
exist=(); del=()
for e in \${entries[@]+"\${entries[@]}"}; do case \${e:0:2} in *D*) del+=("\${e:3}");; *) exist+=("\${e:3}");; esac; done
(( \${#entries[@]} )) && printf '%s\\0' "\${entries[@]}"
printf '${SEP}\\0'
# Few paths: straight to stat/grep; many: through xargs (argument length limit).
each() { if (( \${#exist[@]} > 500 )); then printf '%s\\0' "\${exist[@]}" | xargs -0 "$@" --; else "$@" -- "\${exist[@]}"; fi; }
# Sizes and the binary check: from the watcher when it runs (no process to start), else stat and grep.
klong_info() {
  local t tok ns nt nu r
  [ "$jgen" != - ] && printf '%s\\0' "\${exist[@]}" > "$D/q.$cid" || return 1
  exec {ak}<>"$A"
  t=$BASHPID.$RANDOM$RANDOM
  printf 'S %s %s\\n' "$t" "$cid" >&$rq
  read -r -t 10 -u $ak tok ns nt nu && [ "$tok" = "$t" ] && (( ns >= 0 )) || return 1
  mapfile -d '' r < "$D/r.$cid"
  (( \${#r[@]} == ns + nt + nu )) || return 1
  sizes=("\${r[@]:0:ns}") text=("\${r[@]:ns:nt}") unknown=("\${r[@]:ns+nt:nu}")
}
if (( \${#exist[@]} )) && klong_info 2>/dev/null; then
  (( \${#text[@]} )) && printf '%s\\0' "\${text[@]}"
  if (( \${#unknown[@]} )); then grep -D skip -d skip -I -l -Z -e '' -- "\${unknown[@]}" 2>/dev/null || true; fi
  printf '${SEP}\\0'
  (( \${#sizes[@]} )) && printf '%s\\0' "\${sizes[@]}"
elif (( \${#exist[@]} )); then
  # Side by side (the sizes are read back after grep's output).
  exec {sz}< <(each stat --printf '%s\\t%F\\t%n\\0' 2>/dev/null || true)
  each grep -D skip -d skip -I -l -Z -e '' 2>/dev/null || true
  printf '${SEP}\\0'
  mapfile -d '' sizes <&$sz
  (( \${#sizes[@]} )) && printf '%s\\0' "\${sizes[@]}"
else
  printf '${SEP}\\0'
fi
printf '${SEP}\\0'
if (( \${#del[@]} )); then
  g diff --numstat -z --diff-filter=D -- \${ps[@]+"\${ps[@]}"}
  printf '${SEP}\\0'
  mapfile -d '' raw < <(g diff --raw -z --no-abbrev --diff-filter=D -- \${ps[@]+"\${ps[@]}"})
  for ((i = 0; i < \${#raw[@]}; i += 2)); do set -- \${raw[i]}; printf '%s %s\\n' "$3" "$i"; done |
    g cat-file --batch-check='%(objectsize) %(rest)' | while read -r size i; do printf '%s %s\\0' "$size" "\${raw[i+1]}"; done
fi
# The control shell saves the script's variables for the next command: not these big ones.
unset entries exist del raw jp ps sizes src text unknown r
exit 0`,
    args,
  );
  if (r.exitCode !== 0) throw failed('status', r.stderr);
  const all = r.stdout.toString('utf8');
  const nl = all.indexOf('\n');
  const [mode, gen, end] = all.slice(0, nl).split('\t');
  const sections = all.slice(nl + 1).split(`${SEP}\0`);
  const fields = (s: string | undefined) => (s ?? '').split('\0').filter((x) => x !== '');
  const status = fields(sections[0]);
  const sizes = new Map<string, { size: number; symlink: boolean }>();
  for (const f of fields(sections[2])) {
    const [size, type, ...name] = f.split('\t');
    if (size === undefined || type === undefined) continue;
    sizes.set(name.join('\t'), { size: Number(size), symlink: type === 'symbolic link' });
  }
  const text = new Set(fields(sections[1]));
  const delBinary = new Set<string>();
  for (const f of fields(sections[3])) {
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(f);
    if (m && m[1] === '-') delBinary.add(m[3]!);
  }
  const delSize = new Map<string, number>();
  for (const f of fields(sections[4])) {
    const sp = f.indexOf(' ');
    if (sp > 0) delSize.set(f.slice(sp + 1), Number(f.slice(0, sp)));
  }
  const out: FileChange[] = [];
  for (const e of status) {
    const xy = e.slice(0, 2);
    const path = e.slice(3);
    if (xy.includes('D')) {
      out.push({ path, kind: 'deleted', binary: delBinary.has(path), size: delSize.get(path) ?? 0 });
      continue;
    }
    const info = sizes.get(path);
    const size = info?.size ?? 0;
    const binary = size > 0 && !info?.symlink && !text.has(path);
    out.push({ path, kind: xy === '??' || xy.includes('A') ? 'added' : 'modified', binary, size });
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (journal) {
    if (mode === 'full') journal.lastFull = now;
    journal.lastScan = mode === 'inc' ? 'journal' : 'full';
    journal.gen = gen && gen !== '-' ? gen : undefined;
    journal.offset = Number(end) || 0;
    journal.pending = new Set(out.map((c) => c.path));
  }
  return out;
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

/** Bytes the shadow git takes on disk (objects, packs, indexes). */
export async function shadowGitBytes(t: GitTarget): Promise<number> {
  const r = await git(t, `du -sb "$GIT_DIR" | cut -f1`);
  if (r.exitCode !== 0) throw failed('du', r.stderr);
  return Number(r.stdout.toString('utf8').trim());
}
