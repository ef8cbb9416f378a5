/**
 * Bundle sizes against the budget a .vsix should stay under, and the cost of loading the extension
 * bundle against starting Node alone (what activation adds before `activate()` runs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchRow, median, row } from './types';

const root = join(__dirname, '..');
const KB = 1024;
const VSIX_BUDGET = 2 * KB * KB;
const ENGINE_BUDGET = 1.5 * KB * KB;

function size(rel: string): number {
  return statSync(join(root, rel)).size;
}

function timeNode(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { cwd: root });
    if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return median(times);
}

// Loads dist/extension.js with a stand-in for the `vscode` module, which only a host provides: every
// name @types/vscode exports is a callable, constructible no-op (esbuild copies the module's own keys).
const VSCODE_NAMES = [
  ...new Set(
    [
      ...readFileSync(join(root, 'node_modules/@types/vscode/index.d.ts'), 'utf8').matchAll(
        /^\t?export (?:class|namespace|enum|function|const|let) (\w+)/gm,
      ),
    ].map((m) => m[1]),
  ),
];
const LOAD = `const M=require('module');const r=M._resolveFilename;M._resolveFilename=function(q,...a){return q==='vscode'?q:r.call(this,q,...a)};const stub=()=>new Proxy(function(){},{get:(t,k)=>k==='then'||typeof k==='symbol'?undefined:stub(),construct:()=>stub(),apply:()=>stub()});const exp={};for(const n of ${JSON.stringify(VSCODE_NAMES)})exp[n]=stub();require.cache.vscode={id:'vscode',filename:'vscode',loaded:true,exports:exp};require('./dist/extension.js')`;

export default async function bench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  rows.push(
    row(
      'extension bundle size',
      'KB',
      size('dist/extension.js') / KB,
      VSIX_BUDGET / KB,
      { max: 1 },
      'budget: 2 MB',
    ),
    row(
      'engine bundle size (the CLI, and what the extension loads on the first Reproduce)',
      'KB',
      size('dist/engine.js') / KB,
      ENGINE_BUDGET / KB,
      { max: 1 },
      'budget: 1.5 MB (pdf.js ships separately)',
    ),
    row(
      'webview bundle size',
      'KB',
      (size('dist/webview/progress.js') + size('dist/webview/paper.js')) / KB,
      512,
      {
        max: 1,
      },
      'budget: 512 KB (pdf.js ships separately)',
    ),
  );
  execFileSync(
    'npx',
    ['vsce', 'package', '--no-dependencies', '--no-rewrite-relative-links', '--out', 'dist/bench.vsix'],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  if (existsSync(join(root, 'dist/bench.vsix'))) {
    rows.push(
      row('.vsix size', 'KB', size('dist/bench.vsix') / KB, VSIX_BUDGET / KB, { max: 1 }, 'budget: 2 MB'),
    );
  }
  timeNode(['-e', ''], 3); // warm the file cache
  const bare = timeNode(['-e', ''], 15);
  const load = timeNode(['-e', LOAD], 15);
  rows.push(
    row('activation: load extension bundle', 'ms', load, bare, { max: 1.5 }, 'baseline: node startup alone'),
  );
  return rows;
}
