// Bundles the extension host code, the headless CLI and the webview UI.
// Usage: node esbuild.mjs [--watch] [--production]
import { existsSync } from 'node:fs';
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
 * `import('../engine/extension-api')` becomes `import('./engine.js')`, a bundle of its own, so that
 * activation compiles only the UI.
 */
const lazyEngine = {
  name: 'lazy-engine',
  setup(build) {
    build.onResolve({ filter: /\/engine\/extension-api$/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: './engine.js', external: true } : undefined,
    );
  },
};

/**
 * Every `import * as vscode from 'vscode'` of a CommonJS module makes esbuild copy the module's ~600
 * names into a fresh namespace object: 14 copies at activation. Importers share one ES module that
 * re-exports it instead (one copy).
 */
const vscodeOnce = {
  name: 'vscode-once',
  setup(build) {
    build.onResolve({ filter: /^vscode$/ }, (args) =>
      args.namespace === 'vscode-once'
        ? { path: 'vscode', external: true }
        : { path: 'vscode', namespace: 'vscode-once' },
    );
    build.onLoad({ filter: /.*/, namespace: 'vscode-once' }, () => ({
      contents: "export * from 'vscode';",
      loader: 'js',
    }));
  },
};

/** dist/cli.js only runs the CLI's `main`, which dist/engine.js carries: the engine is shipped once. */
const cliFromEngine = {
  name: 'cli-from-engine',
  setup(build) {
    build.onResolve({ filter: /^\.\/main$/ }, (args) =>
      args.importer.endsWith('bin.ts') ? { path: './engine.js', external: true } : undefined,
    );
  },
};

/**
 * dockerode's BuildKit session (gRPC) and BuildKit progress decoding (protobuf) are never used: images
 * are built by the devcontainer CLI. Left out, they save ~400 KB; any use fails with a clear message.
 */
const withoutBuildKit = {
  name: 'without-buildkit',
  setup(build) {
    build.onResolve({ filter: /^(@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)$/ }, (args) => ({
      path: args.path,
      namespace: 'without-buildkit',
    }));
    build.onLoad({ filter: /.*/, namespace: 'without-buildkit' }, (args) => {
      const message = `${args.path} is not bundled with KLong (only dockerode's BuildKit features use it)`;
      return {
        contents: `module.exports = new Proxy({}, { get() { throw new Error(${JSON.stringify(message)}); } });`,
        loader: 'js',
      };
    });
  },
};

/**
 * markdown-it (the webviews' Markdown) imports only the HTML entity decoders from `entities`; its
 * index also carries the encoder's tables (~23 KB minified per webview bundle), so take decode alone.
 */
const entitiesDecodeOnly = {
  name: 'entities-decode-only',
  setup(build) {
    build.onResolve({ filter: /^entities$/ }, (args) =>
      build.resolve('entities/lib/decode.js', { kind: args.kind, resolveDir: args.resolveDir }),
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
    plugins: [lazyEngine, vscodeOnce],
  },
  {
    ...common,
    stdin: {
      contents: "export * from './src/engine/extension-api'; export { main } from './src/cli/main';",
      resolveDir: '.',
      loader: 'ts',
      sourcefile: 'engine-bundle.ts',
    },
    outfile: 'dist/engine.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    mainFields: nodeMainFields,
    plugins: [withoutBuildKit],
  },
  {
    ...common,
    entryPoints: { cli: 'src/cli/bin.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternals,
    mainFields: nodeMainFields,
    banner: { js: '#!/usr/bin/env node' },
    plugins: [cliFromEngine],
  },
  {
    ...common,
    entryPoints: { progress: 'webview-ui/progress.ts', paper: 'webview-ui/paper.ts' },
    outdir: 'dist/webview',
    platform: 'browser',
    format: 'iife',
    target: 'chrome120',
    plugins: [entitiesDecodeOnly],
  },
];

/**
 * pdf.js as ES modules in dist/webview/pdfjs: the paper panel's webview renders with them and the
 * engine reads PDF text with them (src/paper/pdf/pdfjs-node.ts). The legacy build is the one that runs
 * in Node 20; browsers run it too.
 */
async function copyPdfjs() {
  await mkdir('dist/webview/pdfjs', { recursive: true });
  for (const f of ['pdf.min.mjs', 'pdf.worker.min.mjs']) {
    await cp(`node_modules/pdfjs-dist/legacy/build/${f}`, `dist/webview/pdfjs/${f}`);
  }
}

/** The codicon font for the webviews: from @vscode/codicons when installed, else the copy in webview-ui/codicons/. */
async function copyCodicons() {
  await mkdir('dist/webview', { recursive: true });
  const pkg = 'node_modules/@vscode/codicons/dist/codicon.ttf';
  await cp(existsSync(pkg) ? pkg : 'webview-ui/codicons/codicon.ttf', 'dist/webview/codicon.ttf');
}

/** The devcontainer CLI is one self-contained script: shipped as is and run as a child process. */
async function copyDevcontainerCli() {
  const from = 'node_modules/@devcontainers/cli';
  for (const f of ['package.json', 'devcontainer.js', 'dist']) {
    await cp(`${from}/${f}`, `dist/devcontainer-cli/${f}`, { recursive: true });
  }
}

/** The change watcher runs in the container with python3; the engine reads it from beside its bundle. */
async function copyWatcher() {
  await mkdir('dist', { recursive: true });
  await cp('src/sandbox/watcher.py', 'dist/watcher.py');
}

if (production) await rm('dist', { recursive: true, force: true });
await Promise.all([copyPdfjs(), copyDevcontainerCli(), copyWatcher(), copyCodicons()]);
if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching for changes');
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
