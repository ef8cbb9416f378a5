// Runs every test file under test/unit, test/integration and test/e2e with node's test runner.
// `node test/run.mjs unit integration` runs only those suites; other arguments pick files whose path
// contains them (`node test/run.mjs sandbox-shell`).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const all = ['unit', 'integration', 'e2e'];
const args = process.argv.slice(2);
const suites = args.filter((s) => all.includes(s));
const picks = args.filter((s) => !all.includes(s));

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

const files = (suites.length ? suites : all)
  .flatMap((s) => find(join('test', s)))
  .filter((f) => picks.length === 0 || picks.some((p) => f.includes(p)));
if (files.length === 0) {
  console.error(`No test file matches ${args.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-concurrency=2',
    '--test-timeout=900000',
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
