/**
 * A persistent bash per session, like a terminal: cwd, variables and functions carry over between commands.
 *
 * Protocol: one bash runs through a single exec with stdin attached. Each command is sent as one line; the
 * shell runs it in a subshell started as a background job with job control on (`set -m`), so the subshell
 * leads its own process group and a timeout can kill everything it started (`kill -KILL -PGID` from a
 * second exec; the Engine API cannot kill an exec). Before the subshell exits it saves its cwd, variables and
 * functions to a state file that the main shell sources, so changes persist as they would in a terminal. The
 * subshell's pid is announced on stderr; the end marker with the exit code follows its output on stdout.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type Docker from 'dockerode';
import { SandboxError } from './errors';
import { ansiCQuote } from './path-bytes';

export { ansiCQuote };

import { containerGoneError, runInContainer } from './exec';
import { CappedOutput, DEFAULT_OUTPUT_CAP, Demuxer } from './output-buffer';
import type { ExecOptions, ExecResult } from './sandbox';

/** Where the shell keeps its saved state (world-writable, sticky, made by the sandbox setup). */
export const SHELL_STATE_DIR = '/var/lib/klong/shell';

// Variables that belong to bash itself or to this protocol and must not be saved/restored.
const SKIP_VARS =
  '__klong*|BASH|BASH[_A-Z]*|BASHOPTS|BASHPID|FUNCNAME|GROUPS|PIPESTATUS|PPID|RANDOM|SRANDOM|SECONDS|LINENO|EPOCH*|HISTCMD|UID|EUID|SHELLOPTS|COMP_*|DIRSTACK|OLDPWD|PWD|SHLVL|_|OPTIND|OPTARG|OPTERR|IFS|PS1|PS2|PS4|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|COLUMNS|LINES';

const bootstrap = (stateName: string) => `set -m
__klong_state=${SHELL_STATE_DIR}/${stateName}.$(id -u)
# Builtins only (no command substitution, which forks): names go through a file.
__klong_names() {
  local __n
  __klong_list=' '
  compgen -v > "$__klong_state.names"
  while IFS= read -r __n; do
    case $__n in ${SKIP_VARS}) ;; *) __klong_list+="$__n ";; esac
  done < "$__klong_state.names"
}
__klong_save() {
  __klong_names
  { declare -p $__klong_list 2>/dev/null; declare -f; printf '__klong_keep=%q\\n' "$__klong_list"; printf 'builtin cd -- %q\\n' "$PWD"; } > "$__klong_state" 2>/dev/null
}
# Variables the last command unset are unset here too (only checked when the command mentions unset).
__klong_prune() {
  local __n
  [[ $__klong_cmd == *unset* || $__klong_cmd == *export\\ -n* ]] || return 0
  __klong_names
  for __n in $__klong_list; do [[ $__klong_keep == *" $__n "* ]] || unset "$__n" 2>/dev/null; done
}
__klong_run() {
  ( trap __klong_save EXIT; eval "$__klong_cmd" ) </dev/null 2>&1 &
  __klong_pid=$!
  printf '\\036KS %s %s\\036\\n' "$__klong_id" "$__klong_pid" >&2
  wait "$__klong_pid"; __klong_rc=$?
}
# Restore at top level: "declare" inside a function would make the variables local.
[ -r "$__klong_state" ] && . "$__klong_state" >/dev/null 2>&1
printf '\\036KREADY\\036\\n'
`;

/**
 * Finds the end marker `\x1eKE <id> <rc>\x1e\n` in a command's stdout, passing everything before it on.
 * A marker split across chunks is held back until it is complete.
 */
export class EndScanner {
  private readonly prefix: Buffer;
  private carry: Buffer = Buffer.alloc(0);
  constructor(id: string) {
    this.prefix = Buffer.from(`\x1eKE ${id} `);
  }

