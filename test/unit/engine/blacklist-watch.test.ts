/** The session's blacklist watch: findings per step, the rescan before grading after a resume, the report. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BlacklistWatch } from '../../../src/engine/blacklist-watch';
import { reproductionReport } from '../../../src/engine/grading';
import type { AgentEvent, AgentEventBody } from '../../../src/events/events';
import { Blacklist, paperFromMarkdown } from '../../../src/paper';

const blacklist = () => new Blacklist([{ raw: 'github.com/owner/repo', source: 'paper' }]);

/** A session log in memory: append gives seq and ts, as the event log does. */
function session() {
  const log: AgentEvent[] = [];
  let watch!: BlacklistWatch;
  const emit = (body: AgentEventBody) => {
    const e = { ...body, seq: log.length + 1, ts: 0 } as AgentEvent;
    log.push(e);
    watch.see(e);
  };
  watch = new BlacklistWatch(blacklist(), emit);
  return { log, emit, watch };
}

const bash = (step: number, id: string, command: string, output: string): AgentEventBody[] => [
  { type: 'tool_call', step, callId: id, name: 'bash', args: JSON.stringify({ command }) },
  { type: 'tool_result', step, callId: id, name: 'bash', ok: false, output, durationMs: 1 },
];

const findings = (log: AgentEvent[]) =>
  log.filter((e): e is Extract<AgentEvent, { type: 'blacklist_finding' }> => e.type === 'blacklist_finding');

test('watch: a finding per step after it ends; a resumed process rescans without recording twice', () => {
  const a = session();
  assert.ok(a.watch.gitGuard?.helper.includes("'github.com/owner/repo'"), 'the guard names the repository');
  for (const e of bash(1, 'call_1', 'H=github', '[exit code: 0]')) a.emit(e);
  assert.equal(a.watch.endStep(), 0);
  for (const e of bash(2, 'call_1', `git clone https://\${H}.com/owner/repo`, 'Refused')) a.emit(e);
  assert.equal(findings(a.log).length, 0, 'nothing before the step ends');
  assert.equal(a.watch.endStep(), 1);
  const f = findings(a.log)[0]!;
  assert.deepEqual(
    [f.step, f.callSeq, f.where, f.how, f.command],
    [2, 3, 'tool_call', 'shell', `git clone https://\${H}.com/owner/repo`],
  );
  // A crash cut the next step short (no endStep); a new process resumes with a fresh watch: it does not
  // know H, and the step's events were never scanned.
  for (const e of bash(3, 'call_1', `git clone "https://\${H}.com/owner/repo.git" /x`, 'Refused')) a.emit(e);
  const b = session();
  for (const e of a.log) b.log.push(e);
  const all = b.watch.beforeGrading(b.log, { step: 4, log: 'KLong: github.com/owner/repo is the paper…' });
  assert.deepEqual(
    all.map((h) => [h.step, h.where, h.tool]),
    [
      [2, 'tool_call', 'bash'],
      [3, 'tool_call', 'bash'],
      [4, 'tool_result', 'final_reproduction'],
    ],
  );
  assert.equal(findings(b.log).length, 3, 'the two new findings are recorded, the old one not again');
  // Grading again (a crash during grading) records nothing new.
  assert.equal(b.watch.beforeGrading(b.log, { step: 4, log: 'KLong: github.com/owner/repo' }).length, 3);
  assert.equal(findings(b.log).length, 3);
});

test('REPRODUCTION.md without a grade still lists the findings and the flag', () => {
  const s = session();
  for (const e of bash(1, 'c', 'curl -LO https://github.com/owner/repo/archive/main.zip', '')) s.emit(e);
  s.watch.endStep();
  const report = reproductionReport({
    paper: paperFromMarkdown('# P\n\n## 1 Intro\n\nText.\n', 'p.md'),
    findings: s.watch.beforeGrading(s.log),
  });
  assert.match(report, /Not graded/);
  assert.match(report, /\*\*⚠ Flagged for review:\*\* the blacklist monitor recorded 1 finding/);
  assert.match(
    report,
    /- step 1 \(tool_call, `bash`\): .*command: `curl -LO https:\/\/github\.com\/owner\/repo\/archive\/main\.zip`/,
  );
  assert.doesNotMatch(reproductionReport({ paper: paperFromMarkdown('# P\n', 'p.md') }), /Flagged/);
});

test('the bash tool refuses with the variables of earlier commands, and refuses hands on the git guard', () => {
  const s = session();
  for (const e of bash(1, 'a', 'H=github; echo ok', 'ok')) s.emit(e);
  s.watch.endStep();
  assert.match(
    s.watch.refusal('git clone "https://$H.com/owner/repo"')!,
    /^Refused: https:\/\/github\.com\/owner\/repo is blacklisted \(the paper's official code\)/,
  );
  assert.equal(s.watch.refusal('git clone "https://$H.com/owner/other"'), undefined);
  for (const c of [
    'GIT_CONFIG_NOSYSTEM=1 git clone x',
    'export GIT_CONFIG_SYSTEM=/dev/null',
    'git config --system --unset-all include.path',
    'git config --global url."https://github.com/".insteadOf gh:',
    'rm -f /usr/local/bin/git-remote-klong',
    'echo > /etc/klong/gitconfig',
    'cp my.cfg /etc/gitconfig',
    'sed -i d /etc/gitconfig',
  ])
    assert.match(s.watch.refusal(c) ?? '', /^Refused: the command touches KLong's blacklist guard/, c);
  for (const c of [
    'git config --system safe.directory "*"',
    'cat /etc/gitconfig',
    'git clone https://github.com/owner/other',
  ])
    assert.equal(s.watch.refusal(c), undefined, c);
  // Without a blacklist there is no guard to protect.
  const none = new BlacklistWatch(new Blacklist(), () => undefined);
  assert.equal(none.gitGuard, undefined);
  assert.equal(none.refusal('GIT_CONFIG_NOSYSTEM=1 git clone x'), undefined);
});
