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
import { foldLog, type LogModel, writeModelCheckpoint } from './model-checkpoint';
import type { ModelCore } from './session-model';

/** What the link feeds (SessionModel fits). */
export interface FollowModel extends LogModel {
  /** The model now, to write as a checkpoint (model-checkpoint.ts). */
  checkpoint?(): ModelCore | undefined;
}

/** Events folded since the last checkpoint after which a window writes a new one while it follows. */
const CHECKPOINT_EVERY = 2000;
/** Fewer new events than this are not worth a new checkpoint. */
const CHECKPOINT_MIN = 64;

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
  /** Seq of the checkpoint this window last read or wrote. */
  private checkpointSeq = -1;
  /**
   * The model as it was at the end of a step (the engine writes a step's events to the log at its
   * end, so a checkpoint of the model mid-step would be ahead of the log and of no use).
   */
  private boundary: ModelCore | undefined;

  private constructor(
    readonly sessionId: string,
    readonly dir: string,
    private readonly client: ControlClient,
    private readonly model: FollowModel,
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
    const link = new EngineLink(status.sessionId, dir, client, model);
    // Subscribe before reading the log so that nothing falls between the two.
    const early: AgentEvent[] = [];
    let ready = false;
    client.onEvent((e) => {
      if (!ready) {
        early.push(e);
        return;
      }
      // A new step: the ones before it are in the log. A long follow keeps the checkpoint near the end.
      if (e.type === 'model_request') {
        link.noteBoundary();
        if (link.lastSeq - link.checkpointSeq >= CHECKPOINT_EVERY) link.saveCheckpoint();
      }
      link.take(model, [e]);
      hooks.onEvent?.(e);
    });
    if (hooks.onMessage) client.onMessage(hooks.onMessage);
    client.onClose(() => {
      if (link.disposed) return;
      link.disposed = true;
      link.saveCheckpoint();
      hooks.onClosed?.(link, link.ended);
    });

    const log = EventLog.open(dir, {
      mode: 'read',
      ...(hooks.onWarning ? { onWarning: hooks.onWarning } : {}),
    });
    try {
      foldLog(model, log, {
        restored: (core) => {
          link.lastSeq = core.seq;
          link.checkpointSeq = core.seq;
        },
        seen: (events) => link.seen(events),
      });
      link.noteBoundary(); // the end of the log is the end of a step
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
    // After the view has its state: the next window starts from here.
    setTimeout(() => link.saveCheckpoint(), 1000).unref?.();
    return link;
  }

  /** Remember the model as it is now as one the log holds (called at the end of a step). */
  private noteBoundary(): void {
    if (this.lastSeq - this.checkpointSeq >= CHECKPOINT_MIN) this.boundary = this.model.checkpoint?.();
  }

  /** Write the newest checkpoint the log holds: the model now when the log has caught up, else the last step's end. */
  private saveCheckpoint(): void {
    if (this.lastSeq - this.checkpointSeq < CHECKPOINT_MIN) return;
    try {
      for (const core of [this.model.checkpoint?.(), this.boundary]) {
        if (!core || core.seq <= this.checkpointSeq || core.seq > this.lastSeq) continue;
        if (writeModelCheckpoint(this.dir, core)) {
          this.checkpointSeq = core.seq;
          this.boundary = undefined;
          return;
        }
      }
    } catch {
      // A cache: the next window folds the log instead.
    }
  }

  /** Apply the events not seen yet, in one batch. */
  private take(model: FollowModel, events: Iterable<AgentEvent>): void {
    model.applyAll(this.seen(events));
  }

  /** The events not seen yet (seq numbers drop the overlap of the log and the engine's events). */
  private seen(events: Iterable<AgentEvent>): Iterable<AgentEvent> {
    const self = this;
    return (function* () {
      for (const e of events) {
        if (e.seq <= self.lastSeq) continue;
        self.lastSeq = e.seq;
        if (e.type === 'end') self.ended = true;
        yield e;
      }
    })();
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
    this.saveCheckpoint();
    this.client.dispose();
  }
}
