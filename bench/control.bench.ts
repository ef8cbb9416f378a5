/**
 * The control channel of a running session (src/engine/control.ts):
 * - attach to a running 10,000-step session vs a 100-step one (what `klong attach` does before it
 *   follows: connect, status, the last 20 events of the log, the session's summary), goal ≤ 2× and
 *   ≤ 300 ms;
 * - event latency engine → client, p95 over 2,000 events sent at about 200 a second, goal ≤ 100 ms;
 * - a VS Code window follows a running 10,000-step session vs a 100-step one (EngineLink + SessionModel,
 *   the code the window runs): it starts from the model checkpoint an earlier window left
 *   (ui/model/model-checkpoint.ts) and folds the 50 steps the engine made since; goal ≤ 2× and
 *   ≤ 300 ms. The first window ever to follow a session folds the whole log (recorded).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlClient, type ControlHandlers, ControlServer } from '../src/engine/control';
import type { AgentEvent, AgentEventBody } from '../src/events/events';
import { EventLog, SessionStore } from '../src/session';
import { EngineLink } from '../src/ui/model/engine-link';
import { MODEL_CHECKPOINT_FILE } from '../src/ui/model/model-checkpoint';
import { SessionModel } from '../src/ui/model/session-model';
import { type BenchRow, median, percentile, row } from './types';

function step(i: number): AgentEventBody[] {
  return [
    { type: 'model_request', step: i, window: 0, promptTokens: 30_000 + i, messages: 40 },
    {
      type: 'model_response',
      step: i,
      message: { role: 'assistant', content: `Epoch ${i} next.`, toolCalls: [] },
      usage: { promptTokens: 30_000 + i, cachedTokens: 29_000, completionTokens: 80, estimated: false },
      costUsd: 0.01,
    },
    {
      type: 'tool_call',
      step: i,
      callId: `c${i}`,
      name: 'bash',
      args: `{"command":"python train.py --epoch ${i}"}`,
    },
    {
      type: 'tool_result',
      step: i,
      callId: `c${i}`,
      name: 'bash',
      ok: true,
      output: `epoch ${i}\n${'log line\n'.repeat(100)}`,
      durationMs: 1000,
    },
  ];
}

function makeSession(root: string, id: string, steps: number): string {
  const store = new SessionStore(root);
  const live = store.create(
    { sessionId: id, paperTitle: 'P', paperPath: 'p.md', workspace: '/w', model: 'm', budgetMs: 3600_000 },
    { durability: 'none' },
  );
  for (let i = 1; i <= steps; i++) {
    for (const e of step(i)) live.append(e);
    live.endStep(() => ({ step: i }), { step: i });
  }
  live.close();
  return store.dirOf(id);
}

/** The engine goes on: `steps` more steps after `from` reach the log. */
function extend(dir: string, from: number, steps: number): void {
  const log = EventLog.open(dir, { mode: 'write', durability: 'none' });
  for (let i = from + 1; i <= from + steps; i++) for (const e of step(i)) log.append(e);
  log.close();
}

/** The engine's handlers; `events` reads from the session's open log, as the engine does. */
const handlers = (id: string, log?: EventLog): ControlHandlers => ({
  status: () => ({
    sessionId: id,
    pid: process.pid,
    state: 'running',
    step: 0,
    activeMs: 0,
    budgetMs: 1,
    queuedMessages: 0,
    ...(log
      ? { usage: { seq: log.count - 1, prompt: 0, cached: 0, completion: 0, estimated: false, usd: 0 } }
      : {}),
  }),
  pause: () => undefined,
  resume: () => undefined,
  stop: () => undefined,
  say: () => undefined,
  ...(log ? { events: (from: number) => log.read(from) } : {}),
});

/** What `klong attach` does before following, in ms: status (with the totals), then the last 20 events. */
async function attachOnce(_root: string, _id: string, dir: string): Promise<number> {
  const t0 = performance.now();
  const client = await ControlClient.connect(dir);
  if (!client) throw new Error('no engine');
  const status = await client.status();
  await client.events(Math.max(0, (status.usage?.seq ?? -1) + 1 - 20));
  const ms = performance.now() - t0;
  client.dispose();
  return ms;
}

/**
 * What a VS Code window does to follow a running session (src/ui/model/engine-link.ts): connect, the whole
 * log folded into the progress view's model (its timeline shows every step), the engine's unflushed
 * events, then live.
 */
