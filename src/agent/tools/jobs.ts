/**
 * Background jobs as tools: job_start, job_status, job_output, job_wait, job_stop (see jobs.ts for
 * the container side). job_wait blocks in the tool, polling the container, so waiting for a training
 * run costs active time but no model request.
 */

import type { AgentEventBody } from '../../events/events';
import * as z from '../../paper/zod';
import {
  cleanLines,
  describeState,
  endStateOf,
  formatBytes,
  JOBS_DIR,
  type JobRecord,
  type JobStatus,
  jobOutput,
  jobStatuses,
  nextJobId,
  startJob,
  stopJobs,
} from '../jobs';
import { decoded, type JsonSchema, lenientSchema } from './args';
import { fail, type Tool, type ToolContext } from './types';

/** Bytes of job output one job_output call returns at most (the model may ask for less). */
export const MAX_OUTPUT_BYTES = 64 * 1024;
const DEFAULT_OUTPUT_BYTES = 16 * 1024;
/** A wait without a limit covers a long training run (and never outlives the time budget). */
const DEFAULT_WAIT_S = 2 * 3600;
/** Lines of a job's end kept in its job_ended event and shown by job_status. */
const EVENT_TAIL_LINES = 10;
const EVENT_TAIL_BYTES = 2048;
/** Jobs listed by one job_status (running ones first, then the latest). */
const MAX_LISTED = 30;

/** "j1", 1, "1", "j1, j2", ["j1", 2] → ["j1", "j2"]; anything else is left for the schema to refuse. */
export function jobIds(v: unknown): unknown {
  const one = (x: unknown) =>
    typeof x === 'number' && Number.isInteger(x)
      ? `j${x}`
      : typeof x === 'string' && /^\s*\d+\s*$/.test(x)
        ? `j${x.trim()}`
        : typeof x === 'string'
          ? x.trim()
          : x;
  const d = decoded('array')(v);
  if (Array.isArray(d)) return d.map(one);
  if (typeof d === 'number') return [one(d)];
  if (typeof d === 'string')
    return d
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(one);
  return d;
}

/** Lenient arguments: the schema's coercions, plus job ids as a string, a number or a list. */
function jobArgs(params: JsonSchema, aliases: Record<string, string> = {}) {
  return z.pipe(
    z.transform((v: unknown) => {
      const o = decoded('object')(v);
      if (typeof o !== 'object' || o === null || Array.isArray(o)) return o;
      const r = { ...(o as Record<string, unknown>) };
      for (const [from, to] of Object.entries(aliases))
        if (r[to] === undefined && r[from] !== undefined) r[to] = r[from];
      if (r.ids !== undefined && r.ids !== null) r.ids = jobIds(r.ids);
      if (r.id !== undefined && r.id !== null) {
        const ids = jobIds(r.id);
        r.id = Array.isArray(ids) && ids.length === 1 ? ids[0] : r.id;
      }
      return r;
    }),
    lenientSchema({ ...params, type: 'object' }),
  );
}

/** The ended-job events for statuses the session has not recorded as ended yet (each once). */
function endEvents(statuses: JobStatus[], ctx: ToolContext, seen = new Set<string>()): AgentEventBody[] {
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

function label(id: string, ctx: ToolContext): string {
  const name = ctx.jobs?.[id]?.name;
  return name && name !== id ? `${id} (${name})` : id;
}

/** One job for the model: "j1 (train): running for 3m 20s, 1.2 MB of output" + its last lines. */
export function describeJob(s: JobStatus, ctx: Pick<ToolContext, 'jobs'>, lines = 3): string {
  const head = `${label(s.id, ctx as ToolContext)}: ${describeState(s)}${s.state === 'missing' ? '' : `, ${formatBytes(s.size)} of output`}`;
  const last = cleanLines(s.tail, 200).slice(-lines);
  return last.length ? `${head}\n${last.map((l) => `    ${l}`).join('\n')}` : head;
}

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
      if (!have.has(j.id) && !j.ended)
        statuses.push({
          id: j.id,
          state: 'missing',
          exitCode: null,
          start: 0,
          end: null,
          now,
          size: 0,
          tail: '',
        });
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

function knownIds(ctx: ToolContext): string {
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
  const head = `Job ${label(id, ctx as ToolContext)}, ${state}; log: ${formatBytes(out.size)}, ${out.lines} lines.`;
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
    let interval = 1000;
    let why: 'ended' | 'timeout' | 'interrupted' = 'timeout';
    let interruption = '';
    for (;;) {
      const running = statuses.filter((s) => s.state === 'running');
      const done = all ? running.length === 0 : running.length < ids.length;
      if (done) {
        why = 'ended';
        break;
      }
      const stop = ctx.interrupted?.();
      if (stop) {
        why = 'interrupted';
        interruption = stop;
        break;
      }
      const left = limitMs - (Date.now() - t0);
      if (left <= 0) break;
      await sleep(Math.min(interval, left), ctx.signal);
      interval = Math.min(5_000, interval * 1.5);
      statuses = await jobStatuses(ctx.sandbox, ids, 0, ctx.jobsDir);
    }
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

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export const jobTools: Tool[] = [jobStart, jobStatus, jobOutputTool, jobWait, jobStop];
