/** Bundles the mocha suite for the extension host: out/test/index.js + one file per *.suite.ts. */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

export const suiteOutDir = join(__dirname, '..', '..', 'out', 'test');

/** `outDir` lets two e2e runs (test files run concurrently) build without clobbering each other. */
export async function buildSuite(outDir = suiteOutDir): Promise<string> {
  const src = join(__dirname, 'suite');
  const suites = readdirSync(src).filter((f) => f.endsWith('.suite.ts'));
  rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(src, 'index.ts'), ...suites.map((f) => join(src, f))],
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    // The host provides `vscode`; mocha is required from the project's node_modules.
    external: ['vscode', 'mocha'],
  });
  return join(outDir, 'index.js');
}
