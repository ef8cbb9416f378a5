/**
 * The control channel of a running session (src/engine/control.ts):
 * - attach to a running 10,000-step session vs a 100-step one (what `klong attach` does before it
 *   follows: connect, status, the last 20 events of the log, the session's summary), goal ≤ 2× and
 *   ≤ 300 ms;
 * - event latency engine → client, p95 over 2,000 events sent at about 200 a second, goal ≤ 100 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AgentEvent, AgentEventBody } from '../src/agent/events';
import { ControlClient, type ControlHandlers, ControlServer } from '../src/engine/control';
import { EventLog, SessionStore } from '../src/session';
import { type BenchRow, median, percentile, row } from './types';

function step(i: number): AgentEventBody[] {
  return [
    { type: 'model_request', step: i, window: 0, promptTokens: 30_000 + i, messages: 40 },
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
  const live = store.create({
    sessionId: id,
    paperTitle: 'P',
    paperPath: 'p.md',
    workspace: '/w',
    model: 'm',
    budgetMs: 3600_000,
  });
  for (let i = 1; i <= steps; i++) {
    for (const e of step(i)) live.append(e);
    live.endStep(() => ({ step: i }), { step: i });
  }
  live.close();
  return store.dirOf(id);
}

/** The engine's handlers; `recent` reads from the session's open log, as the engine does. */
const handlers = (id: string, log: EventLog): ControlHandlers => ({
  status: () => ({
    sessionId: id,
    pid: process.pid,
    state: 'running',
    step: 0,
    activeMs: 0,
    budgetMs: 1,
    queuedMessages: 0,
  }),
  pause: () => undefined,
  resume: () => undefined,
  stop: () => undefined,
  say: () => undefined,
  recent: (n) => log.read(Math.max(0, log.count - n)),
});

/** What `klong attach` reads before following, in ms. */
async function attachOnce(dir: string): Promise<number> {
  const t0 = performance.now();
  const client = await ControlClient.connect(dir);
  if (!client) throw new Error('no engine');
  await client.status();
  await client.recent(20);
  const ms = performance.now() - t0;
  client.dispose();
  return ms;
}

/** Medians of 21 attaches to each session, interleaved so that both see the same machine load. */
async function attachMs(ids: string[], dirs: string[]): Promise<number[]> {
  const logs = dirs.map((d) => EventLog.open(d, { mode: 'read' }));
  const servers = await Promise.all(dirs.map((d, i) => ControlServer.listen(d, handlers(ids[i]!, logs[i]!))));
  const times: number[][] = ids.map(() => []);
  try {
    for (let k = 0; k < 21; k++) {
      for (const i of ids.keys()) times[i]!.push(await attachOnce(dirs[i]!));
    }
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    for (const l of logs) l.close();
  }
  return times.map(median);
}

async function latencyP95(dir: string): Promise<number> {
  const log = EventLog.open(dir, { mode: 'read' });
  const server = await ControlServer.listen(dir, handlers('lat', log));
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
  log.close();
  return percentile(latencies, 95);
}

export default async function bench(): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'klong-bench-ctl-'));
  try {
    const small = makeSession(root, 'small', 100);
    const large = makeSession(root, 'large', 10_000);
    const [a100, a10k] = (await attachMs(['small', 'large'], [small, large])) as [number, number];
    const p95 = await latencyP95(makeSession(root, 'lat', 1));
    return [
      row('attach to a running session: 10k steps vs 100', 'ms', a10k, a100, { max: 2 }),
      row('attach to a running 10k-step session vs 300 ms', 'ms', a10k, 300, { max: 1, label: '≤ 300 ms' }),
      row('event latency engine → client, p95 vs 100 ms', 'ms', p95, 100, { max: 1, label: '≤ 100 ms' }),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
