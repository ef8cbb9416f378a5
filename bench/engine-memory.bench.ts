/**
 * Engine memory over a long session: heap used (after gc) and RSS of an engine at step 10,000 vs
 * step 1,000 of the same run, goal ≤ 1.5× (flat). The engine (bench/host/engine-memory.ts) runs in a
 * child process with --expose-gc: the real agent loop, context manager, edits queue, session folder
 * (event log, snapshots) and control server with one attached client; the model is the scripted
 * server in this process over real HTTP, answering each request with one cheap tool call.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { SUMMARY_PROMPT } from '../src/agent/loop-types';
import {
  type ChatBody,
  call,
  lastObservation,
  reply,
  startModelServer,
  tools,
} from '../test/support/model-server';
import { type BenchRow, row } from './types';

const STEPS = Number(process.env.KLONG_BENCH_MEM_STEPS ?? 10_000);
const BASE = Math.round(STEPS / 10);

interface Point {
  step: number;
  ms: number;
  cpuMs: number;
  heapUsed: number;
  rss: number;
  external: number;
  events: number;
  received: number;
  window: number;
  bodyMessages: number;
  proposals: number;
}

/** A cheap tool call per request; a bash command, a file write and a plan now and then. */
function script(req: ChatBody, i: number) {
  if (lastObservation(req) === SUMMARY_PROMPT)
    return reply(`Progress note ${i}: read the paper, wrote notes.md.`);
  if (i % 100 === 99) return tools(call('bash', { command: `echo step ${i}` }));
  if (i % 50 === 49) return tools(call('write_file', { path: 'notes.md', content: `# notes\nstep ${i}\n` }));
  if (i % 25 === 24)
    return tools(
      call('update_plan', { items: [{ text: `Read section ${i % 2 ? 1 : 2}`, status: 'doing' }] }),
    );
  return tools(call('read_paper', i % 2 ? { section: '1' } : { query: `hello ${i}` }));
}

function runEngine(url: string): Promise<{ points: Point[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--import',
        'tsx',
        join(__dirname, 'host', 'engine-memory.ts'),
        url,
        String(STEPS),
        `${BASE},${STEPS}`,
      ],
      { cwd: join(__dirname, '..'), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const points = out
        .split('\n')
        .filter((l) => l.startsWith('{"step"'))
        .map((l) => JSON.parse(l) as Point);
      resolve({ points, stderr, code });
    });
  });
}

export default async function engineMemoryBench(): Promise<BenchRow[]> {
  const server = await startModelServer(script, { keepRequests: false });
  const t = performance.now();
  try {
    const { points, stderr, code } = await runEngine(server.url);
    const a = points.find((p) => p.step === BASE);
    const b = points.find((p) => p.step === STEPS);
    if (code !== 0 || !a || !b) throw new Error(`the engine failed (exit ${code}): ${stderr.slice(-2000)}`);
    const MB = 1024 * 1024;
    const secs = (performance.now() - t) / 1000;
    const cpuPerStep = (b.cpuMs - a.cpuMs) / (b.step - a.step);
    const stepsPerS = (b.step - a.step) / ((b.ms - a.ms) / 1000);
    const detail = `heap ${(a.heapUsed / MB).toFixed(1)} → ${(b.heapUsed / MB).toFixed(1)} MB, RSS ${(a.rss / MB).toFixed(0)} → ${(b.rss / MB).toFixed(0)} MB; ${b.events} events, window ${b.window}, ${stepsPerS.toFixed(0)} steps/s (engine CPU ${cpuPerStep.toFixed(1)} ms/step), ${secs.toFixed(0)} s in all`;
    return [
      row(
        `engine memory @${STEPS / 1000}k vs @${BASE / 1000}k steps (heap used)`,
        'MB',
        b.heapUsed / MB,
        a.heapUsed / MB,
        { max: 1.5 },
        detail,
      ),
      row(`engine memory @${STEPS / 1000}k vs @${BASE / 1000}k steps (RSS)`, 'MB', b.rss / MB, a.rss / MB, {
        max: 1.5,
      }),
      // Does a step get slower as the session grows? Recorded: it depends on the machine's load.
      row(
        `engine steps per second, steps ${BASE / 1000}k–${STEPS / 1000}k vs 0–${BASE / 1000}k`,
        'steps/s',
        stepsPerS,
        a.step / (a.ms / 1000),
        { label: 'recorded' },
      ),
    ];
  } finally {
    await server.close();
  }
}
