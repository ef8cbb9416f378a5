/**
 * The change watcher is a Python program that runs in the container (src/sandbox/watcher.py): a syntax
 * error there would only show as a slow full scan on every step, so Python checks it here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { watcherSource } from '../../../src/sandbox/change-journal';

const python = spawnSync('python3', ['--version']).status === 0;

test('watcher.py compiles with python3 and is what the sandbox sends', {
  skip: python ? false : 'python3 is not installed on this host',
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'klong-watcher-'));
  try {
    const source = join(__dirname, '..', '..', '..', 'src', 'sandbox', 'watcher.py');
    const r = spawnSync(
      'python3',
      [
        '-c',
        'import py_compile,sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)',
        source,
        join(dir, 'w.pyc'),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const text = watcherSource();
    assert.match(text, /^import ctypes, errno/m);
    assert.match(text, /\nmain\(\)\n$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