  /** Returns the exit code once the marker is complete (null if unreadable), else undefined. */
  push(data: Buffer, emit: (out: Buffer) => void): number | null | undefined {
    const buf = this.carry.length ? Buffer.concat([this.carry, data]) : data;
    this.carry = Buffer.alloc(0);
    const idx = buf.indexOf(this.prefix);
    if (idx >= 0) {
      if (idx > 0) emit(buf.subarray(0, idx));
      const end = buf.indexOf('\x1e\n', idx + this.prefix.length);
      if (end < 0) {
        this.carry = Buffer.from(buf.subarray(idx));
        return undefined;
      }
      const rc = Number(buf.subarray(idx + this.prefix.length, end).toString('latin1'));
      return Number.isInteger(rc) ? rc : null;
    }
    // A possible start of the marker at the end waits for the next chunk.
    const keep = Math.min(buf.length, this.prefix.length - 1);
    const lastSep = buf.lastIndexOf(0x1e);
    const cut = lastSep >= 0 && lastSep >= buf.length - keep ? lastSep : buf.length;
    if (cut > 0) emit(buf.subarray(0, cut));
    this.carry = Buffer.from(buf.subarray(cut));
    return undefined;
  }

  /** What is held back (when the command ends without a marker). */
  flush(): Buffer {
    const c = this.carry;
    this.carry = Buffer.alloc(0);
    return c;
  }
}

interface Pending {
  id: string;
  scanner: EndScanner;
  out: CappedOutput;
  decoder: StringDecoder;
  onOutput?: (chunk: string) => void;
  pid?: number;
  killWanted: boolean;
  timedOut: boolean;
  finish: (rc: number | null, err?: Error) => void;
}

export interface ShellOptions {
  user?: string;
  env?: string[];
  workdir: string;
  /** Name of the saved-state file; shells with different names do not share cwd/env (default "agent"). */
  stateName?: string;
}

export class PersistentShell {
  private stream?: Duplex;
  private alive = false;
  private pending?: Pending;
  private queue: Promise<unknown> = Promise.resolve();
  private ready?: Promise<void>;

  constructor(
    private readonly container: Docker.Container,
    private readonly opts: ShellOptions,
  ) {}

  get isAlive(): boolean {
    return this.alive;
  }

  /** Starts bash (restoring the state saved by an earlier shell, if any). */
  private start(): Promise<void> {
    this.ready = (async () => {
      const exec = await this.container.exec({
        Cmd: ['bash', '--noprofile', '--norc'],
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
        User: this.opts.user,
        Env: this.opts.env,
        WorkingDir: this.opts.workdir,
      });
      const stream = (await exec.start({ hijack: true, stdin: true })) as Duplex;
      this.stream = stream;
      this.alive = true;
      let readyResolve!: () => void;
      const ready = new Promise<void>((r) => {
        readyResolve = r;
      });
      let booted = false;
      let boot = Buffer.alloc(0);
      let errLine = '';
      const demux = new Demuxer((type, data) => {
        if (type === 2) {
          errLine += data.toString('latin1');
          let nl = errLine.indexOf('\n');
          while (nl >= 0) {
            this.onControl(errLine.slice(0, nl));
            errLine = errLine.slice(nl + 1);
            nl = errLine.indexOf('\n');
          }
          if (errLine.length > 4096) errLine = '';
          return;
        }
        if (!booted) {
          boot = Buffer.concat([boot, data]);
          const i = boot.indexOf('\x1eKREADY\x1e\n');
          if (i < 0) return;
          booted = true;
          readyResolve();
          data = boot.subarray(i + 9);
          if (data.length === 0) return;
        }
        this.onStdout(data);
      });
      stream.on('data', (c: Buffer) => demux.push(c));
      const onEnd = () => {
        if (!this.alive) return;
        this.alive = false;
        readyResolve();
        void this.onShellGone();
      };
      stream.on('end', onEnd);
      stream.on('close', onEnd);
      stream.on('error', onEnd);
      stream.write(`${bootstrap(this.opts.stateName ?? 'agent')}\n`);
      await ready;
      if (!this.alive) {
        const gone = await containerGoneError(this.container);
        throw (
          gone ??
          new SandboxError(
            'TOOL_MISSING',
            'The sandbox shell did not start: the image needs bash.',
            'Use an image with bash (e.g. a Debian/Ubuntu base), or add it in the Dockerfile.',
          )
        );
      }
    })();
    return this.ready;
  }

  private onControl(line: string): void {
    const m = /^\x1eKS (\S+) (\d+)\x1e$/.exec(line);
    const p = this.pending;
    if (!m || !p || m[1] !== p.id) return;
    p.pid = Number(m[2]);
    if (p.killWanted) void this.killGroup(p.pid);
  }

