/**
 * Commands on a session that runs in its own engine process: `reproduce --detach` starts one,
 * `attach` follows it (the log first, then live), `say` / `pause` / `resume` / `stop` steer it.
 */
import { closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ControlClient, type ControlStatus, readControlInfo } from '../engine/control';
import type { AgentEvent } from '../events/events';
import { spawnEngine } from '../sandbox/child-env';
import { FILES, newSessionId, readFrom, SessionStore } from '../session';
import { defaultStateDir, parseCommandArgs } from './args';
import { ProgressLine } from './progress';
import { CliError, type CliIO } from './reproduce';

/** Events of the log printed when attaching, before following live. */
const ATTACH_HISTORY = 20;

function sessionDir(stateDir: string, id: string): string {
  const dir = new SessionStore(resolve(stateDir)).dirOf(id);
  if (!existsSync(join(dir, FILES.events)))
    throw new CliError(`No session ${id} in ${resolve(stateDir)}.`, 1);
  return dir;
}

async function connectOrExplain(stateDir: string, id: string): Promise<ControlClient> {
  const client = await ControlClient.connect(sessionDir(stateDir, id));
  if (!client) {
    throw new CliError(
      `Session ${id} is not running (no engine serves it). Resume it with: klong reproduce --resume ${id}${
        stateDir === defaultStateDir() ? '' : ` --state-dir ${stateDir}`
      } [--detach]`,
      1,
    );
  }
  return client;
}

function describe(s: ControlStatus): string {
  return `Session ${s.sessionId}: ${s.state}, step ${s.step} (engine pid ${s.pid})`;
}

const STEER_USAGE = (cmd: string, what: string) => `Usage: klong ${cmd} SESSION [--state-dir D]

${what}`;

const SAY_USAGE = `Usage: klong say SESSION TEXT… [--state-dir D]

Sends a message to the agent of a running session. It reaches the agent at its next step (never in
the middle of a command) and shows in the timeline like any other event.`;

const ATTACH_USAGE = `Usage: klong attach SESSION [--state-dir D]

Follows a session: its last ${ATTACH_HISTORY} events, then the progress line and events as they come,
with the output of a running command (and of the final reproduce.sh run) as it prints it.
Ctrl-C detaches; the session goes on.`;

