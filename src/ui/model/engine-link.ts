/**
 * Following a session that an engine process drives (`klong reproduce --detach`, another window's
 * engine, or this window's own detached engine): the log on disk first, then the rest of the current
 * step from the engine, then every event live over the control channel (engine/control.ts). Pause,
 * resume, stop and messages go to the engine the same way. Seq numbers drop the overlap.
 */

import type { Proposal } from '../../edits/proposal';
import type { ApprovalMode } from '../../edits/queue';
import type {
  Answer,
  ControlClient,
  ControlStatus,
  DecisionResult,
  EditDecision,
  EngineMessage,
  ProposalList,
  Question,
} from '../../engine/control';
import type { AgentEvent } from '../../events/events';
import { EventLog, readControlInfo } from '../../session';

/** What the link feeds (SessionModel fits). */
export interface FollowModel {
  reset(): void;
  applyAll(events: Iterable<AgentEvent>): void;
}

export interface EngineLinkHooks {
  /** Progress messages of the engine (container build, retries, grading) that are not events. */
  onMessage?(m: EngineMessage): void;
  /** The channel closed: the engine ended the session (`ended`), or it went away (crash, kill). */
  onClosed?(link: EngineLink, ended: boolean): void;
  onWarning?(m: string): void;
  /** The engine asks the user (spend cap, ask-each edit); throw to leave it unanswered. */
  onAsk?(q: Question): Promise<Answer>;
  /** Each event that arrives live (after the log and the current step were read). */
  onEvent?(e: AgentEvent): void;
}

/** True when an engine (not a window driving the agent in its own host) serves the session in `dir`. */
export function engineServes(dir: string, lockPid: number | undefined): boolean {
  const info = readControlInfo(dir);
  return !!info && (lockPid === undefined || info.pid === lockPid);
}

export class EngineLink {
  private lastSeq = -1;
  private ended = false;
  private disposed = false;

  private constructor(
    readonly sessionId: string,
    readonly dir: string,
    private readonly client: ControlClient,
  ) {}

  /** Attach to the engine of the session in `dir`; undefined when no engine answers there. */
  static async follow(
    dir: string,
    model: FollowModel,
    hooks: EngineLinkHooks = {},
  ): Promise<EngineLink | undefined> {
    const { ControlClient } = await import('../../engine/extension-api');
    const client = await ControlClient.connect(dir);
    if (!client) return undefined;
    // First: the engine may ask at once (a spend cap that waited for a window).
    if (hooks.onAsk) client.onAsk(hooks.onAsk);
    let status: ControlStatus;
    try {
      status = await client.status();
    } catch {
      client.dispose();
      return undefined;
    }
    const link = new EngineLink(status.sessionId, dir, client);
    // Subscribe before reading the log so that nothing falls between the two.
    const early: AgentEvent[] = [];
    let ready = false;
    client.onEvent((e) => {
      if (!ready) early.push(e);
      else {
        link.take(model, [e]);
        hooks.onEvent?.(e);
      }
    });
    if (hooks.onMessage) client.onMessage(hooks.onMessage);
    client.onClose(() => {
      if (link.disposed) return;
      link.disposed = true;
      hooks.onClosed?.(link, link.ended);
    });

    model.reset();
    const log = EventLog.open(dir, {
      mode: 'read',
      ...(hooks.onWarning ? { onWarning: hooks.onWarning } : {}),
    });
    try {
      link.take(model, log.iterate(0));
    } finally {
      log.close();
    }
    // The current step's events are flushed at its end; the engine has them now.
    try {
      for (;;) {
        const page = await client.events(link.lastSeq + 1);
        link.take(model, page);
        if (page.length === 0 || page.length < 5000) break;
      }
    } catch {
      // An engine of an earlier version: live events fill in from here.
    }
    ready = true;
    link.take(model, early.splice(0));
    return link;
  }

  /** Apply the events not seen yet, in one batch. */
  private take(model: FollowModel, events: Iterable<AgentEvent>): void {
    const self = this;
    model.applyAll(
      (function* () {
        for (const e of events) {
          if (e.seq <= self.lastSeq) continue;
          self.lastSeq = e.seq;
          if (e.type === 'end') self.ended = true;
          yield e;
        }
      })(),
    );
  }

  get isOpen(): boolean {
    return !this.disposed;
  }

  status(): Promise<ControlStatus> {
    return this.client.status();
  }
  pause(): Promise<ControlStatus> {
    return this.client.pause();
  }
  resume(): Promise<ControlStatus> {
    return this.client.resume();
  }
  stop(mode: 'interrupt' | 'end' = 'end'): Promise<ControlStatus> {
    return this.client.stop(mode);
  }
  say(text: string): Promise<ControlStatus> {
    return this.client.say(text);
  }
  decide(d: EditDecision): Promise<DecisionResult> {
    return this.client.decide(d);
  }
  proposals(): Promise<ProposalList> {
    return this.client.proposals();
  }
  proposal(path: string): Promise<Proposal | null> {
    return this.client.proposal(path);
  }
  setApproval(mode: ApprovalMode): Promise<ControlStatus> {
    return this.client.setApproval(mode);
  }

  /** Stop following (the engine goes on). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.client.dispose();
  }
}
