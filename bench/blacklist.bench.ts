/**
 * The blacklist monitor's cost.
 * - One 256 KB tool output (a pip log, no blacklisted host) through the monitor, against one pass of
 *   the old string matcher's URL regex over the same text (what a plain string match costs).
 * - The rescan before grading of a 2,000-step session (a command and a 4 KB output per step, a few
 *   obfuscated attempts among them), against the old string match over the same commands and outputs.
 */
import type { AgentEventBody } from '../src/events/events';
import { Blacklist, BlacklistMonitor, scanEvents } from '../src/paper';
import { type BenchRow, median, row } from './types';

const OLD_URL_RE =
  /(?:(?:git\+)?(?:https?|git|ssh):\/\/(?:git@)?|git@)?(?:www\.)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?::\d+)?[/:]([^\s'"`<>()[\]{},;|\\]*)/gi;

const PIP =
  'Collecting numpy>=1.24 (from -r requirements.txt (line 1))  Downloading https://files.pythonhosted.org/packages/ab/cd/numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.whl (18.3 MB) sha256=4f2c1b2e3d4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c\n';

function time(f: () => unknown, runs: number): number {
  f();
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

export default async function bench(): Promise<BenchRow[]> {
  const bl = new Blacklist([
    { raw: 'https://github.com/owner/repo', source: 'paper' },
    { raw: 'https://github.com/owner/repo-data', source: 'paperbench' },
  ]);
  const output = PIP.repeat(Math.ceil((256 * 1024) / PIP.length));
  let n = 0;
  const monitor = new BlacklistMonitor(bl);
  const ours = time(
    () => monitor.observe({ type: 'tool_result', name: 'bash', callId: `c${n++}`, output }),
    15,
  );
  const base = time(() => [...output.matchAll(OLD_URL_RE)].length, 15);

  const events: (AgentEventBody & { seq: number })[] = [];
  const out4k = PIP.repeat(Math.ceil(4096 / PIP.length));
  for (let step = 1; step <= 2000; step++) {
    const command =
      step % 500 === 0
        ? `H=github; git clone "https://\${H}.com/owner/repo" /tmp/r${step}`
        : `python train.py --epoch ${step} | tee -a "log $step.txt"`;
    events.push(
      {
        seq: events.length + 1,
        type: 'tool_call',
        step,
        callId: `c${step}`,
        name: 'bash',
        args: JSON.stringify({ command }),
      },
      {
        seq: events.length + 2,
        type: 'tool_result',
        step,
        callId: `c${step}`,
        name: 'bash',
        ok: true,
        output: out4k,
        durationMs: 1,
      },
    );
  }
  const jsonl = events.map((e) => JSON.stringify(e)).join('\n');
  let found = 0;
  const rescan = time(() => {
    found = scanEvents(events, bl).length;
  }, 3);
  // The string match the monitor replaces: the old URL regex over every command and output.
  const texts = events.map((e) =>
    e.type === 'tool_call' ? e.args : e.type === 'tool_result' ? e.output : '',
  );
  const old = time(() => texts.reduce((k, t) => k + [...t.matchAll(OLD_URL_RE)].length, 0), 3);
  if (found !== 4) throw new Error(`the rescan found ${found} attempts, not 4`);
  return [
    row(
      'blacklist monitor, 256 KB output',
      'ms',
      ours,
      base,
      { max: 2 },
      'baseline: one pass of the old URL regex',
    ),
    row(
      'blacklist rescan before grading, 2,000 steps',
      'ms',
      rescan,
      old,
      { max: 2 },
      `baseline: the old string match over the same ${(jsonl.length / 1e6).toFixed(1)} MB of events`,
    ),
  ];
}