  private onStdout(data: Buffer): void {
    const p = this.pending;
    if (!p) return; // output of background jobs between commands
    const rc = p.scanner.push(data, (out) => this.emit(p, out));
    if (rc !== undefined) p.finish(rc);
  }

  private emit(p: Pending, data: Buffer): void {
    if (data.length === 0) return;
    p.out.push(data);
    if (p.onOutput) p.onOutput(p.decoder.write(data));
  }

  private async onShellGone(): Promise<void> {
    const p = this.pending;
    if (!p) return;
    // The engine may still say Running for a moment after the container was killed.
    for (let i = 0; i < 5; i++) {
      const gone = await containerGoneError(this.container);
      if (gone) return p.finish(null, gone);
      await new Promise((r) => setTimeout(r, 100));
    }
    p.finish(null);
  }

  /** Kills the command's whole process group from a second exec (as root, so that no process can refuse). */
  private async killGroup(pgid: number): Promise<void> {
    try {
      await runInContainer(this.container, ['bash', '-c', 'kill -KILL -- "-$1"', 'kill', String(pgid)], {
        user: 'root',
      });
    } catch {
      // The container may be gone; the pending command then ends through onShellGone.
    }
  }

  /** Runs one command; commands are serialised like in a terminal. */
  exec(command: string, opts: ExecOptions = {}): Promise<ExecResult & { shellRestarted: boolean }> {
    const run = this.queue.then(() => this.runOne(command, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async runOne(
    command: string,
    opts: ExecOptions,
  ): Promise<ExecResult & { shellRestarted: boolean }> {
    const restarted = this.ready !== undefined && !this.alive;
    if (!this.alive) await this.start();
    const started = Date.now();
    const id = randomBytes(8).toString('hex');
    const out = new CappedOutput(opts.outputCap ?? DEFAULT_OUTPUT_CAP);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const result = await new Promise<{ rc: number | null; err?: Error; timedOut: boolean; note?: string }>(
      (resolve) => {
        const p: Pending = {
          id,
          scanner: new EndScanner(id),
          out,
          decoder: new StringDecoder('utf8'),
          onOutput: opts.onOutput,
          killWanted: false,
          timedOut: false,
          finish: (rc, err) => {
            if (this.pending !== p) return;
            this.pending = undefined;
            const rest = p.scanner.flush();
            if (rest.length) this.emit(p, rest);
            const tail = p.decoder.end();
            if (tail && p.onOutput) p.onOutput(tail);
            resolve({
              rc,
              err,
              timedOut: p.timedOut,
              note: rc === null && !err && !p.timedOut ? 'the shell exited' : undefined,
            });
          },
        };
        this.pending = p;
        const kill = () => {
          p.killWanted = true;
          if (p.pid !== undefined) void this.killGroup(p.pid);
        };
        if (opts.timeoutMs && opts.timeoutMs > 0)
          timer = setTimeout(() => {
            p.timedOut = true;
            kill();
          }, opts.timeoutMs);
        if (opts.signal) {
          if (opts.signal.aborted) kill();
          onAbort = kill;
          opts.signal.addEventListener('abort', onAbort, { once: true });
        }
        const line =
          `__klong_id=${id}; __klong_cmd=${ansiCQuote(command)}; __klong_run; . "$__klong_state" >/dev/null 2>&1; __klong_prune; ` +
          `printf '\\036KE %s %s\\036\\n' "$__klong_id" "$__klong_rc"\n`;
        this.stream?.write(line);
      },
    );
    if (timer) clearTimeout(timer);
    if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
    if (result.err) throw result.err;
    let output = out.toString();
    if (result.note)
      output += `\n[${result.note}; the next command starts a new shell with the saved cwd and env]`;
    return {
      exitCode: result.timedOut || opts.signal?.aborted ? null : result.rc,
      output,
      totalBytes: out.totalBytes,
      truncated: out.truncated,
      timedOut: result.timedOut,
      durationMs: Date.now() - started,
      shellRestarted: restarted,
    };
  }

  /** Ends the shell (its saved state stays for the next one). */
  dispose(): void {
    this.alive = false;
    this.stream?.end('exit\n');
    this.stream?.destroy();
  }
}
