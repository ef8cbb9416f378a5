/**
 * Which files changed against the shadow git's baseline: one script asks the change journal's
 * watcher for the paths it saw (or scans the whole tree), runs git status on them with sizes, a
 * binary check and modes, and the output is read into FileChanges. Apart from shadow-git.ts
 * (the baseline itself) because the scan is the long, performance-tuned part.
 */
import {
  type ChangeJournal,
  JOURNAL_MAX_PATHS,
  WATCH_DIR,
  WATCH_SKIP,
  watcherSource,
} from './change-journal';
import { decodePath } from './path-bytes';
import type { FileChange } from './sandbox';
import { ensureExcludes, failed, type GitTarget, gitFast } from './shadow-git';

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
  [ -p "$D/req" ] && read -r pid < "$D/pid" && read -r -d '' cl 2>/dev/null < "/proc/$pid/cmdline" && [ "$cl" = klong-watch ] || return 1
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
  await ensureExcludes(t);
  const now = Date.now();
  const inc = journal?.usable(now) ?? false;
  // The watcher's source only when it may have to be started: the control shell reads each command byte by
  // byte, and a long one costs milliseconds. A watcher found dead on an incremental call is started on the next.
  const args = journal
    ? [inc ? journal.gen! : '', String(journal.offset), journal.id, inc ? '' : watcherSource()]
    : [];
  if (journal && inc) args.push(...journal.pending);
  const r = await gitFast(t, statusScript(!!journal), args, { names: true });
  if (r.exitCode !== 0) throw failed('status', r.stderr);
  const { mode, gen, end, changes: out } = parseScan(decodePath(r.stdout));
  if (journal) {
    if (mode === 'full') journal.lastFull = now;
    journal.lastScan = mode === 'inc' ? 'journal' : 'full';
    journal.gen = gen && gen !== '-' ? gen : undefined;
    journal.offset = Number(end) || 0;
    journal.pending = new Set(out.map((c) => c.path));
  }
  return out;
}

/** The scan: git status over the journal's paths (or the whole tree), then sizes, the binary check and modes. */
function statusScript(withJournal: boolean): string {
  return `mode=full; ps=(); jgen=-; jend=0
${withJournal ? JOURNAL : ''}printf '%s\\t%s\\t%s\\n' "$mode" "$jgen" "$jend"
# Nothing changed since the last call, and nothing was pending: nothing to ask git.
[ $mode = inc ] && (( \${#ps[@]} == 0 )) && exit 0
# A few paths: threads to lstat them in parallel cost more than they save.
[ $mode = inc ] && gi=(-c core.preloadIndex=false) || gi=()
# Nested repositories: not files (an untracked one is listed as "dir/"), their gitlinks are not edits.
mapfile -d '' entries < <(g "\${gi[@]}" status --porcelain=v1 -z --untracked-files=all --no-renames --ignore-submodules=all -- \${ps[@]+"\${ps[@]}"} | { LC_ALL=C grep -a -zv '/$' || true; })
wait $!
exist=(); del=(); mod=()
for e in \${entries[@]+"\${entries[@]}"}; do case \${e:0:2} in *D*) del+=("\${e:3}");; '??'|*A*) exist+=("\${e:3}");; *) exist+=("\${e:3}"); mod+=("\${e:3}");; esac; done
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
  exec {sz}< <(each stat --printf '%s\\t%F %A\\t%n\\0' 2>/dev/null || true)
  each grep -D skip -d skip -I -l -Z -e '' 2>/dev/null || true
  printf '${SEP}\\0'
  mapfile -d '' sizes <&$sz
  (( \${#sizes[@]} )) && printf '%s\\0' "\${sizes[@]}"
else
  printf '${SEP}\\0'
fi
printf '${SEP}\\0'
# Baseline modes of the modified files (the index equals HEAD): a file made executable is told apart.
if (( \${#mod[@]} > 500 )); then g ls-files -s -z; elif (( \${#mod[@]} )); then g ls-files -s -z -- "\${mod[@]}"; fi
printf '${SEP}\\0'
if (( \${#del[@]} )); then
  g diff --numstat -z --diff-filter=D -- \${ps[@]+"\${ps[@]}"}
  printf '${SEP}\\0'
  mapfile -d '' raw < <(g diff --raw -z --no-abbrev --diff-filter=D -- \${ps[@]+"\${ps[@]}"})
  for ((i = 0; i < \${#raw[@]}; i += 2)); do set -- \${raw[i]}; printf '%s %s\\n' "$3" "$i"; done |
    g cat-file --batch-check='%(objectsize) %(rest)' | while read -r size i; do printf '%s %s\\0' "$size" "\${raw[i+1]}"; done
fi
# The control shell saves the script's variables for the next command: not these big ones.
unset entries exist del mod raw jp ps sizes src text unknown r
exit 0`;
}

/** The scan's output: a `mode\tgen\tend` line, then sections split by SEP (see statusScript). */
function parseScan(all: string): { mode?: string; gen?: string; end?: string; changes: FileChange[] } {
  const nl = all.indexOf('\n');
  const [mode, gen, end] = all.slice(0, nl).split('\t');
  const sections = all.slice(nl + 1).split(`${SEP}\0`);
  const fields = (s: string | undefined) => (s ?? '').split('\0').filter((x) => x !== '');
  const status = fields(sections[0]);
  const sizes = new Map<string, { size: number; symlink: boolean; executable?: boolean }>();
  for (const f of fields(sections[2])) {
    const [size, type, ...name] = f.split('\t');
    if (size === undefined || type === undefined) continue;
    // `regular file -rwxr-xr-x`: an x (or s/t) in the owner, group or other slot.
    // No permissions from a watcher started by an older version (it lives as long as its container): unknown.
    const perms = / ([-a-zA-Z?]{10})$/.exec(type)?.[1];
    const executable = perms
      ? type.startsWith('regular') && [3, 6, 9].some((i) => 'xst'.includes(perms[i] ?? ''))
      : undefined;
    sizes.set(name.join('\t'), { size: Number(size), symlink: type.startsWith('symbolic link'), executable });
  }
  const wasExecutable = new Set<string>();
  for (const f of fields(sections[3])) {
    const tab = f.indexOf('\t');
    if (tab > 0 && f.startsWith('100755 ')) wasExecutable.add(f.slice(tab + 1));
  }
  const text = new Set(fields(sections[1]));
  const delBinary = new Set<string>();
  for (const f of fields(sections[4])) {
    const m = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(f);
    if (m && m[1] === '-') delBinary.add(m[3]!);
  }
  const delSize = new Map<string, number>();
  for (const f of fields(sections[5])) {
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
    const kind = xy === '??' || xy.includes('A') ? 'added' : 'modified';
    const modes =
      info?.executable !== undefined
        ? { executable: info.executable, wasExecutable: wasExecutable.has(path) }
        : {};
    out.push({ path, kind, binary, size, ...modes });
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { mode, gen, end, changes: out };
}
