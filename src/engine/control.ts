/**
 * The control channel of a running session. The engine process that drives a session serves
 * JSON-RPC (vscode-jsonrpc) on a Unix socket (a named pipe on Windows) whose address it writes to
 * `control.json` in the session folder. Clients (`klong attach`, `say`, `pause`, …, VS Code windows)
 * connect, send commands and receive every event as it is appended. The event log stays the durable
 * record: a client that attaches late reads the log, then follows the channel.
 */
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMessageConnection,
  type MessageConnection,
  NotificationType,
  RequestType,
  RequestType0,
  SocketMessageReader,
  SocketMessageWriter,
} from 'vscode-jsonrpc/node';
import type { LiveMessage } from '../agent/live';
import type { ConflictPolicy, Outcome } from '../edits/decide';
import type { Proposal } from '../edits/proposal';
import { APPROVAL_MODES, type ApprovalMode } from '../edits/queue';
import type { AgentEvent, RewindMode } from '../events/events';
import { CONTROL_FILE, type ControlInfo, readControlInfo } from '../session/control-file';
import { writeFileAtomic } from '../session/fsutil';
import type { RewindOutcome } from './rewind';

export { CONTROL_FILE, type ControlInfo, readControlInfo } from '../session/control-file';

export type EngineState = 'starting' | 'running' | 'paused' | 'stopping' | 'ended';

export interface ControlStatus {
  sessionId: string;
  pid: number;
  state: EngineState;
  step: number;
  activeMs: number;
  budgetMs: number;
  /** Messages given with `say` that the agent has not been handed yet (at its next step). */
  queuedMessages: number;
  /** How proposals reach the user's files now (absent: an engine of an earlier version, or starting). */
  approval?: ApprovalMode;
  /** Tokens and cost of the whole session, counted through event `seq`. */
  usage?: {
    seq: number;
    prompt: number;
    cached: number;
    completion: number;
    estimated: boolean;
    usd: number;
  };
}

export type StopMode = 'interrupt' | 'end';

const status = new RequestType0<ControlStatus, void>('klong/status');
const pause = new RequestType0<ControlStatus, void>('klong/pause');
const resume = new RequestType0<ControlStatus, void>('klong/resume');
const stop = new RequestType<{ mode: StopMode }, ControlStatus, void>('klong/stop');
const say = new RequestType<{ text: string }, ControlStatus, void>('klong/say');
const events = new RequestType<{ from: number }, AgentEvent[], void>('klong/events');
const decide = new RequestType<EditDecision, DecisionResult, void>('klong/decide');
const proposals = new RequestType0<ProposalList, void>('klong/proposals');
const proposal = new RequestType<{ path: string }, Proposal | null, void>('klong/proposal');
const setApproval = new RequestType<{ mode: ApprovalMode }, ControlStatus, void>('klong/setApproval');
/** Rewind at the next step boundary; answered once the rewind is done (the agent then goes on). */
const rewind = new RequestType<RewindAsk, RewindOutcome, void>('klong/rewind');
/** Engine → client: a question only the user can answer (the first client to answer decides). */
const ask = new RequestType<Question, Answer, void>('klong/ask');
const eventNote = new NotificationType<AgentEvent>('klong/event');
const messageNote = new NotificationType<EngineMessage>('klong/message');
const liveNote = new NotificationType<LiveMessage>('klong/live');

/** The user's decision on a proposed edit, made in a client; the engine writes the user's files. */
export interface EditDecision {
  path: string;
  decision: 'accept' | 'reject';
  reason?: string;
  /** Hunk indexes of `version`; omitted = the whole file. */
  hunks?: number[];
  /** The version the user saw; a newer one makes the decision `stale`. */
  version?: number;
  /** Accept only: what to do on a conflict with the user's own changes (default: report it). */
  onConflict?: ConflictPolicy;
}

/** The queue's outcome (edits/decide.ts) without the agent's feedback text. */
export type DecisionResult = Outcome | { status: string; message: string };

/** The engine's pending proposals: enough for a client to see which ones it must fetch again. */
export interface ProposalList {
  approval: ApprovalMode;
  proposals: { path: string; version: number; sensitive?: string }[];
}

export interface RewindAsk {
  step: number;
  mode: RewindMode;
}

/** What the engine asks the user: more spend at the cap, or an edit in ask-each mode. */
export type Question =
  | { kind: 'spendCap'; reason: string; spentUsd: number; nextCapUsd: number }
  | { kind: 'edit'; path: string; change: string; summary: string; sensitive?: string };

export interface Answer {
  yes: boolean;
  reason?: string;
}

