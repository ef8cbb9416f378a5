/**
 * The git guard's files without a container: the helper's URL normalisation run with bash on this
 * machine (as git would run it: `git-remote-klong <remote> <url>`), and the rewrites in its config.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Blacklist } from '../../../../src/paper';
import { gitGuardFiles } from '../../../../src/paper/blacklist/guard';

const dir = mkdtempSync(join(tmpdir(), 'klong-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const guard = gitGuardFiles(
  new Blacklist([
    { raw: 'https://github.com/Owner/Repo', source: 'paper' },
    { raw: 'gitlab.com/group/project.git', source: 'user' },
  ]),
);
const helper = join(dir, 'git-remote-klong');
const BASH = spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim() || '/bin/bash';
// The helper runs in the container's bash; here it needs bash 4 or newer too (for its lower-casing).
const bashMajor = Number(spawnSync(BASH, ['-c', 'echo $BASH_VERSINFO'], { encoding: 'utf8' }).stdout.trim());
const noBash =
  bashMajor >= 4
    ? false
    : `bash 4 or newer is needed to run the helper here (found ${BASH}: ${bashMajor || 'none'})`;
writeFileSync(helper, guard.helper, { mode: 0o755 });

// A stand-in git whose exec path holds a git-remote-https that only says what it was handed.
mkdirSync(join(dir, 'bin'));
mkdirSync(join(dir, 'exec'));
writeFileSync(join(dir, 'bin', 'git'), `#!${BASH}\necho ${join(dir, 'exec')}\n`, { mode: 0o755 });
for (const s of ['http', 'https'])
  writeFileSync(join(dir, 'exec', `git-remote-${s}`), `#!${BASH}\necho "git-remote-${s} $1 $2" >&2\n`, {
    mode: 0o755,
  });

/** The helper's verdict on a URL, as git runs it. */
function run(url: string): { code: number | null; stderr: string } {
  const r = spawnSync(BASH, [helper, 'origin', url], {
    encoding: 'utf8',
    input: '',
    env: { PATH: join(dir, 'bin') },
  });
  return { code: r.status, stderr: r.stderr };
}

const REFUSED = [
  'https://github.com/owner/repo',
  'https://GitHub.COM/OWNER/Repo.git',
  'https://github.com./owner/repo/',
  'https://github.com//owner//repo',
  'https://www.github.com/owner/repo.git/info/refs?service=git-upload-pack',
  'https://user:token@github.com/owner/repo',
  'https://github.com:443/owner/repo',
  'https://github.com/%6Fwner/repo',
  'https://codeload.github.com/owner/repo/tar.gz/main',
  'https://raw.githubusercontent.com/owner/repo/main/x.py',
  'https://api.github.com/repos/owner/repo',
  'http://github.com\\owner\\repo',
  'ssh://git@github.com/owner/repo',
  'git@github.com:owner/repo.git',
];

test(`helper: ${REFUSED.length} URLs of the blacklisted repository are refused with the message`, {
  skip: noBash,
}, () => {
  for (const url of REFUSED) {
    const r = run(url);
    assert.equal(r.code, 1, url);
    assert.equal(
      r.stderr.trim(),
      "KLong: github.com/owner/repo is the paper's official code and is off limits (PaperBench rules). Reproduce the paper without it.",
      url,
    );
  }
  assert.match(
    run('https://gitlab.com/Group/Project').stderr,
    /^KLong: gitlab\.com\/group\/project is blocked by the user/,
  );
});

test('helper: other repositories go on to git’s own helper, with the same arguments', {
  skip: noBash,
}, () => {
  for (const url of [
    'https://github.com/owner/repo-fork',
    'https://github.com/owner/other',
    'https://github.com/owner/repository.git',
    'https://gitlab.com/group/project2',
    'https://example.com/owner/repo',
  ]) {
    const r = run(url);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.trim(), `git-remote-https origin ${url}`);
  }
});

test('config: every http(s) remote through the helper, ssh/git forms of each entry, its own capitalisation too', () => {
  const cfg = guard.gitconfig;
  assert.match(cfg, /\[protocol "klong"\]\n\tallow = always/);
  assert.match(cfg, /\[url "klong::https:\/\/"\]\n\tinsteadOf = "https:\/\/"/);
  assert.match(cfg, /\[url "klong::http:\/\/"\]\n\tinsteadOf = "http:\/\/"/);
  for (const p of [
    'git@github.com:owner/repo',
    'git@github.com:Owner/Repo',
    'ssh://git@github.com/owner/repo',
    'git://github.com/owner/repo',
    'git@github.com.:owner/repo',
    'git@gitlab.com:group/project',
  ])
    assert.ok(cfg.includes(`\tinsteadOf = "${p}"\n`), p);
});

test('helper: plain http goes to git-remote-http; a non-blacklisted ssh form that hit a rewrite is refused', {
  skip: noBash,
}, () => {
  assert.equal(run('http://example.com/x').stderr.trim(), 'git-remote-http origin http://example.com/x');
  const r = run('ssh://git@github.com/owner/repo-fork');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /starts like the ssh address of a blacklisted repository\. Use https:\/\//);
});
