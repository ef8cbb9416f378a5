/** The URL normaliser behind the blacklist: the spellings that must match, and the near misses that must not. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Blacklist, BlacklistMonitor, decodeEscapes, scanEvents, shellView } from '../../../../src/paper';

const bl = () => new Blacklist([{ raw: 'https://github.com/owner/repo', source: 'paper' }]);
const b64 = (s: string) => Buffer.from(s).toString('base64');
const hex = (s: string) => Buffer.from(s).toString('hex');

/** [spelling, how the matcher should say it was spelled] */
const POSITIVE: [string, string][] = [
  ['git clone https://github.com/owner/repo', 'as written'],
  ['git clone http://github.com/owner/repo.git', 'as written'],
  ['git clone https://www.github.com/owner/repo/', 'as written'],
  ['git clone git@github.com:owner/repo.git', 'as written'],
  ['git clone ssh://git@github.com:22/owner/repo', 'as written'],
  ['git clone ssh://git@ssh.github.com:443/owner/repo.git', 'as written'],
  ['git clone git://github.com/owner/repo', 'as written'],
  ['git clone HTTPS://GitHub.COM/Owner/Repo.GIT', 'as written'],
  ['pip install git+https://github.com/owner/repo@v1.0#egg=repo', 'as written'],
  ['uv pip install "repo @ git+https://github.com/owner/repo"', 'as written'],
  ['curl -LO https://codeload.github.com/owner/repo/tar.gz/refs/heads/main', 'as written'],
  ['wget https://github.com/owner/repo/archive/refs/heads/main.zip', 'as written'],
  ['curl https://raw.githubusercontent.com/owner/repo/main/train.py', 'as written'],
  ['curl https://api.github.com/repos/owner/repo/tarball', 'as written'],
  ['gh repo clone owner/repo', 'as written'],
  ['git clone https://user:token@github.com/owner/repo', 'as written'],
  // The seven spellings that went through the old string match:
  ['U=https://github.com/owner/repo; git clone "$U"', 'as written'],
  ['git clone https://github.com//owner//repo', 'as written'],
  ['git clone https://github.com./owner/repo', 'as written'],
  [`git clone "https://git"'hub.com/own'"er/repo"`, 'shell'],
  [`echo ${b64('https://github.com/owner/repo')} | base64 -d | xargs git clone`, 'base64'],
  ['git clone https://git\\hub.com/owner/re\\po', 'shell'],
  [`H=github; git clone https://\${H}.com/owner/repo`, 'shell'],
  // More of the same family:
  ['git clone https://github.com/\\\nowner/repo', 'shell'],
  ["git clone $'https://git\\x68ub.com/owner/repo'", 'shell'],
  ["printf '\\150ttps://github\\056com/owner/repo' | xargs git clone", 'escapes'],
  ['git clone https://github.com/%6Fwner/repo', 'escapes'],
  ['echo oper/renwo/moc.buhtig//:sptth | rev | xargs git clone', 'reversed'],
  [`echo ${hex('https://github.com/owner/repo')} | xxd -r -p | xargs git clone`, 'hex'],
  [`python3 -c "import os; h='github'; os.system(f'git clone https://{h}.com/owner/repo')"`, 'shell'],
  [`python3 -c "import os; os.system('git clone https://git' + 'hub.com/owner/repo')"`, 'shell'],
  ['git clone "$(echo https://github.com)/owner/repo"', 'shell'],
  [
    `python3 -c "import os; os.system('git clone https://' + chr(103)+chr(105)+chr(116)+chr(104)+chr(117)+chr(98) + '.com/owner/repo')"`,
    'escapes',
  ],
  [`echo ${b64(`git clone 'https://git''hub.com/owner/repo'`)} | base64 -d | sh`, 'shell'],
];

const NEGATIVE = [
  'git clone https://github.com/owner/repository', // another repository that only shares a prefix
  'git clone https://github.com/owner/repo-fork',
  'git clone https://github.com/owner/repo2.git',
  'git clone https://github.com/owner/other', // the same owner's other repository
  'git clone https://github.com/ownerx/repo',
  'git clone https://github.com/other/repo', // a fork under another owner
  'git clone https://gitlab.com/owner/repo', // the same path on another host
  'curl https://example.com/github.com-owner-repo.txt',
  'echo github.com/owner', // the owner alone
  `H=gitlab; git clone https://\${H}.com/owner/repo`,
  `echo ${b64('https://github.com/owner/repos')} | base64 -d`,
  'pip install numpy torch && python train.py --seed 0',
  'cat /usr/lib/python3/dist-packages/owner/repo/__init__.py',
];