/** SESSION [more…] [--state-dir D] [--help]: undefined when the usage was printed. */
function sessionArgs(
  cmd: string,
  usage: string,
  args: string[],
  io: CliIO,
): { id: string; rest: string[]; stateDir: string } | undefined {
  const { values, positionals } = parseCommandArgs(cmd, usage, args, {
    'state-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.out.write(`${usage}\n`);
    return undefined;
  }
  const [id, ...rest] = positionals;
  if (!id) throw new CliError(`klong ${cmd}: name the session.\n\n${usage}`);
  return { id, rest, stateDir: values['state-dir'] ?? defaultStateDir() };
}

/** `klong say|pause|resume|stop SESSION`. */
export async function steerCommand(
  cmd: 'say' | 'pause' | 'resume' | 'stop',
  args: string[],
  io: CliIO,
): Promise<number> {
  const usage =
    cmd === 'say'
      ? SAY_USAGE
      : STEER_USAGE(
          cmd,
          {
            pause:
              'Pauses a running session (active time stops counting; an in-flight model request is redone).',
            resume: 'Resumes a paused session.',
            stop: 'Stops a running session and saves it (resume later with klong reproduce --resume).',
          }[cmd],
        );
  const a = sessionArgs(cmd, usage, args, io);
  if (!a) return 0;
  const text = a.rest.join(' ').trim();
  if (cmd === 'say' && !text) throw new CliError(`klong say: give the message.\n\n${usage}`);
  if (cmd !== 'say' && a.rest.length) throw new CliError(`klong ${cmd}: one session at a time.\n\n${usage}`);
  const client = await connectOrExplain(a.stateDir, a.id);
  try {
    const s =
      cmd === 'say'
        ? await client.say(text)
        : cmd === 'pause'
          ? await client.pause()
          : cmd === 'resume'
            ? await client.resume()
            : await client.stop('interrupt');
    const done = {
      say: 'Message queued: the agent reads it at its next step.',
      pause: 'Paused.',
      resume: 'Resumed.',
      stop: 'Stopping: the session saves and its engine exits.',
    }[cmd];
    io.out.write(`${done} ${describe(s)}\n`);
    return 0;
  } finally {
    client.dispose();
  }
}

/** `klong attach SESSION`: the end of the log, then live events until the engine ends or Ctrl-C. */
export async function attachCommand(args: string[], io: CliIO): Promise<number> {
  const a = sessionArgs('attach', ATTACH_USAGE, args, io);
  if (!a) return 0;
  if (a.rest.length) throw new CliError(`klong attach: name one session.\n\n${ATTACH_USAGE}`);
  const { id, stateDir } = a;
  const client = await connectOrExplain(stateDir, id);

  // Subscribe before reading the log so that nothing falls between the two; seq drops the overlap.
  const early: AgentEvent[] = [];
  let progress: ProgressLine | undefined;
  let lastSeq = -1;
  let ended: (() => void) | undefined;
  // The engine's token totals already count the model responses up to its seq.
  let counted = -1;
  const show = (e: AgentEvent) => {
    if (e.seq <= lastSeq) return;
    lastSeq = e.seq;
    if (e.type === 'model_response' && e.seq <= counted) return;
    if (e.type === 'user_message') progress?.message(`→ agent: ${e.text}`);
    progress?.onEvent(e);
  };
  let following = false;
  client.onEvent((e) => {
    if (following) show(e);
    else early.push(e);
    if (e.type === 'end') setTimeout(() => ended?.(), 200); // the last messages may follow
  });
  client.onMessage((m) => progress?.message(m.level === 'warning' ? `warning: ${m.text}` : m.text));
  client.onLive((m) => progress?.live(m));

  let status = await client.status();
  let statusAt = Date.now();
  const u = status.usage;
  progress = new ProgressLine(
    io.err,
    status.budgetMs,
    () => status.activeMs + (status.state === 'running' ? Date.now() - statusAt : 0),
    u
      ? {
          promptTokens: u.prompt,
          cachedTokens: u.cached,
          completionTokens: u.completion,
          usd: u.usd,
          estimated: u.estimated,
        }
      : undefined,
  );
  counted = u?.seq ?? -1;
  io.err.write(`Attached to ${describe(status)}. Ctrl-C detaches; the session goes on.\n`);
  // From the engine, not the file: events of the current step are not flushed to the log yet.
  for (const e of await client.events(Math.max(0, (u?.seq ?? -1) + 1 - ATTACH_HISTORY))) show(e);
  for (const e of early.splice(0)) show(e);
  following = true;

  const poll = setInterval(() => {
    client.status().then(
      (s) => {
        status = s;
        statusAt = Date.now();
      },
      () => undefined,
    );
  }, 5000);
  let unregister = () => {};
  const code = await new Promise<number>((done) => {
    ended = () => done(0);
    unregister = io.onInterrupt(() => done(0));
    client.onClose(() => done(0));
  });
  unregister();
  clearInterval(poll);
  progress.done();
  client.dispose();
  io.err.write(`Detached from ${id}.\n`);
  return code;
}

/**
 * `klong reproduce … --detach`: the same command in an engine process of its own (own process group
 * and session, output to the session folder's engine.log), which goes on when this terminal closes.
 * Prints the session id on stdout once the engine serves its control channel.
 */
export async function reproduceDetached(
  args: string[],
  o: { stateDir: string; resume?: string; sessionId?: string },
  io: CliIO,
): Promise<number> {
  const stateDir = resolve(o.stateDir);
  const id = o.resume ?? o.sessionId ?? newSessionId();
  const store = new SessionStore(stateDir);
  const dir = store.dirOf(id);
  if (o.resume && !existsSync(join(dir, FILES.events)))
    throw new CliError(`No session ${id} in ${stateDir}.`, 1);
  const running = await ControlClient.connect(dir);
  running?.dispose();
  if (running) throw new CliError(`Session ${id} is already running. Follow it with: klong attach ${id}`, 1);
  mkdirSync(dir, { recursive: true });
  const logPath = join(dir, 'engine.log');
  const fd = openSync(logPath, 'a');
  const from = statSync(logPath).size;
  const childArgs = args.filter((a) => a !== '--detach');
  if (!o.resume && !o.sessionId) childArgs.push('--session-id', id);
  const script = process.argv[1];
  if (!script) throw new CliError('klong: cannot tell which script to start the engine with.', 1);
  const child = spawnEngine([script, 'reproduce', ...childArgs], fd);
  closeSync(fd);
  child.unref();

  // Echo the engine's output (reading the paper, building the container) until it serves the session.
  let shown = from;
  const echo = () => {
    const { text, size } = readFrom(logPath, shown);
    if (!text) return;
    shown = size;
    io.err.write(text);
  };
  let exited: number | null | undefined;
  child.once('exit', (code) => {
    exited = code;
  });
  let interrupted = false;
  const unregister = io.onInterrupt(() => {
    interrupted = true;
  });
  try {
    for (;;) {
      echo();
      if (exited !== undefined) {
        echo();
        io.err.write(
          `The engine exited (code ${exited}) before the session started; its output: ${logPath}\n`,
        );
        return exited ?? 1;
      }
      const info = readControlInfo(dir);
      if (info?.pid === child.pid) {
        const c = await ControlClient.connect(dir);
        if (c) {
          c.dispose();
          break;
        }
      }
      if (interrupted) {
        io.err.write(
          `Stopped waiting; the engine (pid ${child.pid}) goes on. Follow it: klong attach ${id}\n`,
        );
        io.out.write(`${id}\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    unregister();
  }
  const sd = stateDir === resolve(defaultStateDir()) ? '' : ` --state-dir ${stateDir}`;
  io.err.write(
    `Session ${id} runs in the background (engine pid ${child.pid}; output in ${logPath}).\n` +
      `  follow:  klong attach ${id}${sd}\n  message: klong say ${id}${sd} "…"\n  stop:    klong stop ${id}${sd}\n`,
  );
  io.out.write(`${id}\n`);
  return 0;
}
