/**
 * Checkpoint and resume cost against session length.
 * - Per-step checkpoint (append the step's events + one fsync, a snapshot every 10 steps) at step
 *   10,000 vs step 100; the baseline rewrites the whole history JSON each step (as Cline does with
 *   api_conversation_history.json), measured the same way (write + fsync).
 * - Resume (lock + newest snapshot + tail replay) of a 10,000-step session vs a 100-step one, and
 *   against the 200 ms goal; a full replay is reported for comparison.
 */
import { closeSync, cpSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEventBody } from '../src/events/events';
import { createSession, type Durability, EventLog, type LiveSession, resumeSession } from '../src/session';
import { type BenchRow, median, row } from './types';

const SNAPSHOT_EVERY = 10;
/** The context manager's state is bounded by its window, not by the session length. */
const STATE = {
  window: 3,
  messages: Array.from({ length: 60 }, (_, i) => ({ role: 'user', content: 'c'.repeat(1500) + i })),
};

function stepEvents(step: number): AgentEventBody[] {
  return [
    { type: 'model_request', step, window: 0, promptTokens: 30_000 + step, messages: 40 },
    {
      type: 'model_response',
      step,
      message: {
        role: 'assistant',
        content: `I will run the training script, step ${step}. ${'r'.repeat(600)}`,
      },
      usage: { promptTokens: 30_000, cachedTokens: 28_000, completionTokens: 300 },
      costUsd: 0.01,
    },
    {
      type: 'tool_call',
      step,
      callId: `c${step}`,
      name: 'bash',
      args: `{"command":"python train.py --epoch ${step}"}`,
    },
    {
      type: 'tool_result',
      step,
      callId: `c${step}`,
      name: 'bash',
      ok: true,
      output: `epoch ${step} loss 0.${step}\n${'log line\n'.repeat(200)}`,
      durationMs: 1200,
    },
    { type: 'checkpoint', step },
  ];
}

function runStep(live: LiveSession, step: number): void {
  for (const e of stepEvents(step)) live.append(e);
  live.endStep(() => STATE, { step });
}

/** A session of `steps` steps, built without fsync (setup only), ending 5 steps after a snapshot. */
function buildSession(dir: string, steps: number): void {
  const live = createSession(
    dir,
    { sessionId: 'bench', paperTitle: 'P', paperPath: '/p.pdf', workspace: '/ws', model: 'm', budgetMs: 1 },
    { durability: 'none', snapshotEvery: 1_000_000 },
  );
  live.append({ type: 'status', status: 'running' });
  for (let s = 1; s <= steps; s++) {
    runStep(live, s);
    if (s === steps - 5) live.snapshotNow(STATE, { step: s });
  }
  live.close();
  // Write back the setup's dirty pages now, not inside the first measured fsync.
  const fd = openSync(join(dir, 'events.jsonl'), 'r+');
  fsyncSync(fd);
  closeSync(fd);
}

/**
 * Mean ms per step over blocks of SNAPSHOT_EVERY steps (so each block holds one snapshot); the
 * sessions are open together and take steps in turn, so machine noise (fsync latency from other
 * processes) hits all alike; median over the blocks.
 */
function measureSteps(
  dirs: { dir: string; from: number; durability?: Durability }[],
  blocks: number,
): number[] {
  const lives = dirs.map(({ dir, durability }) =>
    resumeSession(dir, { durability: durability ?? 'step', snapshotEvery: SNAPSHOT_EVERY }),
  );
  const steps = dirs.map((d) => d.from);
  const means: number[][] = dirs.map(() => []);
  try {
    for (let b = 0; b < blocks; b++) {
      const sums = dirs.map(() => 0);
      // Steps alternate between the sessions, so bursts of fsync latency hit them alike.
      for (let i = 0; i < SNAPSHOT_EVERY; i++) {
        lives.forEach((live, k) => {
          const t = performance.now();
          runStep(live, ++steps[k]!);
          sums[k]! += performance.now() - t;
        });
      }
      sums.forEach((sum, k) => {
        means[k]!.push(sum / SNAPSHOT_EVERY);
      });
    }
  } finally {
    for (const l of lives) l.close();
  }
  return means.map(median);
}