test(`normaliser: ${POSITIVE.length} spellings of the blacklisted repository match, each with how it was spelled`, () => {
  const list = bl();
  for (const [spelling, how] of POSITIVE) {
    const ms = list.matches(spelling);
    assert.ok(ms.length > 0, `no match: ${spelling}`);
    assert.ok(
      ms.every((m) => m.entry.pattern === 'github.com/owner/repo'),
      spelling,
    );
    assert.equal(ms[0]!.how, how, `${spelling}: ${ms.map((m) => m.how).join(', ')}`);
    assert.match(list.refusal(spelling)!, /^Refused: .* is blacklisted \(the paper's official code\)/);
  }
});

test(`normaliser: ${NEGATIVE.length} near misses (same owner, shared prefix, other host) do not match`, () => {
  const list = bl();
  for (const s of NEGATIVE) assert.deepEqual(list.matches(s), [], s);
  assert.equal(list.refusal('ls -la'), undefined);
});

test(`shell view: quotes, backslashes, line continuations, $VAR/\${VAR} from assignments in sight`, () => {
  const vars = new Map<string, string>();
  assert.equal(shellView(`a"b"'c'\\d $'\\x65'`, vars), 'abcd e');
  assert.equal(
    shellView(`export HOST=git"hub".com; echo https://$HOST/x \${HOST}`, vars),
    'export HOST=github.com; echo https://github.com/x github.com',
  );
  assert.equal(vars.get('HOST'), 'github.com');
  assert.equal(
    shellView(`echo $UNKNOWN \${ALSO}`, vars),
    `echo $UNKNOWN \${ALSO}`,
    'unknown variables stay as written',
  );
  assert.equal(shellView("echo '$HOST'", vars), 'echo $HOST', 'no expansion inside single quotes');
  assert.equal(decodeEscapes('\\x68\\u0074%74\\160chr(115)'), 'https');
});

test('monitor: variables carry across steps; a call and its result give one finding; read_paper is skipped', () => {
  const events = [
    {
      seq: 1,
      type: 'tool_call',
      step: 1,
      callId: 'a',
      name: 'bash',
      args: JSON.stringify({ command: 'H=github' }),
    },
    { seq: 2, type: 'tool_result', step: 1, callId: 'a', name: 'bash', output: '[exit code: 0]' },
    {
      seq: 3,
      type: 'tool_call',
      step: 2,
      callId: 'b',
      name: 'bash',
      args: JSON.stringify({ command: `git clone "https://\${H}.com/owner/repo" /tmp/r` }),
    },
    {
      seq: 4,
      type: 'tool_result',
      step: 2,
      callId: 'b',
      name: 'bash',
      output:
        "KLong: github.com/owner/repo is the paper's official code and is off limits (PaperBench rules)",
    },
    {
      seq: 5,
      type: 'tool_call',
      step: 3,
      callId: 'c',
      name: 'bash',
      args: JSON.stringify({ command: 'bash get.sh' }),
    },
    {
      seq: 6,
      type: 'tool_result',
      step: 3,
      callId: 'c',
      name: 'bash',
      output: "Cloning into 'r'...\nKLong: github.com/owner/repo is the paper's official code",
    },
    { seq: 7, type: 'tool_call', step: 4, callId: 'd', name: 'read_paper', args: '{"section":"1"}' },
    {
      seq: 8,
      type: 'tool_result',
      step: 4,
      callId: 'd',
      name: 'read_paper',
      output: 'github.com/owner/repo',
    },
  ];
  const hits = scanEvents(events, bl());
  assert.deepEqual(
    hits.map((h) => [h.seq, h.where, h.how, h.command]),
    [
      [3, 'tool_call', 'shell', `git clone "https://\${H}.com/owner/repo" /tmp/r`],
      [6, 'tool_result', 'as written', 'bash get.sh'],
    ],
  );
  // A finding read back from the log is not recorded twice by a rescan.
  const m = new BlacklistMonitor(bl());
  m.markRecorded({ callSeq: 3, repo: 'github.com/owner/repo' });
  assert.deepEqual(
    events.flatMap((e) => m.observe(e)).map((h) => h.callId),
    ['c'],
  );
});
