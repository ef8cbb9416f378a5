/**
 * Background jobs in the container: a long command (a training run) started with job_start keeps
 * running while the agent does other things or waits with job_wait, which costs no model request.
 *
 * The container is the truth about a job: each has a folder under JOBS_DIR with its command, its
 * output (`log`), the pid and kernel start time of its process-group leader (so a reused pid after a
 * container restart is not mistaken for the job), and an `exit` file written when it ends. Everything
 * there is done by one small bash script (coreutils only); the host keeps what the events say
 * (`job_started`, `job_ended`), so a resume can tell a job that still runs from one that was lost.
 */
import type { Sandbox } from '../sandbox/sandbox';

export const JOBS_DIR = '/var/lib/klong/jobs';

/** What the session knows of a job (folded from its events; part of the loop state). */
export interface JobRecord {
  id: string;
  name: string;
  command: string;
  step: number;
  /** Host time the job started (ms). */
  startedAt: number;
  ended?: { state: JobEndState; exitCode: number | null; at: number };
}

export type JobEndState = 'exited' | 'stopped' | 'lost';
export type JobState = 'running' | JobEndState | 'missing';

/** One job as the container sees it now. */
export interface JobStatus {
  id: string;
  state: JobState;
  exitCode: number | null;
  /** Container clock (ms): start, end (when ended), and now. */
  start: number;
  end: number | null;
  now: number;
  /** Bytes of output so far. */
  size: number;
  /** The last lines asked for (raw bytes as text; see cleanLines). */
  tail: string;
}

/** The status of a job the container does not have (it was recreated, or the lookup failed). */
export function missingJob(id: string, now = 0): JobStatus {
  return { id, state: 'missing', exitCode: null, start: 0, end: null, now, size: 0, tail: '' };
}

/** "j1 (train)", or just "j1" when the job has no other name. */
export function jobLabel(id: string, jobs: Record<string, JobRecord> | undefined): string {
  const name = jobs?.[id]?.name;
  return name && name !== id ? `${id} (${name})` : id;
}

/**
 * The container side. $1 = jobs dir, $2 = operation. A job's process-group leader is the wrapper
 * started by setsid; it runs the command with output to `log` and writes `exit` when it ends. A stop
 * kills the whole group (TERM, then KILL after 5 s) and writes `exit` itself when the wrapper died.
 */