async function followOnce(_root: string, _id: string, dir: string): Promise<number> {
  // The checkpoint an earlier window left (each follow here writes a newer one when it stops).
  const saved = checkpoints.get(dir);
  if (saved === undefined) rmSync(join(dir, MODEL_CHECKPOINT_FILE), { force: true });
  else writeFileSync(join(dir, MODEL_CHECKPOINT_FILE), saved);
  const t0 = performance.now();
  const link = await EngineLink.follow(dir, new SessionModel());
  if (!link) throw new Error('no engine');
  const ms = performance.now() - t0;
  link.dispose();
  return ms;
}

/** The model checkpoint each session's follows start from (none: the window folds the whole log). */
const checkpoints = new Map<string, string>();

/** Medians of `runs` attaches to each session, interleaved so that both see the same machine load. */
async function attachMs(
  root: string,
  ids: string[],
  dirs: string[],
  once = attachOnce,
  runs = 21,
): Promise<number[]> {
  const logs = dirs.map((d) => EventLog.open(d, { mode: 'read' }));
  const servers = await Promise.all(dirs.map((d, i) => ControlServer.listen(d, handlers(ids[i]!, logs[i]!))));
  const times: number[][] = ids.map(() => []);
  try {
    for (let k = 0; k < runs; k++) {
      for (const [i, id] of ids.entries()) times[i]!.push(await once(root, id, dirs[i]!));
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    for (const l of logs) l.close();
  }
  return times.map(median);
}

async function latencyP95(dir: string): Promise<number> {
  const server = await ControlServer.listen(dir, handlers('lat'));
  const client = await ControlClient.connect(dir);
  if (!client) throw new Error('no engine');
  const latencies: number[] = [];
  const N = 2000;
  const got = new Promise<void>((resolve) => {
    client.onEvent((e) => {
      latencies.push(Date.now() - e.ts);
      if (latencies.length === N) resolve();
    });
  });
  for (let i = 0; i < N; i++) {
    const e = {
      seq: i,
      ts: Date.now(),
      type: 'tool_call',
      step: i,
      callId: `c${i}`,
      name: 'bash',
      args: '{"command":"ls"}',
    } as AgentEvent;
    server.event(e);
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 50));
  }
  await got;
  client.dispose();
  await server.close();
  return percentile(latencies, 95);
}

export default async function bench(): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'klong-bench-ctl-'));
  try {
    const small = makeSession(root, 'small', 100);
    const large = makeSession(root, 'large', 10_000);
    const [a100, a10k] = (await attachMs(root, ['small', 'large'], [small, large])) as [number, number];
    await import('../src/engine/extension-api'); // loaded once per window, before any follow
    // The first window to follow a session folds its whole log and leaves a checkpoint at its end.
    const [first100, first10k] = (await attachMs(
      root,
      ['small', 'large'],
      [small, large],
      followOnce,
      1,
    )) as [number, number];
    for (const d of [small, large]) checkpoints.set(d, readFileSync(join(d, MODEL_CHECKPOINT_FILE), 'utf8'));
    // Then the engine makes 50 more steps before the next window follows.
    extend(small, 100, 50);
    extend(large, 10_000, 50);
    const [f100, f10k] = (await attachMs(root, ['small', 'large'], [small, large], followOnce, 11)) as [
      number,
      number,
    ];
    const p95 = await latencyP95(makeSession(root, 'lat', 1));
    return [
      row('attach to a running session: 10k steps vs 100', 'ms', a10k, a100, { max: 2 }),
      row('attach to a running 10k-step session vs 300 ms', 'ms', a10k, 300, { max: 1, label: '≤ 300 ms' }),
      row('event latency engine → client, p95 vs 100 ms', 'ms', p95, 100, { max: 1, label: '≤ 100 ms' }),
      row('VS Code follows a running session: 10k steps vs 100', 'ms', f10k, f100, { max: 2 }),
      row('VS Code follows a running 10k-step session vs 300 ms', 'ms', f10k, 300, {
        max: 1,
        label: '≤ 300 ms',
      }),
      // Without a checkpoint (no window followed it before) the window folds the whole log once (the
      // older rows skimmed: counted, made from the log when shown).
      row('VS Code first follow of a session: 10k steps vs 100', 'ms', first10k, first100, {
        label: 'recorded',
      }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
