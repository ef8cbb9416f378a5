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
        ...(this.run ? { approval: this.run.queue.mode } : {}),
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
        const opts = {
          ...(d.hunks ? { hunks: d.hunks } : {}),
          ...(d.version !== undefined ? { version: d.version } : {}),
        };
        const o =
          d.decision === 'accept'
            ? await run.queue.accept(d.path, {
                ...opts,
                ...(d.onConflict ? { onConflict: d.onConflict } : {}),
              })
            : await run.queue.reject(d.path, { ...opts, ...(d.reason ? { reason: d.reason } : {}) });
        // The agent's feedback text stays in the engine; the client gets what the user sees.
        if ('feedback' in o) {
          const { feedback: _, ...shown } = o;
          return shown;
        }
        return o;
      },
      proposals: async () => ({
        approval: this.run?.queue.mode ?? 'review',
        proposals: ((await this.run?.queue.settled()) ?? []).map((p) => ({
          path: p.path,
          version: p.version,
          ...(p.sensitive ? { sensitive: p.sensitive } : {}),
        })),
      }),
      proposal: (path) => this.run?.queue.get(path) ?? null,
      setApproval: (mode) => {
        if (!this.run) throw new Error('The session is still starting: set the approval mode when it runs.');
        this.run.queue.setMode(mode);
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