export const JOBS_SCRIPT = `D=$1; op=$2; shift 2
now() { date +%s%3N; }
# "state starttime" of a pid from /proc (the comm field may hold spaces and parentheses).
pinfo() { local s; read -r s < "/proc/$1/stat" 2>/dev/null || return 1; s=\${s##*) }; set -f; set -- $s; set +f; echo "$1 \${20}"; }
alive() {
  local pid i; pid=$(cat "$1/pid" 2>/dev/null) || return 1
  i=$(pinfo "$pid") || return 1
  [ "\${i%% *}" != Z ] && [ "\${i#* }" = "$(cat "$1/pstart" 2>/dev/null)" ]
}
# Any live (not zombie) process left in process group $1.
group_alive() {
  local f s
  for f in /proc/[0-9]*/stat; do
    read -r s < "$f" 2>/dev/null || continue; s=\${s##*) }; set -f; set -- $s; set +f
    [ "$3" = "$G" ] && [ "$1" != Z ] && return 0
  done
  return 1
}
state() {
  local j=$D/$1
  if [ ! -d "$j" ]; then echo "missing -"
  elif [ -f "$j/exit" ]; then
    if [ -f "$j/stopped" ]; then echo "stopped $(cat "$j/exit")"; else echo "exited $(cat "$j/exit")"; fi
  elif alive "$j"; then echo "running -"
  elif [ ! -f "$j/pid" ] && [ $(( $(now) - $(cat "$j/start" 2>/dev/null || echo 0) )) -lt 10000 ]; then echo "running -"
  elif [ -f "$j/stopped" ]; then echo "stopped -"
  else echo "lost -"; fi
}
line() { # id tail-lines: one tab-separated status line, the tail base64-encoded
  local j=$D/$1 t=""
  [ "$2" -gt 0 ] && [ -f "$j/log" ] && t=$(tail -n "$2" -- "$j/log" | tail -c $(( $2 * 400 )) | base64 -w0)
  printf '%s\\t%s\\t%s\\t%s\\t%s\\t%s\\n' "$1" "$(state "$1" | tr ' ' '\\t')" "$(cat "$j/start" 2>/dev/null || echo 0)" \\
    "$(cat "$j/end" 2>/dev/null || echo -)" "$(stat -c %s -- "$j/log" 2>/dev/null || echo 0)" "$t"
}
case $op in
start) # id name command
  mkdir -p -- "$D" || exit 2
  j=$D/$1
  mkdir -- "$j" || { echo "a job $1 exists already"; exit 3; }
  printf '%s' "$2" > "$j/name"; printf '%s' "$3" > "$j/cmd"; now > "$j/start"; : > "$j/log"
  setsid bash -c 'j=$1
i=$(cat /proc/$$/stat); i=\${i##*) }; set -f; set -- $i; echo "\${20}" > "$j/pstart"; echo $$ > "$j/pid"
bash -c "$(cat "$j/cmd")" >> "$j/log" 2>&1 < /dev/null
rc=$?
date +%s%3N > "$j/end"; echo $rc > "$j/exit.tmp"; mv -f "$j/exit.tmp" "$j/exit"' klong-job "$j" < /dev/null > /dev/null 2>&1 &
  for _ in $(seq 100); do [ -f "$j/pid" ] && break; sleep 0.02; done
  line "$1" 0 ;;
status) # tail-lines [ids...]; no ids: every job, oldest first
  n=$1; shift
  echo "now $(now)"
  if [ $# -eq 0 ] && [ -d "$D" ]; then set -- $(cd "$D" && ls -tr); fi
  for id in "$@"; do line "$id" "$n"; done ;;
output) # id tail N max | id range A B max
  j=$D/$1; [ -d "$j" ] || { echo "missing"; exit 4; }
  s=$(stat -c %s -- "$j/log"); n=$(wc -l < "$j/log")
  [ "$s" -gt 0 ] && [ -n "$(tail -c 1 -- "$j/log")" ] && n=$((n + 1))
  echo "$s $n $(state "$1")"
  if [ "$2" = tail ]; then tail -n "$3" -- "$j/log" | tail -c "$4"
  else sed -n "$3,$4p;$4q" -- "$j/log" | head -c "$5"; fi ;;
stop) # ids...
  for id in "$@"; do
    j=$D/$id
    if [ -d "$j" ] && [ ! -f "$j/exit" ] && alive "$j"; then
      : > "$j/stopped"; G=$(cat "$j/pid"); rc=143
      kill -TERM -- "-$G" 2>/dev/null
      for _ in $(seq 50); do group_alive || break; sleep 0.1; done
      if group_alive; then rc=137; kill -KILL -- "-$G" 2>/dev/null
        for _ in $(seq 50); do group_alive || break; sleep 0.1; done; fi
      if [ ! -f "$j/exit" ]; then now > "$j/end"; echo $rc > "$j/exit"; fi
    elif [ -d "$j" ] && [ ! -f "$j/exit" ]; then : > "$j/stopped"
    fi
    line "$id" 0
  done ;;
log) # id max: the last max bytes of the log
  j=$D/$1; [ -f "$j/log" ] || exit 4
  stat -c %s -- "$j/log"; tail -c "$2" -- "$j/log" ;;
*) echo "unknown operation $op"; exit 2 ;;
esac
`;

export interface ScriptResult {
  exitCode: number | null;
  stdout: string;
}

/**
 * Runs the jobs script: as its own short exec when the sandbox has one (not queued behind the
 * agent's shell, where a long bash command may be running), else through the shell.
 */
