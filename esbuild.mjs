// Bundles the extension host code, the headless CLI and the webview UI.
// Usage: node esbuild.mjs [--watch] [--production]
import { cp, mkdir, rm } from 'node:fs/promises';
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  logLevel: 'warning',
  legalComments: 'none',
};

// ssh2 (through dockerode) has optional native addons; without them it falls back to plain JS.
const nodeExternals = ['vscode', 'cpu-features', '*.node'];
// jsonc-parser's UMD "main" requires its own files dynamically (breaks when bundled): prefer ESM builds.
const nodeMainFields = ['module', 'main'];

/**
 * The extension loads the engine (pdf.js, Docker and model clients: most of the code) on first use:
 * `import('../engine/lazy')` becomes `import('./engine.js')`, a bundle of its own, so that
 * activation compiles only the UI.
 */
const lazyEngine = {
  name: 'lazy-engine',
  setup(build) {
    build.onResolve({ filter: /\/engine\/lazy$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: './engine.js', external: true } : undefined,
    );
  },
};

/** @type {esbuild.BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: { extension: 'src/extension.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    mainFields: nodeMainFields,
    plugins: [lazyEngine],
  },
  {
    ...common,
    entryPoints: { engine: 'src/engine/lazy.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    mainFields: nodeMainFields,
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/main.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    mainFields: nodeMainFields,
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    ...common,
    entryPoints: { progress: 'webview-ui/progress.ts', paper: 'webview-ui/paper.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
  },
];

/** pdf.js for the paper panel is loaded by the webview as ES modules from dist/webview/pdfjs. */
async function copyPdfjs() {
  await mkdir('dist/webview/pdfjs', { recursive: true });
  for (const f of ['pdf.min.mjs', 'pdf.worker.min.mjs']) {
    await cp(`node_modules/pdfjs-dist/build/${f}`, `dist/webview/pdfjs/${f}`);
  }
}

/** The devcontainer CLI is one self-contained script: shipped as is and run as a child process. */
async function copyDevcontainerCli() {
  const from = 'node_modules/@devcontainers/cli';
  for (const f of ['package.json', 'devcontainer.js', 'dist']) {
    await cp(`${from}/${f}`, `dist/devcontainer-cli/${f}`, { recursive: true });
  }
}

if (production) await rm('dist', { recursive: true, force: true });
await Promise.all([copyPdfjs(), copyDevcontainerCli()]);
if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
