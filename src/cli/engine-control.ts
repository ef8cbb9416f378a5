/**
 * The engine's end of the control channel in `klong reproduce`: clients' commands reach the run,
 * the run's events and messages reach the clients. Commands that come while the container is still
 * being built wait for the run (a stop stops it as soon as it exists, messages go to its first step).
 */

import type { LiveMessage } from '../agent/live';
import { fromUser } from '../agent/prompt';
import {
  type Answer,
  type ControlHandlers,
  ControlServer,
  type ControlStatus,
  type EngineState,
  EVENTS_PAGE,
  type Question,
  type StopMode,
} from '../engine/control';
import type { Reproduction } from '../engine/reproduction';
import type { AgentEvent } from '../events/events';
import type { LiveSession, SessionSummary } from '../session';

export class EngineControl {
  private server: ControlServer | undefined;
  private live: LiveSession | undefined;
  private run: Reproduction | undefined;
  private stopping: StopMode | undefined;
  private ended = false;
  private readonly early: string[] = [];
  /** Aborted when the session stops: a question waiting for a client gives up. */
  private readonly stopped = new AbortController();

  constructor(
    private readonly budgetMs: number,
    private readonly warn: (m: string) => void = () => undefined,
    /** Questions wait for a client to attach (VS Code's engine) instead of being answered "no". */
    private readonly waitForClient = false,
  ) {}

  /**
   * Ask the user through the clients (VS Code answers; `klong attach` cannot). Without one that
   * answers: undefined, or, for an engine VS Code started, the question waits for a window.
   */
  async ask(q: Question): Promise<Answer | undefined> {
    if (!this.server) return undefined;
    // The spend cap waits (the session is paused, its status says why); an edit without a window
    // to ask stays in the proposals for review and the agent goes on.
    const wait = this.waitForClient && q.kind === 'spendCap';
    if (wait && this.server.clientCount === 0)
      this.message('warning', `Waiting for a VS Code window to answer: ${describeQuestion(q)}`);
    return this.server.ask(q, { wait, cancel: this.stopped.signal });
  }

  /** Serve the session's control channel; the session runs on without it if the socket cannot be made. */
  async open(live: LiveSession): Promise<void> {
    this.live = live;
    try {
      this.server = await ControlServer.listen(live.dir, this.handlers());
    } catch (err) {
      this.warn(
        `klong attach/say/stop cannot reach this session: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** The run exists: hand it what came while it was being set up. */
  attach(run: Reproduction): void {
    this.run = run;
    for (const text of this.early.splice(0)) run.agent.injectUserMessage(fromUser(text));
    if (this.stopping) run.stop(this.stopping);
  }

  event(e: AgentEvent): void {
    if (e.type === 'end') this.ended = true;
    this.server?.event(e);
  }

  message(level: 'info' | 'warning', text: string): void {
    this.server?.message({ level, text });
  }

  /** Live work to every client (transient: not in the log). */
  onLive(m: LiveMessage): void {
    this.server?.live(m);
  }

  /**
   * After the end: wait while proposals are pending and a client is attached (or was, less than
   * `graceMs` ago: a window reloading follows again), so they can be decided from it.
   */
  async untilReviewed(run: Reproduction, graceMs = 20_000, pollMs = 500): Promise<void> {
    let lastSeen = Date.now();
    while (this.server && run.queue.list().length > 0) {
      if (this.server.clientCount > 0) lastSeen = Date.now();
      else if (Date.now() - lastSeen > graceMs) return;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await s?.close();
  }

  private state(): EngineState {
    if (this.ended) return 'ended';
    if (this.stopping) return 'stopping';
    if (!this.run) return 'starting';
    return this.run.agent.isPaused ? 'paused' : 'running';
  }

  private handlers(): ControlHandlers {
    return {
      status: (): ControlStatus => ({
        sessionId: this.live?.sessionId ?? '',
        pid: process.pid,
        state: this.state(),
        step: this.run?.agent.step ?? 0,
        activeMs: this.run?.budget.activeMs() ?? this.live?.summary.activeMs ?? 0,
        budgetMs: this.live?.summary.budgetMs || this.budgetMs,
        queuedMessages: this.early.length,
        ...(this.live ? { usage: usageOf(this.live.summary) } : {}),
      }),
      pause: () => this.run?.pause(),
      resume: () => this.run?.resume(),
      stop: (mode) => {
        this.stopping = mode;
        this.stopped.abort();
        this.run?.stop(mode);
      },
      events: (from) => {
        const log = this.live?.log;
        try {
          return log ? log.read(from, Math.min(log.count, from + EVENTS_PAGE)) : [];
        } catch {
          return []; // the session closed meanwhile: its log on disk is complete
        }
      },
      decide: async (d) => {
        const run = this.run;
        if (!run) throw new Error('The session is still starting: it has no proposals yet.');
        if (!run.queue.get(d.path)) throw new Error(`No pending proposal for ${d.path}.`);
        const o =
          d.decision === 'accept'
            ? await run.queue.accept(d.path)
            : await run.queue.reject(d.path, d.reason ? { reason: d.reason } : {});
        return { status: o.status, message: o.message };
      },
      say: (text) => {
        if (this.run) this.run.agent.injectUserMessage(fromUser(text));
        else this.early.push(text);
      },
    };
  }
}

function usageOf(s: SessionSummary): NonNullable<ControlStatus['usage']> {
  const t = s.tokens ?? { prompt: 0, cached: 0, completion: 0, estimated: false };
  return { seq: s.seq, ...t, usd: s.costUsd };
}

function describeQuestion(q: Question): string {
  return q.kind === 'spendCap' ? q.reason : `accept the change to ${q.path}?`;
}
