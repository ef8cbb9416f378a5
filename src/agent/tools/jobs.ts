/**
 * Background jobs as tools: job_start, job_status, job_output, job_wait, job_stop (see jobs.ts for
 * the container side). job_wait blocks in the tool, polling the container, so waiting for a training
 * run costs active time but no model request.
 */

import { abortableSleep } from '../../llm/sleep';
import {
  describeState,
  endStateOf,
  JOBS_DIR,
  type JobRecord,
  type JobStatus,
  jobOutput,
  jobStatuses,
  missingJob,
  nextJobId,
  startJob,
  stopJobs,
} from '../jobs';
import type { JsonSchema } from './args';
import { jobArgs } from './job-args';
import { describeJob, EVENT_TAIL_LINES, endEvents, formatJobOutput, knownIds } from './job-report';
import { fail, type Tool, type ToolContext } from './types';

/** Bytes of job output one job_output call returns at most (the model may ask for less). */
export const MAX_OUTPUT_BYTES = 64 * 1024;
const DEFAULT_OUTPUT_BYTES = 16 * 1024;
/** A wait without a limit covers a long training run (and never outlives the time budget). */
const DEFAULT_WAIT_S = 2 * 3600;
/** Jobs listed by one job_status (running ones first, then the latest). */
const MAX_LISTED = 30;

const jobStart: Tool = {
  spec: {
    name: 'job_start',
    description:
      "Start a long command (training, a big download, a full evaluation: anything over a few minutes) as a background job and return its id at once. It runs in the container in its own process group, in the current folder with the shell's exported variables; its output (stdout+stderr) goes to a log file. Then keep working, or call job_wait to wait for it without spending tokens; read the output with job_output, stop it with job_stop.",
    parameters: {
      type: 'object',
      properties: {
        command: { type: 'string', description: 'The command line (run with bash -c).' },
        name: { type: 'string', description: 'A short name for the job, e.g. "train-resnet".' },
      },
      required: ['command'],
    },
  },
  async run(args, ctx) {
    const command = args.command as string;
    if (!command.trim()) return fail('job_start: the command is empty.');
    const why = ctx.isBlocked?.(command);
    if (why) return fail(`Command refused: ${why}`);
    const name =
      (typeof args.name === 'string' && args.name.trim()) || command.trim().split('\n')[0]!.slice(0, 40);
    // An id left in the container by a rewound branch of the session is skipped.
    const known: Record<string, JobRecord> = { ...ctx.jobs };
    let lastError = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const id = nextJobId(known);
      try {
        const st = await startJob(ctx.sandbox, { id, name, command }, ctx.jobsDir);
        const ended = endStateOf(st);
        return {
          ok: true,
          output: `Started job ${id} (${name}): ${ended ? describeState(st) : 'running'}. Output goes to ${ctx.jobsDir ?? JOBS_DIR}/${id}/log. Call job_wait to wait for it (no tokens spent while waiting), job_output to read its output, job_stop to stop it.`,
          events: [{ type: 'job_started', step: 0, jobId: id, name, command }],
        };
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        if (!/exists already/.test(lastError)) break;
        known[id] = { id, name: id, command: '', step: 0, startedAt: 0 };
      }
    }
    return fail(`job_start failed: ${lastError}`);
  },
};

