/**
 * The .vsix as users install it: the bundles, pdf.js, the devcontainer CLI, media and the manifest,
 * nothing else; and what it ships runs from the installed folder alone (no node_modules): the `klong`
 * CLI reads a PDF with the pdf.js the paper panel uses.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { makePaper } from '../support/paper-pdf';

const repo = join(__dirname, '..', '..');
const built = ['extension.js', 'engine.js', 'cli.js'].every((f) => existsSync(join(repo, 'dist', f)));

test('the .vsix holds the bundles and runs without node_modules', {
  skip: built ? false : 'dist/ is missing: run `npm run build` first',
}, async () => {
  // vsce lists exactly what `vsce package` puts in the .vsix (it applies .vscodeignore).
  const listed = execFileSync('npx', ['vsce', 'ls', '--no-dependencies'], { cwd: repo, encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.trim() !== '');
  for (const f of [
    'package.json',
    'README.md',
    'resources/default-sandbox/Dockerfile',
    'resources/default-sandbox/devcontainer.json',
    'dist/extension.js',
    'dist/engine.js',
    'dist/cli.js',
    'dist/webview/paper.js',
    'dist/webview/progress.js',
    'dist/webview/pdfjs/pdf.min.mjs',
    'dist/webview/pdfjs/pdf.worker.min.mjs',
    'dist/webview/codicon.ttf',
    'dist/devcontainer-cli/devcontainer.js',
    'dist/watcher.py',
    'media/sample-paper.md',
    'media/walkthrough/key.md',
  ]) {
    assert.ok(listed.includes(f), `${f} is not in the .vsix`);
  }
  const stray = listed.filter(
    (f) =>
      !/^(package\.json|README\.md|LICENSE|CHANGELOG\.md|media\/.+|resources\/default-sandbox\/.+|dist\/.+)$/.test(
        f,
      ) || /\.(map|vsix|ts)$/.test(f),
  );
  assert.deepEqual(stray, [], 'sources, tests, source maps or node_modules in the .vsix');
  assert.ok(
    !listed.some((f) => f.endsWith('.ttf') && f !== 'dist/webview/codicon.ttf'),
    'the codicon font ships once',
  );

  const installed = await mkdtemp(join(tmpdir(), 'klong-vsix-'));
  try {
    for (const f of listed) {
      await cp(join(repo, f), join(installed, f), { recursive: true });
    }
    const pdf = join(installed, 'paper.pdf');
    await writeFile(pdf, await makePaper());
    const r = spawnSync(process.execPath, [join(installed, 'dist', 'cli.js'), 'paper', pdf], {
      cwd: dirname(pdf),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: installed },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^# Tiny Reproducible Experiments$/m);
    assert.match(r.stdout, /^## 2 Method$/m);
    assert.match(r.stdout, /The central experiment of this paper/);
    assert.equal(r.stderr, '', 'pdf.js warnings leaked onto stderr');
  } finally {
    await rm(installed, { recursive: true, force: true });
  }
});