export async function jobsScript(
  sandbox: Sandbox,
  args: string[],
  opts: { maxBytes?: number; jobsDir?: string } = {},
): Promise<ScriptResult> {
  const all = [opts.jobsDir ?? JOBS_DIR, ...args];
  const max = opts.maxBytes ?? 256 * 1024;
  if (sandbox.runScript) {
    const r = await sandbox.runScript(JOBS_SCRIPT, all, { maxStdout: max });
    return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8') };
  }
  const r = await sandbox.exec(
    `bash -c ${shellQuote(JOBS_SCRIPT)} klong-jobs ${all.map(shellQuote).join(' ')}`,
    {
      timeoutMs: 120_000,
      outputCap: max,
    },
  );
  return { exitCode: r.exitCode, stdout: r.output };
}

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Starts a job through the agent's shell, so it runs in the agent's current folder with its variables. */
export async function startJob(
  sandbox: Sandbox,
  job: { id: string; name: string; command: string },
  jobsDir = JOBS_DIR,
): Promise<JobStatus> {
  const args = [jobsDir, 'start', job.id, job.name, job.command].map(shellQuote).join(' ');
  const r = await sandbox.exec(`bash -c ${shellQuote(JOBS_SCRIPT)} klong-jobs ${args}`, {
    timeoutMs: 60_000,
    outputCap: 64 * 1024,
  });
  const st = parseStatusLines(r.output)[0];
  if (r.exitCode !== 0 || !st)
    throw new Error(`could not start the job: ${r.output.trim() || `exit ${r.exitCode}`}`);
  return st;
}

/** Every job's status (or these ids'), with the last `tailLines` lines of each. */
export async function jobStatuses(
  sandbox: Sandbox,
  ids: string[] = [],
  tailLines = 0,
  jobsDir?: string,
): Promise<JobStatus[]> {
  const r = await jobsScript(sandbox, ['status', String(tailLines), ...ids], jobsDir ? { jobsDir } : {});
  if (r.exitCode !== 0)
    throw new Error(`reading the jobs failed: ${r.stdout.trim() || `exit ${r.exitCode}`}`);
  return parseStatusLines(r.stdout);
}

export async function stopJobs(sandbox: Sandbox, ids: string[], jobsDir?: string): Promise<JobStatus[]> {
  if (ids.length === 0) return [];
  const r = await jobsScript(sandbox, ['stop', ...ids], jobsDir ? { jobsDir } : {});
  return parseStatusLines(r.stdout);
}

/** The status script's output → statuses ("now <ms>" first, when present). */
export function parseStatusLines(text: string): JobStatus[] {
  let now = 0;
  const out: JobStatus[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('now ')) {
      now = Number(line.slice(4)) || 0;
      continue;
    }
    const f = line.split('\t');
    if (f.length < 7) continue;
    const [id, state, rc, start, end, size, tail] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    if (!['running', 'exited', 'stopped', 'lost', 'missing'].includes(state)) continue;
    out.push({
      id,
      state: state as JobState,
      exitCode: /^-?\d+$/.test(rc) ? Number(rc) : null,
      start: Number(start) || 0,
      end: /^\d+$/.test(end) ? Number(end) : null,
      now,
      size: Number(size) || 0,
      tail: tail ? Buffer.from(tail, 'base64').toString('utf8') : '',
    });
  }
  // Without a "now" line (start, stop) the end or start stands in for it.
  for (const s of out) if (!s.now) s.now = s.end ?? s.start;
  return out;
}

export interface OutputRequest {
  id: string;
  /** Last N lines (default), or lines start..end (1-based, inclusive). */
  tail?: number;
  start?: number;
  end?: number;
  maxBytes: number;
}

export interface JobOutput {
  size: number;
  lines: number;
  state: JobState;
  exitCode: number | null;
  text: string;
  /** The byte cap cut the text. */
  cut: boolean;
}

