/**
 * The blacklist in a running session: the guard git gets inside the containers, and the monitor that
 * scans each step's tool calls and outputs and records what it finds as `blacklist_finding` events.
 * Before grading, the whole log is scanned again (a resumed session's monitor starts without the
 * variables of earlier steps; a crash can cut a step short), and findings not yet recorded are added.
 */

import { FINAL_CALL_ID } from '../agent/replay';
import type { AgentEvent, AgentEventBody } from '../events/events';
import { type Blacklist, type BlacklistHit, BlacklistMonitor, type ScannableEvent } from '../paper';
import { type GitGuardFiles, gitGuardFiles, guardTampering } from '../paper/blacklist/guard';

type FindingEvent = Extract<AgentEventBody, { type: 'blacklist_finding' }>;

export function findingEvent(h: BlacklistHit): FindingEvent {
  return {
    type: 'blacklist_finding',
    step: h.step,
    ...(h.callSeq !== undefined ? { callSeq: h.callSeq } : {}),
    ...(h.seq !== undefined ? { seenSeq: h.seq } : {}),
    ...(h.callId ? { callId: h.callId } : {}),
    where: h.where,
    tool: h.tool,
    repo: h.entry.pattern,
    source: h.entry.source,
    found: h.found,
    how: h.how,
    command: h.command,
  };
}

/** A recorded finding as the grade and the report take it. */
export function hitFromEvent(e: FindingEvent): BlacklistHit {
  return {
    entry: { pattern: e.repo, raw: e.repo, source: e.source },
    found: e.found,
    how: e.how as BlacklistHit['how'],
    where: e.where,
    tool: e.tool,
    step: e.step,
    ...(e.seenSeq !== undefined ? { seq: e.seenSeq } : {}),
    ...(e.callSeq !== undefined ? { callSeq: e.callSeq } : {}),
    ...(e.callId ? { callId: e.callId } : {}),
    command: e.command,
    excerpt: e.found,
  };
}

export class BlacklistWatch {
  /** Files of the git guard for the containers; undefined when nothing is blacklisted. */
  readonly gitGuard: GitGuardFiles | undefined;
  private monitor: BlacklistMonitor;
  private pending: ScannableEvent[] = [];

  constructor(
    private readonly blacklist: Blacklist,
    private readonly emit: (e: AgentEventBody) => void,
  ) {
    this.gitGuard = blacklist.size ? gitGuardFiles(blacklist) : undefined;
    this.monitor = new BlacklistMonitor(blacklist);
  }

  /** The bash tool's refusal: a blacklisted repository in any spelling, or a hand on the git guard. */
  refusal(command: string): string | undefined {
    return this.monitor.refusal(command) ?? (this.gitGuard ? guardTampering(command) : undefined);
  }

  /** Every event the session appends; tool calls and results wait for the end of the step. */
  see(e: AgentEvent): void {
    if (this.blacklist.size && (e.type === 'tool_call' || e.type === 'tool_result')) this.pending.push(e);
  }

  /** After each step: the step's findings become events. */
  endStep(): number {
    const events = this.pending;
    this.pending = [];
    let n = 0;
    for (const e of events)
      for (const h of this.monitor.observe(e)) {
        this.emit(findingEvent(h));
        n++;
      }
    return n;
  }

  /**
   * Before grading: the whole log scanned in order, then the final run's output (reproduce.sh in its
   * fresh container, not logged yet); findings not in the log yet are recorded. Returns every finding
   * of the session (recorded before and now).
   */
  beforeGrading(log: Iterable<AgentEvent>, finalRun?: { step: number; log: string }): BlacklistHit[] {
    this.pending = [];
    const events: ScannableEvent[] = [...log];
    if (finalRun) {
      const final = { step: finalRun.step, callId: FINAL_CALL_ID, name: 'final_reproduction' };
      events.push(
        { ...final, type: 'tool_call', args: JSON.stringify({ command: 'bash reproduce.sh' }) },
        { ...final, type: 'tool_result', output: finalRun.log },
      );
    }
    const recorded = events.filter((e): e is ScannableEvent & FindingEvent => e.type === 'blacklist_finding');
    const full = new BlacklistMonitor(this.blacklist);
    for (const r of recorded)
      full.markRecorded({
        ...(r.callSeq !== undefined ? { callSeq: r.callSeq } : {}),
        ...(r.callId ? { callId: r.callId } : {}),
        repo: r.repo,
      });
    const fresh = events.flatMap((e) => full.observe(e));
    for (const h of fresh) this.emit(findingEvent(h));
    // The per-step monitor must not record these again if the session goes on after grading.
    this.monitor = full;
    return [...recorded.map(hitFromEvent), ...fresh];
  }
}