export interface EngineMessage {
  level: 'info' | 'warning';
  text: string;
}

/** What the engine does for each command; each returns the status after it. */
export interface ControlHandlers {
  status(): ControlStatus;
  pause(): void;
  resume(): void;
  stop(mode: StopMode): void;
  say(text: string): void;
  /**
   * Events from seq `from` on that the engine holds, flushed or not (a client that read the log on
   * disk asks for the rest of the current step here, which the log gets at the step's end).
   */
  events?(from: number): AgentEvent[];
  /** Accept or reject a proposal (review and ask-each modes). */
  decide?(d: EditDecision): Promise<DecisionResult>;
  /** The pending proposals (paths and versions) and the approval mode. */
  proposals?(): Promise<ProposalList>;
  /** One pending proposal with its text and hunks; null when it is not pending. */
  proposal?(path: string): Proposal | null;
  /** Switch the approval mode of the running session (logged as an `approval_changed` event). */
  setApproval?(mode: ApprovalMode): void;
  /** Rewind the running session (engine/rewind.ts), as a stopped one is rewound, and go on. */
  rewind?(r: RewindAsk): Promise<RewindOutcome>;
}

/** Most events one `klong/events` answer carries (a step is far fewer; older ones are on disk). */
export const EVENTS_PAGE = 5000;

/**
 * The socket's address for a session folder. Unix socket paths are limited to about 100 bytes, so a
 * deep folder gets a socket in the temp folder named after a hash of the session folder.
 */