export async function jobOutput(
  sandbox: Sandbox,
  req: OutputRequest,
  jobsDir?: string,
): Promise<JobOutput | null> {
  const args =
    req.start !== undefined
      ? [
          'output',
          req.id,
          'range',
          String(req.start),
          String(req.end ?? req.start + 199),
          String(req.maxBytes + 1),
        ]
      : ['output', req.id, 'tail', String(req.tail ?? 100), String(req.maxBytes + 1)];
  const r = await jobsScript(sandbox, args, {
    maxBytes: req.maxBytes + 4096,
    ...(jobsDir ? { jobsDir } : {}),
  });
  if (r.exitCode === 4) return null;
  if (r.exitCode !== 0)
    throw new Error(`reading the job's output failed: ${r.stdout.trim() || `exit ${r.exitCode}`}`);
  const nl = r.stdout.indexOf('\n');
  const [size, lines, state, rc] = r.stdout.slice(0, nl).split(' ');
  let text = r.stdout.slice(nl + 1);
  const cut = Buffer.byteLength(text) > req.maxBytes;
  // From a tail, keep the end; from a range, the start.
  if (cut)
    text =
      req.start !== undefined ? cutBytes(text, req.maxBytes, 'head') : cutBytes(text, req.maxBytes, 'tail');
  return {
    size: Number(size) || 0,
    lines: Number(lines) || 0,
    state: (state as JobState) ?? 'missing',
    exitCode: rc && /^-?\d+$/.test(rc) ? Number(rc) : null,
    text,
    cut,
  };
}

/** The last `maxBytes` of a job's log (for an editor), and its full size. */
export async function jobLogTail(
  sandbox: Sandbox,
  id: string,
  maxBytes: number,
  jobsDir?: string,
): Promise<{ size: number; text: string } | null> {
  const r = await jobsScript(sandbox, ['log', id, String(maxBytes)], {
    maxBytes: maxBytes + 64,
    ...(jobsDir ? { jobsDir } : {}),
  });
  if (r.exitCode === 4) return null;
  if (r.exitCode !== 0) throw new Error(`reading the job's log failed: exit ${r.exitCode}`);
  const nl = r.stdout.indexOf('\n');
  return { size: Number(r.stdout.slice(0, nl)) || 0, text: r.stdout.slice(nl + 1) };
}

function cutBytes(text: string, max: number, keep: 'head' | 'tail'): string {
  const b = Buffer.from(text);
  const part = keep === 'head' ? b.subarray(0, max) : b.subarray(b.length - max);
  // A cut UTF-8 sequence at the edge becomes U+FFFD; drop it.
  return part.toString('utf8').replace(keep === 'head' ? /\uFFFD+$/ : /^\uFFFD+/, '');
}

/**
 * Log text as the model should read it: a progress bar's carriage-return updates collapse to their
 * last state, ANSI colour codes go, and each line is cut to `maxLine` characters.
 */
export function cleanLines(text: string, maxLine = 1000): string[] {
  if (!text) return [];
  const lines = text.replace(/\n$/, '').split('\n');
  return lines.map((l) => {
    const segs = l.replace(/\r+$/, '').split('\r');
    const last = (segs[segs.length - 1] ?? '').replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '');
    return last.length > maxLine
      ? `${last.slice(0, maxLine)}… [${last.length - maxLine} more characters]`
      : last;
  });
}

/** "3m 20s", "1h 5m", "45s". */
export function formatElapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

/** How a job's state reads: "running for 3m 20s", "exited with code 0 after 1h 5m", … */
export function describeState(s: Pick<JobStatus, 'state' | 'exitCode' | 'start' | 'end' | 'now'>): string {
  const elapsed = formatElapsed((s.end ?? s.now) - s.start);
  switch (s.state) {
    case 'running':
      return `running for ${elapsed}`;
    case 'exited':
      return `exited with code ${s.exitCode} after ${elapsed}`;
    case 'stopped':
      return `stopped${s.exitCode !== null ? ` (code ${s.exitCode})` : ''} after ${elapsed}`;
    case 'lost':
      return 'lost (its process is gone without an exit code: the container was restarted)';
    case 'missing':
      return 'lost (the container was recreated: its folder is gone)';
  }
}

/** The state a finished job is recorded with, or undefined while it runs. */
export function endStateOf(s: JobStatus): JobEndState | undefined {
  if (s.state === 'running') return undefined;
  return s.state === 'missing' ? 'lost' : s.state;
}

/** A short id for the next job: j1, j2, … (never reused within a session). */
export function nextJobId(known: Record<string, JobRecord> | undefined): string {
  let max = 0;
  for (const id of Object.keys(known ?? {})) {
    const n = /^j(\d+)$/.exec(id);
    if (n) max = Math.max(max, Number(n[1]));
  }
  return `j${max + 1}`;
}