const jobStatus: Tool = {
  spec: {
    name: 'job_status',
    description:
      'List the background jobs: each one running or ended (exit code), its elapsed time, output size and last lines.',
    parameters: { type: 'object', properties: {} },
  },
  async run(_args, ctx) {
    const statuses = await jobStatuses(ctx.sandbox, [], 3, ctx.jobsDir);
    // Jobs the session started that the container no longer has (it was recreated).
    const have = new Set(statuses.map((s) => s.id));
    const now = statuses[0]?.now ?? Date.now();
    for (const j of Object.values(ctx.jobs ?? {}))
      if (!have.has(j.id) && !j.ended) statuses.push(missingJob(j.id, now));
    if (statuses.length === 0) return { ok: true, output: 'No background jobs. Start one with job_start.' };
    const events = endEvents(statuses, ctx);
    const sorted = statuses.sort(
      (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.start - a.start,
    );
    const shown = sorted.slice(0, MAX_LISTED);
    const running = statuses.filter((s) => s.state === 'running').length;
    const more =
      sorted.length > shown.length ? `\n(${sorted.length - shown.length} older jobs not shown)` : '';
    return {
      ok: true,
      output: `${running} running, ${statuses.length - running} ended.\n${shown.map((s) => describeJob(s, ctx)).join('\n')}${more}`,
      ...(events.length ? { events } : {}),
    };
  },
};

const outputParams: JsonSchema & Record<string, unknown> = {
  type: 'object',
  properties: {
    id: { type: 'string', description: 'The job id (e.g. "j1").' },
    tail_lines: { type: 'integer', description: 'The last N lines (default 100).' },
    start_line: {
      type: 'integer',
      description: 'First line of a range (1-based); pages through the whole log.',
    },
    end_line: { type: 'integer', description: 'Last line of the range (default start_line + 199).' },
    max_bytes: {
      type: 'integer',
      description: `Cap on the text returned (default ${DEFAULT_OUTPUT_BYTES}, at most ${MAX_OUTPUT_BYTES}).`,
    },
  },
  required: ['id'],
};

const jobOutputTool: Tool = {
  spec: {
    name: 'job_output',
    description:
      "Read a background job's output: the last lines (default), or a range of lines to page through the whole log. Progress-bar updates (carriage returns) show as their last state.",
    parameters: outputParams,
  },
  args: jobArgs(outputParams, {
    job_id: 'id',
    tail: 'tail_lines',
    lines: 'tail_lines',
    start: 'start_line',
    end: 'end_line',
  }),
  async run(args, ctx) {
    const id = args.id as string;
    const maxBytes = Math.min(
      MAX_OUTPUT_BYTES,
      Math.max(256, (args.max_bytes as number | undefined) ?? DEFAULT_OUTPUT_BYTES),
    );
    const start = args.start_line as number | undefined;
    if (start !== undefined && start < 1)
      return fail('job_output: start_line is 1-based (the first line is 1).');
    const end = args.end_line as number | undefined;
    if (start !== undefined && end !== undefined && end < start)
      return fail(`job_output: end_line (${end}) is before start_line (${start}).`);
    const tail = Math.max(1, Math.min(100_000, (args.tail_lines as number | undefined) ?? 100));
    const out = await jobOutput(
      ctx.sandbox,
      {
        id,
        maxBytes,
        ...(start !== undefined ? { start, ...(end !== undefined ? { end } : {}) } : { tail }),
      },
      ctx.jobsDir,
    );
    if (!out) return fail(`No job "${id}". ${knownIds(ctx)}`);
    return { ok: true, output: formatJobOutput(id, out, { start, end, tail, maxBytes }, ctx) };
  },
};

const waitParams: JsonSchema & Record<string, unknown> = {
  type: 'object',
  properties: {
    ids: {
      type: 'array',
      items: { type: 'string' },
      description: 'Jobs to wait for (default: every running job).',
    },
    all: {
      type: 'boolean',
      description: 'Wait until all of them have ended (default: return when any ends).',
    },
    timeout_seconds: {
      type: 'integer',
      description: `Return after this long even if none ended (default ${DEFAULT_WAIT_S}; at most the time budget left).`,
    },
  },
};

const jobWait: Tool = {
  spec: {
    name: 'job_wait',
    description:
      'Wait for background jobs to end, without spending tokens: returns when one ends (or all, with all=true) or when timeout_seconds pass, with their state and last lines. The wait counts as active time. Use it instead of polling with sleep.',
    parameters: waitParams,
  },
  args: jobArgs(waitParams, { job_ids: 'ids', id: 'ids', jobs: 'ids', timeout: 'timeout_seconds' }),
  async run(args, ctx) {
    const asked = args.ids as string[] | undefined;
    const all = args.all === true;
    const budgetMs = ctx.maxBashTimeoutMs ?? Number.POSITIVE_INFINITY;
    const askedS = args.timeout_seconds as number | undefined;
    const limitMs = Math.max(
      1_000,
      Math.min((askedS !== undefined && askedS > 0 ? askedS : DEFAULT_WAIT_S) * 1000, budgetMs),
    );
    const t0 = Date.now();
    // Without ids: every job still running, and those that ended since the session last heard of them.
    const unreported = Object.values(ctx.jobs ?? {})
      .filter((j) => !j.ended)
      .map((j) => j.id);
    let statuses = await jobStatuses(ctx.sandbox, asked ?? [], 0, ctx.jobsDir);
    const unknown = (asked ?? []).filter(
      (id) => !statuses.some((s) => s.id === id && s.state !== 'missing') && !ctx.jobs?.[id],
    );
    if (unknown.length) return fail(`No job ${unknown.map((u) => `"${u}"`).join(', ')}. ${knownIds(ctx)}`);
    const ids = asked ?? [
      ...new Set([...statuses.filter((s) => s.state === 'running').map((s) => s.id), ...unreported]),
    ];
    if (ids.length === 0) return { ok: true, output: 'No job is running: nothing to wait for.' };
    if (!asked) statuses = await jobStatuses(ctx.sandbox, ids, 0, ctx.jobsDir);
    const { why, interruption } = await waitForJobs({ ctx, ids, all, limitMs, t0, statuses });
    // The final look with the last lines of each.
    statuses = await jobStatuses(ctx.sandbox, ids, EVENT_TAIL_LINES, ctx.jobsDir);
    const waited = Math.round((Date.now() - t0) / 1000);
    const head =
      why === 'ended'
        ? `Waited ${waited} s.`
        : why === 'interrupted'
          ? `Stopped waiting after ${waited} s: ${interruption}.`
          : `Waited ${waited} s (the time limit); still running: ${statuses
              .filter((s) => s.state === 'running')
              .map((s) => s.id)
              .join(', ')}.`;
    const events = endEvents(statuses, ctx);
    return {
      ok: true,
      output: `${head}\n${statuses.map((s) => describeJob(s, ctx, s.state === 'running' ? 3 : EVENT_TAIL_LINES)).join('\n')}`,
      ...(events.length ? { events } : {}),
    };
  },
};

/** Poll the jobs (backing off to 5 s) until one ends (all, with `all`), the user interrupts, or the limit. */
async function waitForJobs(o: {
  ctx: ToolContext;
  ids: string[];
  all: boolean;
  limitMs: number;
  t0: number;
  statuses: JobStatus[];
}): Promise<{ why: 'ended' | 'timeout' | 'interrupted'; interruption: string }> {
  const { ctx, ids } = o;
  let statuses = o.statuses;
  let interval = 1000;
  for (;;) {
    const running = statuses.filter((s) => s.state === 'running');
    const done = o.all ? running.length === 0 : running.length < ids.length;
    if (done) return { why: 'ended', interruption: '' };
    const stop = ctx.interrupted?.();
    if (stop) return { why: 'interrupted', interruption: stop };
    const left = o.limitMs - (Date.now() - o.t0);
    if (left <= 0) return { why: 'timeout', interruption: '' };
    await abortableSleep(Math.min(interval, left), ctx.signal);
    interval = Math.min(5_000, interval * 1.5);
    statuses = await jobStatuses(ctx.sandbox, ids, 0, ctx.jobsDir);
  }
}

const stopParams: JsonSchema & Record<string, unknown> = {
  type: 'object',
  properties: {
    ids: { type: 'array', items: { type: 'string' }, description: 'Jobs to stop.' },
    all: { type: 'boolean', description: 'Stop every running job.' },
  },
};

const jobStop: Tool = {
  spec: {
    name: 'job_stop',
    description:
      'Stop background jobs: their whole process group gets SIGTERM, then SIGKILL after 5 s. Give ids, or all=true.',
    parameters: stopParams,
  },
  args: jobArgs(stopParams, { job_ids: 'ids', id: 'ids', jobs: 'ids' }),
  example: { ids: ['j1'] },
  async run(args, ctx) {
    let ids = args.ids as string[] | undefined;
    if (!ids?.length) {
      if (args.all !== true)
        return fail('job_stop: give the jobs to stop as ids (e.g. {"ids": ["j1"]}), or all=true.');
      ids = (await jobStatuses(ctx.sandbox, [], 0, ctx.jobsDir))
        .filter((s) => s.state === 'running')
        .map((s) => s.id);
      if (ids.length === 0) return { ok: true, output: 'No job is running.' };
    }
    const stopped = await stopJobs(ctx.sandbox, ids, ctx.jobsDir);
    const tails = await jobStatuses(ctx.sandbox, ids, EVENT_TAIL_LINES, ctx.jobsDir);
    for (const s of stopped) s.tail = tails.find((t) => t.id === s.id)?.tail ?? '';
    const missing = stopped.filter((s) => s.state === 'missing' && !ctx.jobs?.[s.id]);
    if (missing.length === stopped.length)
      return fail(`No job ${missing.map((m) => `"${m.id}"`).join(', ')}. ${knownIds(ctx)}`);
    const events = endEvents(stopped, ctx);
    return {
      ok: true,
      output: stopped.map((s) => describeJob(s, ctx, 3)).join('\n'),
      ...(events.length ? { events } : {}),
    };
  },
};

export const jobTools: Tool[] = [jobStart, jobStatus, jobOutputTool, jobWait, jobStop];
