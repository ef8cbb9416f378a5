/**
 * What the loop tells about background jobs at a resume, after each step and when the session
 * stops. Apart from loop.ts so the loop reads as its step sequence, and from jobs.ts (the container
 * side) because it speaks in events.
 */

import type { AgentEventBody } from '../events/events';
import type { Sandbox } from '../sandbox/sandbox';
import {
  describeState,
  endStateOf,
  type JobRecord,
  type JobStatus,
  jobLabel,
  jobStatuses,
  missingJob,
  stopJobs,
} from './jobs';

export interface LoopJobs {
  sandbox: Sandbox;
  jobsDir?: string | undefined;
  /** The session's jobs as the log has them now (read after each emit: events change them). */
  jobs: () => Record<string, JobRecord> | undefined;
  emit: (e: AgentEventBody) => void;
  activeMs: () => number;
}

/** Ids of the jobs the log says are running. */
export function runningJobs(jobs: Record<string, JobRecord> | undefined): string[] {
  return Object.values(jobs ?? {})
    .filter((j) => !j.ended)
    .map((j) => j.id);
}

function jobEnded(s: JobStatus, jobs: Record<string, JobRecord> | undefined): AgentEventBody | undefined {
  const state = endStateOf(s);
  if (!state) return undefined;
  return {
    type: 'job_ended',
    jobId: s.id,
    ...(jobs?.[s.id] ? { name: jobs[s.id]!.name } : {}),
    state,
    exitCode: s.exitCode,
    ...(s.end !== null && s.start ? { durationMs: Math.max(0, s.end - s.start) } : {}),
  };
}

/** One line for the resume reminder about a job the log had as running. */
function resumeLine(s: JobStatus, label: string): string {
  switch (s.state) {
    case 'running':
      return `- ${label} is still running (${describeState(s)}).`;
    case 'missing':
      return `- ${label} was lost: the container was recreated, so the job and its log are gone. Start it again if you still need it.`;
    case 'lost':
      return `- ${label} was lost: its process is gone without an exit code (the container was restarted). Its log is still there (job_output). Start it again if you still need it.`;
    default:
      return `- ${label} ${describeState(s)} while the session was not running. Read its output with job_output.`;
  }
}

/**
 * At the start of a run (a resume): the jobs the log says are running are looked up in the
 * container. Those still running are reported to the agent; those that ended meanwhile or were
 * lost with the container get their job_ended event and are reported too — never silently.
 */
export async function reconcileJobs(o: LoopJobs, step: number): Promise<void> {
  const ids = runningJobs(o.jobs());
  if (ids.length === 0) return;
  let statuses: JobStatus[];
  try {
    statuses = await jobStatuses(o.sandbox, ids, 0, o.jobsDir);
  } catch (err) {
    statuses = ids.map((id) => missingJob(id));
    o.emit({
      type: 'error',
      message: `Could not look up the background jobs in the container: ${err instanceof Error ? err.message : String(err)}`,
      fatal: false,
    });
  }
  const lines: string[] = [];
  for (const id of ids) {
    const s = statuses.find((x) => x.id === id) ?? missingJob(id);
    const ended = jobEnded(s, o.jobs());
    if (ended) o.emit(ended);
    lines.push(resumeLine(s, jobLabel(id, o.jobs())));
  }
  o.emit({
    type: 'reminder',
    step,
    text: `The session was resumed. Background jobs started before:\n${lines.join('\n')}`,
    activeMs: o.activeMs(),
  });
}

/** After a step: jobs that ended meanwhile get their event, and the agent a line about it. */
export async function pollJobs(o: LoopJobs, step: number): Promise<void> {
  const ids = runningJobs(o.jobs());
  if (ids.length === 0) return;
  const statuses = await jobStatuses(o.sandbox, ids, 0, o.jobsDir).catch(() => [] as JobStatus[]);
  const lines: string[] = [];
  for (const s of statuses) {
    const ended = jobEnded(s, o.jobs());
    if (!ended) continue;
    o.emit(ended);
    lines.push(
      `Background job ${jobLabel(s.id, o.jobs())} ${s.state === 'missing' ? 'was lost' : describeState(s)}.`,
    );
  }
  if (lines.length)
    o.emit({
      type: 'reminder',
      step,
      text: `${lines.join('\n')} Read the output with job_output.`,
      activeMs: o.activeMs(),
    });
}

/** The session stops: so do its jobs (a crash leaves them running for a resume to find). */
export async function stopSessionJobs(o: LoopJobs, why: string): Promise<void> {
  const ids = runningJobs(o.jobs());
  if (ids.length === 0) return;
  try {
    const stopped = await stopJobs(o.sandbox, ids, o.jobsDir);
    for (const id of ids) {
      const s = stopped.find((x) => x.id === id);
      const e = s ? jobEnded(s, o.jobs()) : undefined;
      o.emit(
        e ?? {
          type: 'job_ended',
          jobId: id,
          name: o.jobs()?.[id]?.name,
          state: 'lost',
          exitCode: null,
        },
      );
    }
  } catch (err) {
    o.emit({
      type: 'error',
      message: `Could not stop the background jobs (${ids.join(', ')}) when ${why}: ${err instanceof Error ? err.message : String(err)}`,
      fatal: false,
    });
  }
}
