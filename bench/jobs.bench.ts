/**
 * Background jobs (src/agent/jobs.ts, src/agent/tools/jobs.ts):
 * - model tokens spent while a 1 h job runs: an agent that waits with job_wait against one that
 *   polls the log every 5 min, both with the same realistic context (~15 steps of command output,
 *   about 35k tokens), on the real agent loop and the scripted model server; time is scaled (1 h of
 *   job = JOB_BENCH_SCALE_S seconds, default 6, polls every 1/12 of it). Counted: prompt tokens of
 *   the requests made after the agent started waiting and before the job ended. Goal ≤ 0.05×.
 * - host memory while job_output pages through a 200 MB log in a docker container (40 pages spread
 *   over the log and 10 tails, 64 KB each) against the same paging of a 2 MB log: peak RSS, goal
 *   ≤ 1.25× (the log never passes through the host). KLONG_JOB_BENCH_MB sets the size.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobOutput, jobStatuses, startJob } from '../src/agent/jobs';
import { type DockerSandbox, openSandbox, removeSandbox } from '../src/sandbox/index';
import { startHarness } from '../test/support/agent-harness';
import { type ChatBody, call, textOf, tools } from '../test/support/model-server';
import { type BenchRow, row } from './types';

const IMAGE = process.env.KLONG_TEST_IMAGE ?? 'klong/python-min:bookworm';
const SCALE_S = Number(process.env.JOB_BENCH_SCALE_S) || 6;
const LOG_MB = Number(process.env.KLONG_JOB_BENCH_MB) || 200;
const PREFILL_STEPS = 15;

/** ~2,300 tokens of training-log-like output per prefill step. */
const PREFILL_CMD =
  'for i in $(seq 1 55); do echo "epoch $i: train loss 0.$((500 - i)), val loss 0.$((600 - i)), acc 0.9$i, lr 3e-4, grad-norm 1.$i"; done';

function lastTool(req: ChatBody): string {
  for (let i = req.messages.length - 1; i >= 0; i--) {
    const m = req.messages[i]!;
    if (m.role === 'tool') return textOf(m.content);
  }
  return '';
}

/** One session: prefill, job_start, then wait the given way; tokens of the requests made while waiting. */
async function waitingTokens(
  how: 'job_wait' | 'poll',
): Promise<{ tokens: number; requests: number; context: number }> {
  const jobsDir = mkdtempSync(join(tmpdir(), 'klong-bench-jobs-'));
  const arrivals: number[] = [];
  let waitFrom = -1;
  const pollS = SCALE_S / 12;
  const epochs = 12;
  const jobCmd = `for i in $(seq 1 ${epochs}); do echo "epoch $i loss 0.$((100 - i))"; sleep ${SCALE_S / epochs}; done; echo training done`;
  const h = await startHarness({
    script: (req, i) => {
      arrivals[i] = Date.now();
      if (i < PREFILL_STEPS) return tools(call('bash', { command: PREFILL_CMD }));
      if (i === PREFILL_STEPS) return tools(call('job_start', { command: jobCmd, name: 'train' }));
      const seen = lastTool(req);
      if (how === 'job_wait') {
        if (waitFrom < 0) {
          waitFrom = i;
          return tools(call('job_wait', {}));
        }
        return tools(call('end_task', { summary: `saw: ${seen.slice(0, 40)}` }));
      }
      if (waitFrom < 0) waitFrom = i;
      if (/training done/.test(seen)) return tools(call('end_task', { summary: 'done' }));
      return tools(call('bash', { command: `sleep ${pollS}; tail -n 3 ${jobsDir}/j1/log` }));
    },
    context: { contextLimit: 200_000 },
    budget: { totalMs: 12 * 3600_000, reminderEverySteps: 0 },
    deps: { jobsDir, maxSteps: 100, summarizeSplits: false },
  });
  try {
    const r = await h.session.run();
    if (r.status !== 'done') throw new Error(`the ${how} session stopped: ${r.reason}`);
    const end = Number(readFileSync(join(jobsDir, 'j1', 'end'), 'utf8'));
    let tokens = 0;
    let requests = 0;
    for (let i = waitFrom + 1; i < arrivals.length; i++) {
      if (arrivals[i]! >= end) break;
      tokens += h.server.promptTokens[i]!;
      requests++;
    }
    return { tokens, requests, context: h.server.promptTokens[waitFrom]! };
  } finally {
    await h.close();
    rmSync(jobsDir, { recursive: true, force: true });
  }
}

/** Peak RSS of this process while `fn` runs (sampled every 10 ms). */
async function peakRss(fn: () => Promise<void>): Promise<number> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 10);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss());
}

/** A job writing `mb` MB of log lines; then 40 pages spread over the log and 10 tails through job_output. */
async function pageLog(sb: DockerSandbox, id: string, mb: number): Promise<{ rss: number; bytes: number }> {
  const line = 'epoch 1 step 123456 train loss 0.123456 val loss 0.234567 acc 0.987654 lr 0.0003';
  await startJob(sb, {
    id,
    name: `log-${mb}mb`,
    command: `yes '${line}' | head -c ${mb * 1024 * 1024}`,
  });
  for (;;) {
    const [s] = await jobStatuses(sb, [id]);
    if (s?.state !== 'running') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const total = Math.floor((mb * 1024 * 1024) / (line.length + 1));
  let bytes = 0;
  global.gc?.();
  const rss = await peakRss(async () => {
    for (let k = 0; k < 40; k++) {
      const start = 1 + Math.floor((k * total) / 40);
      const out = await jobOutput(sb, { id, start, end: start + 5000, maxBytes: 64 * 1024 });
      bytes += out?.text.length ?? 0;
    }
    for (let k = 0; k < 10; k++) {
      const out = await jobOutput(sb, { id, tail: 5000, maxBytes: 64 * 1024 });
      bytes += out?.text.length ?? 0;
    }
  });
  return { rss, bytes };
}

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const waited = await waitingTokens('job_wait');
  const polled = await waitingTokens('poll');
  rows.push(
    row(
      'tokens while a 1 h job runs: job_wait vs polling every 5 min',
      'prompt tokens',
      waited.tokens,
      polled.tokens,
      { max: 0.05 },
      `requests while waiting: ${waited.requests} vs ${polled.requests}, context ≈ ${waited.context} tokens; time scaled 1 h = ${SCALE_S} s`,
    ),
  );

  const ws = mkdtempSync(join(tmpdir(), 'klong-bench-jobs-ws-'));
  const session = `bench-jobs-${process.pid}`;
  const sb = await openSandbox({
    workspace: ws,
    sessionId: session,
    network: 'none',
    image: IMAGE,
    labels: { 'klong.test': '1' },
  });
  try {
    const small = await pageLog(sb, 'j1', 2);
    const big = await pageLog(sb, 'j2', LOG_MB);
    rows.push(
      row(
        `host memory paging a ${LOG_MB} MB job log vs a 2 MB one`,
        'MB peak RSS',
        big.rss / 1024 / 1024,
        small.rss / 1024 / 1024,
        { max: 1.25 },
        `50 job_output calls of ≤ 64 KB each: ${(big.bytes / 1024 / 1024).toFixed(1)} MB read from the ${LOG_MB} MB log`,
      ),
    );
  } finally {
    await sb.dispose().catch(() => undefined);
    await removeSandbox(session).catch(() => undefined);
    rmSync(ws, { recursive: true, force: true });
  }
  return rows;
}
