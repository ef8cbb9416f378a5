import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const cli = join(__dirname, '..', '..', 'dist', 'cli.js');

test('klong --help prints usage and exits 0', () => {
  const r = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /Usage: klong <command>/);
  assert.match(r.stdout, /reproduce/);
});

test('an unknown command says so and exits 2', () => {
  const r = spawnSync(process.execPath, [cli, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command "frobnicate"/);
});

test('klong paper: a file that is not a PDF is named with the reason; a bad option shows the usage', () => {
  const notPdf = spawnSync(process.execPath, [cli, 'paper', join(__dirname, 'cli.test.ts')], {
    encoding: 'utf8',
  });
  assert.equal(notPdf.status, 1);
  assert.match(notPdf.stderr, /cli\.test\.ts: not a PDF file/);
  assert.equal(notPdf.stdout, '');

  const none = spawnSync(process.execPath, [cli, 'paper'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /klong paper takes one paper/);

  const bad = spawnSync(process.execPath, [cli, 'paper', 'x.pdf', '--pages', '3'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /klong paper: Unknown option '--pages'[\s\S]*Usage: klong paper/);
});
