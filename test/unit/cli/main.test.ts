import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const cli = join(__dirname, '..', '..', '..', 'dist', 'cli.js');

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
  const notPdf = spawnSync(process.execPath, [cli, 'paper', join(__dirname, 'main.test.ts')], {
    encoding: 'utf8',
  });
  assert.equal(notPdf.status, 1);
  assert.match(notPdf.stderr, /main\.test\.ts: not a PDF file/);
  assert.equal(notPdf.stdout, '');

  const none = spawnSync(process.execPath, [cli, 'paper'], { encoding: 'utf8' });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /klong paper takes one paper/);

  const bad = spawnSync(process.execPath, [cli, 'paper', 'x.pdf', '--pages', '3'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /klong paper: Unknown option '--pages'[\s\S]*Usage: klong paper/);
});

test('klong reproduce: a zero or negative --budget gets one clear error', () => {
  for (const b of ['0', '0h', '0m30', '-5m', '-1', 'soon']) {
    const r = spawnSync(process.execPath, [cli, 'reproduce', 'p.md', '--workspace', '.', '--budget', b], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, KLONG_API_KEY: 'k' },
    });
    assert.equal(r.status, 2, b);
    assert.match(
      r.stderr,
      new RegExp(`--budget must be a time above zero with its unit, e\\.g\\. 12h, 90m or 1h30m; got "${b}"`),
    );
    assert.doesNotMatch(r.stderr, /ambiguous/);
  }
});

test('klong reproduce: a start that fails (Docker unreachable) names the session and how to resume it, before any rubric is written', () => {
  const root = mkdtempSync(join(tmpdir(), 'klong-cli-start-'));
  try {
    const ws = join(root, 'ws');
    mkdirSync(ws);
    const paper = join(root, 'paper.md');
    writeFileSync(paper, '# A Tiny Paper\n\n## Method\n\nAdd two numbers.\n');
    const state = join(root, 'state');
    const env = {
      PATH: process.env.PATH,
      HOME: root,
      KLONG_API_KEY: 'k',
      DOCKER_HOST: `unix://${join(root, 'no-docker.sock')}`,
    };
    const r = spawnSync(
      process.execPath,
      [
        cli,
        'reproduce',
        paper,
        '--workspace',
        ws,
        '--state-dir',
        state,
        '--session-id',
        'nodocker',
        '--model',
        'm',
        '--base-url',
        'http://127.0.0.1:9/v1',
      ],
      { encoding: 'utf8', env, timeout: 60_000 },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /Session nodocker did not start/);
    // Docker is checked before the model writes a rubric; the resume writes it.
    assert.doesNotMatch(r.stderr, /Writing a grading rubric|No rubric/);
    assert.equal(JSON.parse(readFileSync(join(state, 'nodocker', 'run.json'), 'utf8')).generateRubric, true);
    assert.match(r.stderr, /klong reproduce --resume nodocker --state-dir /);
    // The log says why; the session stays resumable (VS Code offers it on the next start).
    const log = readFileSync(join(state, 'nodocker', 'events.jsonl'), 'utf8');
    assert.match(log, /"type":"error","message":"Could not start: The Docker engine is not running/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
