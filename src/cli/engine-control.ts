/**
 * The engine's end of the control channel in `klong reproduce`: clients' commands reach the run,
 * the run's events and messages reach the clients. Commands that come while the container is still
 * being built wait for the run (a stop stops it as soon as it exists, messages go to its first step).
 */

import type { AgentEvent } from '../agent/events';
import { fromUser } from '../agent/prompt';
import {
  type ControlHandlers,
  ControlServer,
  type ControlStatus,
  type EngineState,
  EVENTS_PAGE,
  type StopMode,
} from '../engine/control';
import type { Reproduction } from '../engine/reproduction';
import type { LiveSession } from '../session';

export class EngineControl {
  private server: ControlServer | undefined;
  private live: LiveSession | undefined;
  private run: Reproduction | undefined;
  private stopping: StopMode | undefined;
  private ended = false;
  private readonly early: string[] = [];

  constructor(
    private readonly budgetMs: number,
    private readonly warn: (m: string) => void = () => undefined,
  ) {}

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
      }),
      pause: () => this.run?.pause(),
      resume: () => this.run?.resume(),
      stop: (mode) => {
        this.stopping = mode;
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
      say: (text) => {
        if (this.run) this.run.agent.injectUserMessage(fromUser(text));
        else this.early.push(text);
      },
    };
  }
}
