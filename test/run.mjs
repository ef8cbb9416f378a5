// Runs every test file under test/unit, test/integration and test/e2e with node's test runner.
// `node test/run.mjs unit integration` runs only those suites.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const all = ['unit', 'integration', 'e2e'];
const suites = process.argv.slice(2).filter((s) => all.includes(s));

function find(dir) {
  if (!existsSync(dir)) return [];
  let out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const files = (suites.length ? suites : all).flatMap((s) => find(join('test', s)));
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
