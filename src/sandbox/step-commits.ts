/** Step checkpoints of the shadow git: commit, restore and compare the workspace as it was after a step. */
import { parseNameStatus } from './name-status';
import { decodePath } from './path-bytes';
import { ensureExcludes, failed, type GitTarget, git, gitFast } from './shadow-git';

/**
 * Step checkpoints: each file-changing step records the whole workspace as a commit on
 * refs/klong/steps, through an index of its own (the baseline's HEAD and index, which define the
 * proposals, are untouched). Commits share unchanged blobs and trees, so each costs only its delta;
 * `git gc --auto` packs them in the background. Every step commit stays reachable from the ref, so
 * abandoned branches of a rewind are never pruned.
 */
const STEPS_REF = 'refs/klong/steps';
/** Packs up to this size come back inline through the control shell (base64). */
const INLINE_PACK_MAX = 4 * 1024 * 1024;
/** Names the root commit in a ref, so that a container rebuilt from the history keeps step 0. */
export const ROOT_REF = 'refs/klong/root';
const STEPS_ENV = `export GIT_INDEX_FILE="$GIT_DIR/klong-steps.index"
[ -f "$GIT_INDEX_FILE" ] || g read-tree "$(g rev-parse -q --verify "${STEPS_REF}^{tree}" || g rev-parse 'HEAD^{tree}')"
`;

/** The first commit of the baseline: the workspace as copied in, before any step. */
export async function rootCommit(t: GitTarget): Promise<string> {
  const r = await gitFast(
    t,
    `g rev-parse -q --verify "${ROOT_REF}" || g rev-list --max-parents=0 HEAD | tail -n 1`,
  );
  if (r.exitCode !== 0) throw failed('rev-list', r.stderr);
  return r.stdout.toString('utf8').trim();
}

/**
 * Commits the workspace as it is now, if it differs from the last step commit (or, before the
 * first one, from the root baseline). Returns the commit, or undefined when nothing changed.
 */
export async function commitStep(t: GitTarget, message: string): Promise<string | undefined> {
  await ensureExcludes(t);
  const r = await gitFast(
    t,
    `${STEPS_ENV}add_all
tree=$(g write-tree)
prev=$(g rev-parse -q --verify "${STEPS_REF}" || true)
last=$(g rev-parse "\${prev:-$(g rev-parse -q --verify "${ROOT_REF}" || g rev-list --max-parents=0 HEAD | tail -n 1)}^{tree}")
[ "$tree" = "$last" ] && exit 0
c=$(g commit-tree "$tree" \${prev:+-p "$prev"} -m "$1")
g update-ref "${STEPS_REF}" "$c"
printf '%s' "$c"
# Pack loose objects now and then, detached so that the step does not wait for it.
( g -c gc.auto=2000 -c gc.autoDetach=true gc --auto --quiet </dev/null >/dev/null 2>&1 & )`,
    [message],
  );
  if (r.exitCode !== 0) throw failed('step commit', r.stderr);
  const out = r.stdout.toString('utf8').trim();
  return out || undefined;
}

/**
 * Puts the workspace back to a commit, byte for byte (additions removed, deletions restored, modes
 * kept), touching only the files that differ. Ignored files (caches) are left alone.
 */
export async function restoreCommit(t: GitTarget, commit: string): Promise<void> {
  await ensureExcludes(t);
  const r = await gitFast(
    t,
    `g cat-file -e "$1^{commit}" || { echo "unknown commit $1" >&2; exit 3; }
${STEPS_ENV}add_all
g read-tree --reset -u "$1"
# The ref's tip must be the workspace now, so that the next step commits (or not) against it; the
# new tip keeps the old one as parent, so no step commit ever becomes unreachable.
prev=$(g rev-parse -q --verify "${STEPS_REF}" || true)
if [ -n "$prev" ] && [ "$(g rev-parse "$prev^{tree}")" != "$(g rev-parse "$1^{tree}")" ]; then
  g update-ref "${STEPS_REF}" "$(g commit-tree "$1^{tree}" -p "$prev" -p "$1" -m "rewind")"
fi`,
    [commit],
  );
  if (r.exitCode !== 0) throw failed('rewind', r.stderr);
}

/** Unified diff between two commits (binary files as git's "Binary files … differ"). */
export async function diffCommits(t: GitTarget, from: string, to: string): Promise<string> {
  const r = await git(t, `g diff --no-color --no-ext-diff --no-renames "$1" "$2" --`, [from, to]);
  if (r.exitCode !== 0) throw failed('diff', r.stderr);
  return r.stdout.toString('utf8');
}

/** Paths that differ between two commits, with how they changed. */
export async function changedBetween(
  t: GitTarget,
  from: string,
  to: string,
): Promise<{ path: string; kind: 'added' | 'modified' | 'deleted' }[]> {
  const r = await gitFast(t, `g diff --name-status -z --no-renames "$1" "$2" --`, [from, to], {
    names: true,
  });
  if (r.exitCode !== 0) throw failed('diff', r.stderr);
  return parseNameStatus(decodePath(r.stdout));
}

