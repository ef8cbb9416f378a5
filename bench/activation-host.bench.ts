/**
 * Activation of the extension in a real VS Code extension host (code-server 4.100.3), against a
 * trivial extension activated the same way in the same host. Needs scripts/install-code-server.sh.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { codeServerInstalled, repoRoot, startCodeServer, xdgEnv } from '../test/e2e/harness/code-server';
import { runWorkbench } from '../test/e2e/harness/workbench';
import { type BenchRow, median, row } from './types';

const RUNS = 3;

async function once(testsPath: string): Promise<{ baseline: number; ours: number }> {
  const runDir = mkdtempSync(join(tmpdir(), 'klong-bench-host-'));
  const workspace = join(runDir, 'workspace');
  // Installed as a user extension (the web workbench loads only one development extension).
  const baselineExt = join(runDir, 'extensions', 'klong-bench.baseline-0.0.1');
  for (const d of [workspace, baselineExt, join(runDir, 'replies')]) mkdirSync(d, { recursive: true });
  writeFileSync(
    join(baselineExt, 'package.json'),
    JSON.stringify({
      name: 'baseline',
      publisher: 'klong-bench',
      version: '0.0.1',
      engines: { vscode: '^1.100.0' },
      main: './extension.js',
      activationEvents: [],
      contributes: { commands: [{ command: 'klongBench.noop', title: 'noop' }] },
    }),
  );
  writeFileSync(join(baselineExt, 'extension.js'), 'exports.activate = () => {};\n');
  // KLong activates on startup; to time its activate() from the test as before, the host loads a
  // copy of its manifest without onStartupFinished (the same bundle, linked).
  const klongExt = join(runDir, 'klong-ext');
  mkdirSync(klongExt);
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  manifest.activationEvents = manifest.activationEvents.filter((e: string) => e !== 'onStartupFinished');
  writeFileSync(join(klongExt, 'package.json'), JSON.stringify(manifest));
  for (const d of ['dist', 'media', 'node_modules']) symlinkSync(join(repoRoot, d), join(klongExt, d));
  const server = await startCodeServer({ runDir, workspace, env: {} });
  try {
    let result: { baseline: number; ours: number } | undefined;
    const lines: string[] = [];
    const r = await runWorkbench({
      url: server.url,
      workspace,
      extensionPath: klongExt,
      testsPath,
      replyDir: join(runDir, 'replies'),
      artifacts: join(runDir, 'artifacts'),
      env: xdgEnv(runDir),
      timeoutMs: 120_000,
      onOutput: (line) => {
        lines.push(line);
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice(7));
      },
    });
    if (r.exitCode !== 0 || !result)
      throw new Error(`host run failed (exit ${r.exitCode}): ${lines.slice(-5).join(' | ')}`);
    return result;
  } finally {
    await server.stop();
    rmSync(runDir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<BenchRow[]> {
  if (!codeServerInstalled()) {
    console.log('activation-host: code-server is not installed (scripts/install-code-server.sh); skipped');
    return [];
  }
  const out = join(repoRoot, 'out', 'bench-host');
  await esbuild.build({
    entryPoints: { index: join(__dirname, 'host', 'activation.ts') },
    outdir: out,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    logLevel: 'warning',
  });
  const runs: { baseline: number; ours: number }[] = [];
  for (let i = 0; i < RUNS; i++) runs.push(await once(join(out, 'index.js')));
  const ours = median(runs.map((r) => r.ours));
  const baseline = median(runs.map((r) => r.baseline));
  return [
    row(
      'activation in a real extension host',
      'ms',
      ours,
      baseline,
      { max: 10 },
      `code-server 4.100.3; baseline: an extension with an empty activate(); median of ${RUNS} hosts (${runs.map((r) => r.ours.toFixed(0)).join(', ')} ms)`,
    ),
  ];
}