export function controlAddress(sessionDir: string, platform = process.platform): string {
  const hash = createHash('sha256').update(sessionDir).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\klong-${hash}`;
  const local = join(sessionDir, 'control.sock');
  return Buffer.byteLength(local) < 100 ? local : join(tmpdir(), `klong-${hash}.sock`);
}

/**
 * A client with this many live messages not yet written to its socket gets no more running output
 * until it catches up: each update carries the whole tail, so skipping some loses nothing, and a
 * stalled client (a paused `klong attach`) does not make the engine queue output without end.
 * The last update of a command, retries and grading progress are always sent.
 */
const LIVE_PENDING_MAX = 4;

/**
 * A client with this many bytes of events and messages not yet written is dropped: events cannot be
 * skipped, and a client stalled for hours (a stopped `klong attach`) would make the engine hold every
 * event since. Dropping it loses nothing: the log has them, and attaching again reads the log.
 */
export const BEHIND_MAX_BYTES = 32 * 1024 * 1024;

export class ControlServer {
  private readonly clients = new Set<MessageConnection>();
  private readonly pendingLive = new Map<MessageConnection, number>();
  private readonly pendingBytes = new Map<MessageConnection, number>();
  /** Forgets a client and closes its socket. */
  private readonly drops = new Map<MessageConnection, () => void>();

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly address: string,
  ) {}

  /**
   * Listen for clients of the session in `dir`. Only the session's driver (the lock holder) calls
   * this, so a socket file left by a crashed engine is removed first.
   */
  static async listen(dir: string, handlers: ControlHandlers): Promise<ControlServer> {
    const address = controlAddress(dir);
    if (process.platform !== 'win32') rmSync(address, { force: true });
    const server = createServer();
    const control = new ControlServer(server, dir, address);
    server.on('connection', (socket) => control.accept(socket, handlers));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(address, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const info: ControlInfo = { pid: process.pid, address, startedAt: Date.now() };
    writeFileAtomic(join(dir, CONTROL_FILE), `${JSON.stringify(info)}\n`);
    return control;
  }

  private accept(socket: Socket, h: ControlHandlers): void {
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    const then = (act: () => void) => {
      act();
      return h.status();
    };
    conn.onRequest(status, () => h.status());
    conn.onRequest(pause, () => then(() => h.pause()));
    conn.onRequest(resume, () => then(() => h.resume()));
    conn.onRequest(stop, (p) => then(() => h.stop(p?.mode === 'end' ? 'end' : 'interrupt')));
    conn.onRequest(say, (p) => {
      const text = typeof p?.text === 'string' ? p.text.trim() : '';
      if (!text) throw new Error('say: the message is empty.');
      return then(() => h.say(text));
    });
    conn.onRequest(events, (p) => {
      const from = Number.isInteger(p?.from) && p.from >= 0 ? p.from : 0;
      return (h.events?.(from) ?? []).slice(0, EVENTS_PAGE);
    });
    conn.onRequest(decide, (p) => {
      if (!h.decide) throw new Error('decide: this engine does not take edit decisions.');
      if (typeof p?.path !== 'string' || (p.decision !== 'accept' && p.decision !== 'reject'))
        throw new Error('decide: give a path and accept or reject.');
      const hunks = Array.isArray(p.hunks) ? p.hunks.filter((i) => Number.isInteger(i)) : undefined;
      const policy = ['report', 'markers', 'overwrite'].find((x) => x === p.onConflict) as ConflictPolicy;
      return h.decide({
        path: p.path,
        decision: p.decision,
        ...(typeof p.reason === 'string' && p.reason ? { reason: p.reason } : {}),
        ...(hunks ? { hunks } : {}),
        ...(Number.isInteger(p.version) ? { version: p.version } : {}),
        ...(policy ? { onConflict: policy } : {}),
      });
    });
    conn.onRequest(proposals, () => {
      if (!h.proposals) throw new Error('proposals: this engine does not list its proposals.');
      return h.proposals();
    });
    conn.onRequest(proposal, (p) => {
      if (!h.proposal) throw new Error('proposal: this engine does not share its proposals.');
      if (typeof p?.path !== 'string') throw new Error('proposal: give a path.');
      return h.proposal(p.path);
    });
    conn.onRequest(setApproval, (p) => {
      const mode = APPROVAL_MODES.find((m) => m === p?.mode);
      if (!h.setApproval) throw new Error('setApproval: this engine cannot change its approval mode.');
      if (!mode) throw new Error(`setApproval: the mode must be one of ${APPROVAL_MODES.join(', ')}.`);
      return then(() => h.setApproval?.(mode));
    });
    conn.onRequest(rewind, (p) => {
      if (!h.rewind) throw new Error('rewind: this engine cannot rewind a running session; stop it first.');
      const mode = p?.mode ?? 'both';
      if (!Number.isInteger(p?.step) || p.step < 0 || !['code', 'conversation', 'both'].includes(mode))
        throw new Error('rewind: give a step (0 or more) and a mode (code, conversation or both).');
      return h.rewind({ step: p.step, mode });
    });
    const drop = () => {
      if (!this.clients.delete(conn)) return;
      this.pendingLive.delete(conn);
      this.pendingBytes.delete(conn);
      this.drops.delete(conn);
      conn.dispose();
      socket.destroy();
    };
    conn.onClose(drop);
    conn.onError(drop);
    socket.on('error', drop); // a client that vanished must never disturb the engine
    this.clients.add(conn);
    this.drops.set(conn, drop);
    conn.listen();
    for (const w of this.waiting.splice(0)) w();
  }

  private readonly waiting: (() => void)[] = [];

  /**
   * Ask the user through the attached clients; the first answer counts. Clients that cannot answer
   * (`klong attach`) or go away do not count. With none that answers: undefined at once, or with
   * `wait`, the question waits for the next client to attach (until `cancel` aborts).
   */
  async ask(q: Question, o: { wait?: boolean; cancel?: AbortSignal } = {}): Promise<Answer | undefined> {
    for (;;) {
      if (o.cancel?.aborted) return undefined;
      const clients = [...this.clients];
      if (clients.length) {
        const answer = await Promise.any(
          clients.map((c) =>
            c.sendRequest(ask, q).then((a) => {
              if (!a || typeof a.yes !== 'boolean') throw new Error('no answer');
              return a;
            }),
          ),
        ).catch(() => undefined);
        if (answer) return answer;
      }
      if (!o.wait) return undefined;
      // Until a client attaches (or one of those attached reconnects), or the session stops.
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        o.cancel?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Send an appended event to every client. */
  event(e: AgentEvent): void {
    this.broadcast(JSON.stringify(e).length, (c) => c.sendNotification(eventNote, e));
  }

  /** A progress message (container build, retries, grading) that is not in the event log. */
  message(m: EngineMessage): void {
    this.broadcast(JSON.stringify(m).length, (c) => c.sendNotification(messageNote, m));
  }

  /** Sends to every client, dropping one that is more than BEHIND_MAX_BYTES behind. */
  private broadcast(bytes: number, send: (c: MessageConnection) => Promise<void>): void {
    for (const c of this.clients) {
      const behind = (this.pendingBytes.get(c) ?? 0) + bytes;
      if (behind > BEHIND_MAX_BYTES) {
        this.drops.get(c)?.();
        continue;
      }
      this.pendingBytes.set(c, behind);
      void send(c)
        .catch(() => undefined)
        .finally(() => {
          const n = this.pendingBytes.get(c);
          if (n !== undefined) this.pendingBytes.set(c, n - bytes);
        });
    }
  }

  /** Live work (a running command's output tail, a retry's wait, grading): transient, bounded. */
  live(m: LiveMessage): void {
    const skippable = m.kind === 'output' && !m.done;
    for (const c of this.clients) {
      const pending = this.pendingLive.get(c) ?? 0;
      if (skippable && pending >= LIVE_PENDING_MAX) continue;
      this.pendingLive.set(c, pending + 1);
      void c
        .sendNotification(liveNote, m)
        .catch(() => undefined)
        .finally(() => {
          const n = this.pendingLive.get(c);
          if (n !== undefined) this.pendingLive.set(c, n - 1);
        });
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients) c.dispose();
    this.clients.clear();
    this.pendingLive.clear();
    this.pendingBytes.clear();
    this.drops.clear();
    await new Promise<void>((r) => this.server.close(() => r()));
    const file = join(this.dir, CONTROL_FILE);
    try {
      const info = JSON.parse(readFileSync(file, 'utf8')) as ControlInfo;
      if (info.pid === process.pid) rmSync(file, { force: true });
    } catch {
      // already gone
    }
  }
}

/** A connection to a session's engine. */
export class ControlClient {
  private constructor(private readonly conn: MessageConnection) {}

  /** Connect to the engine of the session in `dir`; undefined when no engine is serving it. */
  static async connect(dir: string): Promise<ControlClient | undefined> {
    const info = readControlInfo(dir);
    if (!info) return undefined;
    const socket = await new Promise<Socket | undefined>((resolve) => {
      const s = createConnection(info.address);
      s.once('connect', () => resolve(s));
      s.once('error', () => resolve(undefined)); // ENOENT / ECONNREFUSED: the engine is gone
    });
    if (!socket) return undefined;
    const conn = createMessageConnection(new SocketMessageReader(socket), new SocketMessageWriter(socket));
    // vscode-jsonrpc leaves a request in flight pending for ever when the socket closes (only dispose
    // rejects it): an engine that exits while a window asks its status would hang that window's start.
    conn.onClose(() => queueMicrotask(() => conn.dispose()));
    conn.listen();
    return new ControlClient(conn);
  }

  status(): Promise<ControlStatus> {
    return this.conn.sendRequest(status);
  }
  pause(): Promise<ControlStatus> {
    return this.conn.sendRequest(pause);
  }
  resume(): Promise<ControlStatus> {
    return this.conn.sendRequest(resume);
  }
  stop(mode: StopMode = 'interrupt'): Promise<ControlStatus> {
    return this.conn.sendRequest(stop, { mode });
  }
  say(text: string): Promise<ControlStatus> {
    return this.conn.sendRequest(say, { text });
  }
  /** Accept or reject a proposal; the engine writes the user's files. */
  decide(d: EditDecision): Promise<DecisionResult> {
    return this.conn.sendRequest(decide, d);
  }
  /** The pending proposals (path, version) and the approval mode. */
  proposals(): Promise<ProposalList> {
    return this.conn.sendRequest(proposals);
  }
  /** One pending proposal with its text and hunks (null: decided or withdrawn meanwhile). */
  proposal(path: string): Promise<Proposal | null> {
    return this.conn.sendRequest(proposal, { path });
  }
  setApproval(mode: ApprovalMode): Promise<ControlStatus> {
    return this.conn.sendRequest(setApproval, { mode });
  }
  /** Rewind the session; resolves once it is done and the agent goes on from there. */
  rewind(r: RewindAsk): Promise<RewindOutcome> {
    // It waits for the agent's step boundary: an engine that dies meanwhile must not leave it hanging.
    const gone = new Promise<never>((_, fail) =>
      this.conn.onClose(() =>
        fail(new Error('The engine closed the connection before the rewind was done.')),
      ),
    );
    return Promise.race([this.conn.sendRequest(rewind, r), gone]);
  }
  /** Answer the engine's questions (spend cap, ask-each edits). */
  onAsk(f: (q: Question) => Promise<Answer>): void {
    this.conn.onRequest(ask, f);
  }
  /** Events from seq `from` on, including the current step's that are not on disk yet. */
  events(from: number): Promise<AgentEvent[]> {
    return this.conn.sendRequest(events, { from });
  }
  onEvent(f: (e: AgentEvent) => void): void {
    this.conn.onNotification(eventNote, f);
  }
  onMessage(f: (m: EngineMessage) => void): void {
    this.conn.onNotification(messageNote, f);
  }
  onLive(f: (m: LiveMessage) => void): void {
    this.conn.onNotification(liveNote, f);
  }
  /** The engine went away (it ended, crashed or was killed). */
  onClose(f: () => void): void {
    this.conn.onClose(f);
  }
  dispose(): void {
    this.conn.dispose();
  }
}
