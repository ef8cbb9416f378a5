/** NO_COLOR, --no-color and FORCE_COLOR: colour only on a terminal, and never when asked not to. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { colourWanted } from '../../../src/cli/colour';
import { main } from '../../../src/cli/main';

const ESC = /\x1b\[/;

test('colour is wanted on a terminal only, unless NO_COLOR, --no-color or TERM=dumb; FORCE_COLOR forces it', () => {
  const tty = { isTTY: true };
  const pipe = { isTTY: false };
  const cases: [string, { isTTY: boolean }, NodeJS.ProcessEnv, boolean, boolean][] = [
    ['terminal', tty, {}, false, true],
    ['pipe', pipe, {}, false, false],
    ['NO_COLOR=1 on a terminal', tty, { NO_COLOR: '1' }, false, false],
    ['NO_COLOR empty counts as unset', tty, { NO_COLOR: '' }, false, true],
    ['--no-color on a terminal', tty, {}, true, false],
    ['TERM=dumb', tty, { TERM: 'dumb' }, false, false],
    ['FORCE_COLOR=1 on a pipe', pipe, { FORCE_COLOR: '1' }, false, true],
    ['FORCE_COLOR=0 on a terminal', tty, { FORCE_COLOR: '0' }, false, true],
    ['NO_COLOR beats FORCE_COLOR', pipe, { NO_COLOR: '1', FORCE_COLOR: '1' }, false, false],
    ['--no-color beats FORCE_COLOR', pipe, { FORCE_COLOR: '1' }, true, false],
  ];
  for (const [name, stream, env, flag, want] of cases)
    assert.equal(colourWanted(stream, env, flag), want, name);
});

/** `klong rubric check` on a broken rubric, output captured as if stdout and stderr were terminals. */
async function checkBroken(args: string[], env: Record<string, string | undefined>) {
  const dir = mkdtempSync(join(tmpdir(), 'klong-colour-'));
  const file = join(dir, 'rubric.json');
  writeFileSync(file, '{"id": "root", "requirements": "x", "weight": 1, "sub_tasks": [{"id": 3}]}\n');
  const saved = {
    NO_COLOR: process.env.NO_COLOR,
    FORCE_COLOR: process.env.FORCE_COLOR,
    TERM: process.env.TERM,
  };
  Object.assign(process.env, { TERM: 'xterm-256color' });
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let out = '';
  let err = '';
  try {
    const code = await main([...args.map((a) => (a === 'FILE' ? file : a))], {
      out: {
        isTTY: true,
        write: (s: string) => {
          out += s;
          return true;
        },
      },
      err: {
        isTTY: true,
        write: (s: string) => {
          err += s;
          return true;
        },
      },
      onInterrupt: () => () => undefined,
    });
    return { code, out, err };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

test('klong marks errors in colour on a terminal; NO_COLOR and --no-color (anywhere) print plain text', async () => {
  const coloured = await checkBroken(['rubric', 'check', 'FILE'], {
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
  });
  assert.equal(coloured.code, 1);
  assert.match(coloured.out, /\x1b\[31m\(error\)\x1b\[39m/);
  const noColorEnv = await checkBroken(['rubric', 'check', 'FILE'], {
    NO_COLOR: '1',
    FORCE_COLOR: undefined,
  });
  assert.equal(noColorEnv.code, 1);
  assert.match(noColorEnv.out, /\(error\)/);
  assert.doesNotMatch(noColorEnv.out + noColorEnv.err, ESC);
  for (const args of [
    ['--no-color', 'rubric', 'check', 'FILE'],
    ['rubric', 'check', 'FILE', '--no-color'],
  ]) {
    const r = await checkBroken(args, { NO_COLOR: undefined, FORCE_COLOR: '1' });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.out, /\(error\)/);
    assert.doesNotMatch(r.out + r.err, ESC, args.join(' '));
  }
  // Errors of the command line itself: red on a terminal, plain with NO_COLOR.
  const bad = await checkBroken(['rubric', 'check'], { NO_COLOR: undefined, FORCE_COLOR: undefined });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^\x1b\[31mklong rubric check takes one file/);
  const badPlain = await checkBroken(['rubric', 'check'], { NO_COLOR: '1' });
  assert.match(badPlain.err, /^klong rubric check takes one file/);
});
