/**
 * `klong export-sft` throughput on a 10,000-step session (events written by the real EventLog)
 * against the least any export must do with the same log: read events.jsonl, JSON.parse every
 * line, JSON.stringify it and write the result. The export also rebuilds the conversation, counts
 * tokens for every message and splits it with a 4-turn overlap into 32k-token pieces.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSft } from '../src/export/sft';
import { writeSyntheticSession } from '../test/support/sft-session';
import { type BenchRow, median, row } from './types';

const STEPS = 10_000;

function baseline(dir: string, out: string): void {
  const text = readFileSync(join(dir, 'events.jsonl'), 'utf8');
  const lines = text.split('\n');
  const outLines: string[] = [];
  for (const l of lines) if (l) outLines.push(JSON.stringify(JSON.parse(l)));
  writeFileSync(out, `${outLines.join('\n')}\n`);
}

export default async function bench(): Promise<BenchRow[]> {
  const root = mkdtempSync(join(tmpdir(), 'klong-export-bench-'));
  try {
    const dir = join(root, 'session');
    writeSyntheticSession(dir, { steps: STEPS, outputChars: 800 });
    const mb = statSync(join(dir, 'events.jsonl')).size / 1e6;
    const ours: number[] = [];
    const base: number[] = [];
    let lines = 0;
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      baseline(dir, join(root, 'baseline.jsonl'));
      base.push(performance.now() - t);
      t = performance.now();
      lines = exportSft([dir], join(root, 'sft.jsonl'), { maxTokens: 32_768, overlapTurns: 4 }).lines;
      ours.push(performance.now() - t);
    }
    const o = median(ours);
    const b = median(base);
    return [
      row(
        `export-sft of a ${STEPS}-step session (${mb.toFixed(0)} MB log) vs JSON parse+stringify of the log`,
        'ms',
        o,
        b,
        { max: 3 },
        `${lines} lines; ${((STEPS / o) * 1000).toFixed(0)} steps/s ours, ${((STEPS / b) * 1000).toFixed(0)} steps/s baseline`,
      ),
    ];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
