/**
 * What the job tools say about jobs: one line per job with its last lines, job_output's text, and
 * the job_ended events for ends the session has not recorded yet. Apart from the tools because it
 * is formatting, tested on its own.
 */

import type { AgentEventBody } from '../../events/events';
import { cleanLines, describeState, endStateOf, formatBytes, type JobStatus, jobLabel } from '../jobs';
import type { ToolContext } from './types';

/** Lines of a job's end kept in its job_ended event and shown by job_status. */
export const EVENT_TAIL_LINES = 10;
const EVENT_TAIL_BYTES = 2048;

/** The ended-job events for statuses the session has not recorded as ended yet (each once). */
export function endEvents(
  statuses: JobStatus[],
  ctx: ToolContext,
  seen = new Set<string>(),
): AgentEventBody[] {
  const out: AgentEventBody[] = [];
  for (const s of statuses) {
    const known = ctx.jobs?.[s.id];
    const state = endStateOf(s);
    if (!known || known.ended || !state || seen.has(s.id)) continue;
    seen.add(s.id);
    out.push({
      type: 'job_ended',
      jobId: s.id,
      name: known.name,
      state,
      exitCode: s.exitCode,
      ...(s.end !== null ? { durationMs: Math.max(0, s.end - s.start) } : {}),
      ...(s.tail ? { tail: tailText(s.tail) } : {}),
    });
  }
  return out;
}

function tailText(raw: string): string {
  const t = cleanLines(raw, 300).slice(-EVENT_TAIL_LINES).join('\n');
  return t.length > EVENT_TAIL_BYTES ? t.slice(t.length - EVENT_TAIL_BYTES) : t;
}

/** One job for the model: "j1 (train): running for 3m 20s, 1.2 MB of output" + its last lines. */
export function describeJob(s: JobStatus, ctx: Pick<ToolContext, 'jobs'>, lines = 3): string {
  const head = `${jobLabel(s.id, ctx.jobs)}: ${describeState(s)}${s.state === 'missing' ? '' : `, ${formatBytes(s.size)} of output`}`;
  const last = cleanLines(s.tail, 200).slice(-lines);
  return last.length ? `${head}\n${last.map((l) => `    ${l}`).join('\n')}` : head;
}

export function knownIds(ctx: ToolContext): string {
  const ids = Object.keys(ctx.jobs ?? {});
  return ids.length
    ? `Jobs of this session: ${ids.join(', ')}.`
    : 'This session has no jobs; start one with job_start.';
}

/** The job_output result text: where in the log this is, the lines, and what was cut. */
export function formatJobOutput(
  id: string,
  out: { size: number; lines: number; state: string; exitCode: number | null; text: string; cut: boolean },
  req: { start?: number | undefined; end?: number | undefined; tail: number; maxBytes: number },
  ctx: Pick<ToolContext, 'jobs'>,
): string {
  const lines = cleanLines(out.text);
  const state =
    out.state === 'running'
      ? 'running'
      : out.state === 'exited'
        ? `exited with code ${out.exitCode}`
        : out.state;
  const head = `Job ${jobLabel(id, ctx.jobs)}, ${state}; log: ${formatBytes(out.size)}, ${out.lines} lines.`;
  if (out.lines === 0) return `${head}\n(no output yet)`;
  let where: string;
  if (req.start !== undefined) {
    if (req.start > out.lines) return `${head}\nLine ${req.start} is past the end of the log.`;
    const last = Math.min(out.lines, req.end ?? req.start + 199);
    where = out.cut
      ? `Lines ${req.start}–${req.start + Math.max(0, lines.length - 1)} (cut at ${formatBytes(req.maxBytes)}; ask for the next lines with start_line):`
      : `Lines ${req.start}–${last}:`;
  } else {
    const first = Math.max(1, out.lines - Math.min(req.tail, out.lines) + 1);
    where = out.cut
      ? `The end of lines ${first}–${out.lines} (cut at ${formatBytes(req.maxBytes)}: only the last part is shown):`
      : `Lines ${first}–${out.lines}:`;
  }
  return `${head}\n${where}\n${lines.join('\n')}`;
}