/** A file's content at a commit, or null if it was not there. */
export async function contentAt(t: GitTarget, commit: string, rel: string): Promise<Uint8Array | null> {
  const r = await git(
    t,
    `if g cat-file -e "$1:$2" 2>/dev/null; then g cat-file blob "$1:$2"; else exit 44; fi`,
    [commit, rel],
  );
  if (r.exitCode === 44) return null;
  if (r.exitCode !== 0) throw failed('show', r.stderr);
  return new Uint8Array(r.stdout);
}

/** The container's history refs: its step tip, its baseline (HEAD) and its root (step 0). */
export interface ShadowRefs {
  steps?: string;
  baseline: string;
  root: string;
}

/**
 * Sends what the host's history lacks: prints `steps baseline root` on one line; then, when a tip is
 * new, a thin pack of the objects reachable from the new tips and not from the host's tips (given
 * as arguments; the host holds every object reachable from them). The pack is the step's delta, and
 * git's sparse walk (pack.useSparse) follows only the changed paths, so the cost does not grow with
 * the history. Runs through the control shell (a one-off exec costs several times more): a small
 * pack comes back inline as `B64 size` and base64, a big one as `FILE path size` for a streaming read.
 */
export const MIRROR_SCRIPT = `steps= root=
while read -r name oid; do
  case $name in ${STEPS_REF}) steps=$oid;; ${ROOT_REF}) root=$oid;; esac
done < <(g for-each-ref --format='%(refname) %(objectname)' refs/klong/)
base=$(g rev-parse HEAD)
[ -n "$root" ] || root=$(g rev-list --max-parents=0 HEAD | tail -n 1)
printf '%s %s %s\n' "\${steps:--}" "$base" "$root"
new=()
for t in $steps $base $root; do
  case " $* " in *" $t "*) ;; *) new+=("$t");; esac
done
(( \${#new[@]} )) || exit 0
f=/var/lib/klong/mirror.$BASHPID.pack
# Against the host's tips; should one be unknown here, the whole history instead (still correct).
printf '%s\n' "\${new[@]}" "\${@/#/^}" | g pack-objects --revs --stdout --thin -q > "$f" 2>/dev/null ||
  printf '%s\n' "\${new[@]}" | g pack-objects --revs --stdout -q > "$f"
sz=$(stat -c %s "$f")
if (( sz <= ${INLINE_PACK_MAX} )) && command -v base64 >/dev/null; then
  printf 'B64 %s\n' "$sz"; base64 -w0 < "$f"; rm -f "$f"
else
  printf 'FILE %s %s\n' "$f" "$sz"
fi
`;

/**
 * A rebuilt container takes the session's history back: the pack at `packPath` (every object of
 * the host's history) goes into the shadow git, the step ref and the root are set, and the pack
 * file is removed. The baseline (HEAD) stays the user's files as copied in.
 */
export async function importHistory(
  t: GitTarget,
  packPath: string,
  refs: { steps?: string; root?: string; baseline?: string },
): Promise<void> {
  const r = await git(
    t,
    `g index-pack --stdin < "$1" >/dev/null
rm -f -- "$1"
[ -z "$2" ] || g update-ref "${STEPS_REF}" "$2"
[ -z "$3" ] || g update-ref "${ROOT_REF}" "$3"
[ -z "$4" ] || g update-ref refs/klong/prior-baseline "$4"
rm -f "$GIT_DIR/klong-steps.index"`,
    [packPath, refs.steps ?? '', refs.root ?? '', refs.baseline ?? ''],
  );
  if (r.exitCode !== 0) throw failed('history import', r.stderr);
}

/**
 * A rebuilt container's workspace: the user's files as copied in, plus the agent's changes of
 * `commit` against `base` (the accepted state the old container had). Paths the agent changed take
 * the commit's version (or go, if it deleted them); every other path keeps the user's file, so files
 * the user added or edited meanwhile are neither proposed for deletion nor undone.
 */
export async function restoreOnto(t: GitTarget, base: string, commit: string): Promise<void> {
  const r = await git(
    t,
    `g cat-file -e "$1^{commit}" && g cat-file -e "$2^{commit}" || { echo "unknown commit $1 or $2" >&2; exit 3; }
mapfile -d '' f < <(g diff --name-status -z --no-renames "$1" "$2" --)
put=()
for ((i = 0; i + 1 < \${#f[@]}; i += 2)); do
  p=\${f[i+1]}
  if [ "\${f[i]}" = D ]; then
    rm -f -- "$p"; d=$(dirname -- "$p"); [ "$d" = . ] || rmdir -p --ignore-fail-on-non-empty -- "$d" 2>/dev/null || true
  else put+=("$p"); fi
done
if (( \${#put[@]} )); then
  export GIT_INDEX_FILE="$GIT_DIR/klong-restore.index"
  g read-tree "$2"
  printf '%s\\0' "\${put[@]}" | g checkout-index -f -z --stdin
  rm -f "$GIT_INDEX_FILE"
fi`,
    [base, commit],
  );
  if (r.exitCode !== 0) throw failed('restore', r.stderr);
}
