/**
 * The blacklist guard in a real container (network none): github.com is pointed at a git server
 * inside the container (dumb HTTP on port 80 via /etc/hosts), so without the guard every spelling
 * below would really clone the blacklisted repository. With it, git refuses each with KLong's
 * message, and other repositories on the same server still clone through the helper.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Blacklist } from '../../src/paper';
import { gitGuardFiles } from '../../src/paper/blacklist/guard';
import { type DockerSandbox, removeSandbox } from '../../src/sandbox/index';
import { FAKE_GITHUB } from '../support/fake-github';
import { openTestSandbox, removeDir, skipDocker, tempWorkspace, uniqueSession } from './sandbox-support';

const MESSAGE =
  "KLong: github.com/owner/repo is the paper's official code and is off limits (PaperBench rules). Reproduce the paper without it.";

const blacklist = (more: string[] = []) =>
  new Blacklist([
    { raw: 'https://github.com/owner/repo', source: 'paper' },
    ...more.map((raw) => ({ raw, source: 'paperbench' as const })),
  ]);

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Spellings of the blacklisted repository that reach git (each clones into its own folder). */
const SPELLINGS: [string, string][] = [
  ['plain http', 'git clone http://github.com/owner/repo d1'],
  ['https', 'git clone https://github.com/owner/repo.git d2'],
  ['shell variable', 'U=http://github.com/owner/repo; git clone "$U" d3'],
  ['double slashes', 'git clone http://github.com//owner//repo d4'],
  ['trailing dot on the host', 'git clone http://github.com./owner/repo d5'],
  ['mixed case', 'git clone http://GitHub.COM/Owner/Repo.GIT d6'],
  ['quotes inside the URL', `git clone "http://git"'hub.com/own'"er/repo" d7`],
  ['base64 to xargs', `echo ${b64('http://github.com/owner/repo d8')} | base64 -d | xargs git clone`],
  ['backslashes', 'git clone http://git\\hub.com/owner/re\\po d9'],
  [`\${H}.com`, `H=github; git clone "http://\${H}.com/owner/repo" d10`],
  ['percent escape', 'git clone http://github.com/%6Fwner/repo d11'],
  ['www.', 'git clone http://www.github.com/owner/repo/ d12'],
  ['user in the URL', 'git clone http://someone@github.com/owner/repo d13'],
  ['scp-like ssh', 'git clone git@github.com:owner/repo.git d14'],
  ['ssh://', 'git clone ssh://git@github.com/owner/repo d15'],
  ['git://', 'git clone git://github.com/owner/repo d16'],
  ['codeload', 'git clone http://codeload.github.com/owner/repo d17'],
  ['ls-remote', 'git ls-remote http://github.com/owner/repo'],
  ['fetch into an existing repository', 'git init -q d19 && git -C d19 fetch http://github.com/owner/repo'],
  ['submodule', 'git init -q d20 && git -C d20 submodule add http://github.com/owner/repo sub'],
  [
    'a script that builds the URL',
    `python3 -c "import os; raise SystemExit(os.system('git clone http://' + ''.join(map(chr, [103,105,116,104,117,98])) + '.com/owner/repo d21') >> 8)"`,
  ],
];

describe('blacklist guard: git inside the container', { skip: skipDocker }, () => {
  const session = uniqueSession('blguard');
  let ws: string;
  let sb: DockerSandbox;

  before(async () => {
    ws = tempWorkspace({ 'README.md': '# ws\n' });
    sb = await openTestSandbox(ws, session, { gitGuard: gitGuardFiles(blacklist()) });
    const r = await sb.exec(FAKE_GITHUB, { timeoutMs: 120_000 });
    assert.equal(r.exitCode, 0, r.output);
  });

  after(async () => {
    await removeSandbox(session);
    removeDir(ws);
  });

  test('the server really serves the repositories (without the guard the clone succeeds)', async () => {
    const r = await sb.exec(
      'GIT_CONFIG_NOSYSTEM=1 git clone -q http://github.com/owner/repo /tmp/unguarded && cat /tmp/unguarded/README',
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /^repo sources$/m);
  });

  for (const [name, command] of SPELLINGS)
    test(`refused with the message: ${name}`, async () => {
      const r = await sb.exec(`cd /tmp && ${command}`, { timeoutMs: 60_000 });
      assert.notEqual(r.exitCode, 0, r.output);
      assert.ok(r.output.includes(MESSAGE), `${command}\n${r.output}`);
      const got = await sb.exec('grep -rl "repo sources" /tmp/d* 2>/dev/null | head -3');
      assert.equal(got.output.trim(), '', 'no copy of the repository anywhere');
    });

  test('upper-case scheme fails too (git has no HTTPS helper), without fetching', async () => {
    const r = await sb.exec('cd /tmp && git clone HTTPS://github.com/owner/repo u1');
    assert.notEqual(r.exitCode, 0);
    assert.equal((await sb.exec('test -e /tmp/u1/README')).exitCode, 1);
  });

  test('other repositories, the same owner’s and a fork sharing the prefix, clone through the helper', async () => {
    const r = await sb.exec(
      'cd /tmp && git clone -q http://github.com/owner/other ok1 && git clone -q http://GitHub.com/owner/repo-fork.git ok2 && cat ok1/README ok2/README',
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(r.output.trim(), 'other sources\nfork sources');
  });

  test('pip install git+http:// goes through git and is refused', async (t) => {
    if ((await sb.exec('python3 -m pip --version')).exitCode !== 0) return t.skip('no pip in the image');
    const r = await sb.exec(
      'cd /tmp && python3 -m pip install --no-index --no-build-isolation --break-system-packages "git+http://github.com/owner/repo#egg=repo" 2>&1',
      { timeoutMs: 120_000 },
    );
    assert.notEqual(r.exitCode, 0);
    assert.ok(r.output.includes(MESSAGE), r.output);
  });

  test('a reattach writes the current blacklist again', async () => {
    await sb.dispose();
    sb = await openTestSandbox(ws, session, {
      gitGuard: gitGuardFiles(blacklist(['https://github.com/owner/other'])),
    });
    assert.equal(sb.info.reattached, true);
    const r = await sb.exec('cd /tmp && git clone http://github.com/owner/other again');
    assert.notEqual(r.exitCode, 0);
    assert.match(r.output, /KLong: github\.com\/owner\/other is on the paper's PaperBench blacklist/);
    const inc = await sb.exec('git config --system --get-all include.path');
    assert.equal(inc.output.trim(), '/etc/klong/gitconfig', 'included once');
  });
});
