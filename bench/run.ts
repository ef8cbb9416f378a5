/** `npm run bench`: runs every bench/*.bench.ts, prints one table, writes bench/results.json. */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bench, BenchRow } from './types';

const only = process.argv.slice(2);
const files = readdirSync(__dirname)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

async function main(): Promise<void> {
  const rows: (BenchRow & { file: string })[] = [];
  for (const file of files) {
    const mod = (await import(join(__dirname, file))) as { default: Bench };
    try {
      for (const r of await mod.default()) rows.push({ ...r, file });
    } catch (err) {
      rows.push({
        file,
        name: `${file} failed`,
        unit: '',
        ours: Number.NaN,
        baseline: Number.NaN,
        ratio: Number.NaN,
        goal: '',
        pass: false,
        note: err instanceof Error ? err.message : String(err),
      });
    }
  }
  const table = [['name', 'ours', 'baseline', 'unit', 'ratio', 'goal', 'result']].concat(
    rows.map((r) => [
      r.name,
      fmt(r.ours),
      fmt(r.baseline),
      r.unit,
      `${fmt(r.ratio)}×`,
      r.goal,
      r.pass ? 'pass' : 'FAIL',
    ]),
  );
  const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
  for (const [i, t] of table.entries()) {
    console.log(t.map((c, j) => c.padEnd(widths[j]!)).join('  '));
    if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  }
  for (const r of rows) if (r.note) console.log(`note: ${r.name}: ${r.note}`);
  writeFileSync(
    join(__dirname, 'results.json'),
    `${JSON.stringify({ date: new Date().toISOString(), rows }, null, 2)}\n`,
  );
  if (rows.some((r) => !r.pass)) process.exitCode = 1;
}

void main();
