/**
 * The engine's end of the control channel in `klong reproduce`: clients' commands reach the run,
 * the run's events and messages reach the clients. Commands that come while the container is still
 * being built wait for the run (a stop stops it as soon as it exists, messages go to its first step).
 * Messages go through the session folder's inbox (durable, handed once), and a rewind is written
 * down before it is done (engine/rewind.ts), so a killed engine loses neither.
 */
import { dirname } from 'node:path';
import type { LiveMessage } from '../agent/live';
import { checkRewind, foldHistory } from '../agent/rewind';
import {
  type Answer,
  type ControlHandlers,
  ControlServer,
  type ControlStatus,
  type EngineState,
  EVENTS_PAGE,
  type Question,
  type RewindAsk,
  type StopMode,
} from '../engine/control';
import { InboxReader } from '../engine/inbox';
import type { Reproduction } from '../engine/reproduction';
import { finishPendingRewind, type RewindOutcome, requestRewind } from '../engine/rewind';
import type { AgentEvent } from '../events/events';
import { appendInbox, EventLog, type LiveSession, type SessionSummary } from '../session';

/** How often the inbox is looked at for messages written without the channel (a client that raced the start). */
const INBOX_POLL_MS = 1000;

export class EngineControl {
  private server: ControlServer | undefined;
  private live: LiveSession | undefined;
  private run: Reproduction | undefined;
  private stopping: StopMode | undefined;
  private ended = false;
  private inbox: InboxReader | undefined;
  /** Messages given while the run is being set up (in the inbox; handed at its first step). */
  private queued = 0;
  private inboxPoll: ReturnType<typeof setInterval> | undefined;
  /** A rewind asked over the channel: the run stops at its step boundary, then `rewindNow`. */
  private rewinding:
    | { ask: RewindAsk; paused: boolean; done: (o: RewindOutcome) => void; fail: (e: unknown) => void }
    | undefined;
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
    if (this.server) return; // reopened after a rewind: the same channel goes on
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
    const log = run.live.log;
    this.inbox = new InboxReader(
      run.live.dir,
      () => log.iterate(0, log.count),
      (text, id) => run.agent.injectUserMessage(text, id),
    );
    this.inbox.take();
    this.queued = 0;
    this.inboxPoll ??= setInterval(() => {
      try {
        this.inbox?.take();
      } catch (err) {
        this.warn(`Could not read the session's inbox: ${(err as Error).message}`);
      }
    }, INBOX_POLL_MS);
    this.inboxPoll.unref();
    if (this.stopping) run.stop(this.stopping);
  }

  /** The run ended because a client asked for a rewind (not a stop or Ctrl-C). */
  get rewindDue(): boolean {
    return !!this.rewinding && !this.stopping;
  }

  /**
   * The rewind a client asked for, once the run has stopped at its step boundary: done as for a
   * stopped session (engine/rewind.ts), its events sent to every client, then the session opened
   * again from the new point (paused if it was) and returned.
   */
  async rewindNow(run: Reproduction, dockerHost?: string): Promise<Reproduction> {
    const r = this.rewinding!;
    this.rewinding = undefined;
    this.run = undefined;
    this.inbox = undefined;
    const dir = run.live.dir;
    const from = run.live.log.count;
    await run.dispose();
    let outcome: RewindOutcome | undefined;
    let failure: unknown;
    try {
      outcome = await finishPendingRewind({
        stateDir: dirname(dir),
        sessionId: run.sessionId,
        ...(dockerHost ? { dockerHost } : {}),
      });
    } catch (err) {
      failure = err;
      this.message('warning', `The rewind failed: ${(err as Error).message}`);
    }
    // The rewind's events to every client before the answer, so the asker sees them first.
    const log = EventLog.open(dir, { mode: 'read' });
    try {
      for (const e of log.iterate(from)) this.event(e);
    } finally {
      log.close();
    }
    if (failure) r.fail(failure);
    else r.done(outcome ?? { fromStep: -1, toStep: r.ask.step, mode: r.ask.mode, changedFiles: 0 });
    const next = await run.reopen();
    this.attach(next);
    if (r.paused) next.pause();
    return next;
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
    clearInterval(this.inboxPoll);
    this.rewinding?.fail(new Error('The session stopped before the rewind.'));
    this.rewinding = undefined;
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
        queuedMessages: this.run ? 0 : this.queued,
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
      // Durable first: a message the engine acknowledged survives its crash and reaches the agent once.
      say: (text) => {
        if (!this.live) throw new Error('The session is still starting: try again in a moment.');
        appendInbox(this.live.dir, text);
        if (this.inbox) this.inbox.take();
        else this.queued++;
      },
      rewind: (ask) => {
        const run = this.run;
        if (!run || !this.live)
          throw new Error('The session is still starting: it has no steps to rewind to yet.');
        if (this.stopping) throw new Error('The session is stopping: rewind it once it has stopped.');
        if (this.rewinding) throw new Error('A rewind is already under way.');
        const log = this.live.log;
        checkRewind(foldHistory(log.iterate(0, log.count)), ask.step, ask.mode); // a bad step fails here
        requestRewind(this.live.dir, { toStep: ask.step, mode: ask.mode, afterEvents: log.count });
        return new Promise<RewindOutcome>((done, fail) => {
          this.rewinding = { ask, paused: run.agent.isPaused, done, fail };
          run.stop('interrupt');
        });
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