/** Cline-style: keep the history in memory and rewrite all of it (write + fsync) after each step. */
function measureFullRewrite(path: string, steps: number, n: number): number {
  const history: unknown[] = [];
  for (let s = 1; s <= steps; s++) history.push(...stepEvents(s));
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    history.push(...stepEvents(steps + i + 1));
    const fd = openSync(path, 'w');
    writeSync(fd, JSON.stringify(history));
    fsyncSync(fd);
    closeSync(fd);
    times.push(performance.now() - t);
  }
  return median(times);
}

function measureResume(dirs: string[], reps: number): number[] {
  const times: number[][] = dirs.map(() => []);
  for (let r = 0; r < reps; r++) {
    dirs.forEach((dir, k) => {
      const t = performance.now();
      const live = resumeSession(dir);
      if (live.tail.length === 0 || !live.snapshot) throw new Error('resume found no snapshot/tail');
      live.close();
      times[k]!.push(performance.now() - t);
    });
  }
  return times.map(median);
}

function measureFullReplay(dir: string): number {
  const t = performance.now();
  const log = EventLog.open(dir);
  let n = 0;
  for (const _e of log.iterate(0)) n++;
  log.close();
  if (n === 0) throw new Error('empty log');
  return performance.now() - t;
}

export default async function sessionBench(): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'klong-bench-session-'));
  try {
    const small = join(root, 'small');
    const large = join(root, 'large');
    buildSession(small, 100);
    buildSession(large, 10_000);

    measureResume([small, large], 3); // warm-up
    const [resumeSmall, resumeLarge] = measureResume([small, large], 31) as [number, number];
    const replayLarge = measureFullReplay(large);

    measureSteps([{ dir: small, from: 100 }], 1); // warm-up
    const [stepSmall, stepLarge] = measureSteps(
      [
        { dir: small, from: 101 + SNAPSHOT_EVERY },
        { dir: large, from: 10_000 },
      ],
      40,
    ) as [number, number];
    // fsync per event vs per step, on two copies of the 10k session.
    const large2 = join(root, 'large2');
    cpSync(large, large2, { recursive: true });
    const fd2 = openSync(join(large2, 'events.jsonl'), 'r+');
    fsyncSync(fd2);
    closeSync(fd2);
    const [eventLarge, stepLargeAgain] = measureSteps(
      [
        { dir: large2, from: 30_000, durability: 'event' },
        { dir: large, from: 30_000, durability: 'step' },
      ],
      8,
    ) as [number, number];
    const clineSmall = measureFullRewrite(join(root, 'cline-small.json'), 100, 10);
    const clineLarge = measureFullRewrite(join(root, 'cline-large.json'), 10_000, 5);

    return [
      row(
        'checkpoint per step @10k vs @100 steps',
        'ms/step',
        stepLarge,
        stepSmall,
        { max: 1.5 },
        'append 5 events + 1 fsync, snapshot every 10 steps',
      ),
      row(
        'baseline: full history rewrite @10k vs @100 (Cline-style)',
        'ms/step',
        clineLarge,
        clineSmall,
        { label: 'info', max: Number.POSITIVE_INFINITY },
        'JSON.stringify(all history) + write + fsync each step',
      ),
      row('checkpoint per step @10k: ours vs full rewrite', 'ms/step', stepLarge, clineLarge, { max: 0.1 }),
      row(
        'fsync per event vs per step @10k',
        'ms/step',
        eventLarge,
        stepLargeAgain,
        { label: 'info', max: Number.POSITIVE_INFINITY },
        'durability "event" (5 fsyncs/step) vs "step" (1 fsync/step)',
      ),
      row(
        'resume 10k-step vs 100-step session',
        'ms',
        resumeLarge,
        resumeSmall,
        { max: 2 },
        'lock + snapshot + tail',
      ),
      row('resume 10k-step session, absolute vs 200 ms', 'ms', resumeLarge, 200, {
        max: 1,
        label: '< 200 ms',
      }),
      row(
        'resume 10k: snapshot+tail vs full replay',
        'ms',
        resumeLarge,
        replayLarge,
        { label: 'info', max: Number.POSITIVE_INFINITY },
        'full replay = read + parse every event',
      ),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
