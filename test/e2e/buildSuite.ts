/** Bundles the mocha suite for the extension host: out/test/index.js + one file per *.suite.ts. */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

export const suiteOutDir = join(__dirname, '..', '..', 'out', 'test');

export async function buildSuite(): Promise<string> {
  const src = join(__dirname, 'suite');
  const suites = readdirSync(src).filter((f) => f.endsWith('.suite.ts'));
  rmSync(suiteOutDir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: [join(src, 'index.ts'), ...suites.map((f) => join(src, f))],
    outdir: suiteOutDir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'warning',
    // The host provides `vscode`; mocha is required from the project's node_modules.
    external: ['vscode', 'mocha'],
  });
  return join(suiteOutDir, 'index.js');
}
