/**
 * `klong reproduce` against a scripted attacking model (test/support/blacklist-attacker.ts): a real
 * container (network none) with a stand-in github.com inside it, a blacklist.txt naming
 * github.com/owner/repo, a one-leaf rubric. None of the attempts gets the repository; each is
 * recorded as a finding; the grade is flagged for review in the events, REPRODUCTION.md and the
 * CLI's output.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { AgentEvent } from '../../src/events/events';
import { entryFor } from '../../src/ui/model/timeline-entries';
import {
  ALL_ATTEMPTS,
  ATTACKS,
  ATTEMPT_IDS,
  attackerScript,
  BLACKLISTED,
  GIT_ATTACKS,
} from '../support/blacklist-attacker';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli, sessionEvents } from '../support/cli-run';
import { FAKE_GITHUB, REPO_MARK } from '../support/fake-github';
import { call, reply, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

function writeRubric(dir: string): string {
  const rubric = join(dir, 'rubric.json');
  const leaf = { id: 'code', requirements: 'hello.py prints a greeting.', weight: 1 };
  writeFileSync(
    rubric,
    JSON.stringify({
      id: 'root',
      requirements: 'The greeting is reproduced.',
      weight: 1,
      task_category: null,
      finegrained_task_category: null,
      sub_tasks: [
        { ...leaf, task_category: 'Code Development', finegrained_task_category: null, sub_tasks: [] },
      ],
    }),
  );
  return rubric;
}

const GUARD_MESSAGE = "KLong: github.com/owner/repo is on the paper's PaperBench blacklist and is off limits";

describe('blacklist: a scripted attacker through the CLI', { skip }, () => {
  test('15 spellings as commands and from scripts, a URL built at run time, reproduce.sh: no copy, every attempt a finding, grade flagged', async () => {
    const server = await cleanup.modelServer(attackerScript(), { apiKey: 'sk-test' });
    const session = cleanup.session('blattack');
    const dir = cleanup.temp('klong-bl-');
    const blacklist = join(dir, 'blacklist.txt');
    writeFileSync(blacklist, `${BLACKLISTED}\n`);
    const rubric = writeRubric(dir);
    const r = await runCli([...reproduceArgs(session, server.url, { rubric }), '--blacklist', blacklist]);
    assert.equal(r.code, 0, r.stderr);
    const events = sessionEvents(session.stateDir, session.sessionId) as unknown as AgentEvent[];
    const calls = new Map(events.flatMap((e) => (e.type === 'tool_call' ? [[e.callId, e] as const] : [])));
    const result = (id: string) =>
      events.find(
        (e): e is Extract<AgentEvent, { type: 'tool_result' }> => e.type === 'tool_result' && e.callId === id,
      )!;
    const findings = events.filter(
      (e): e is Extract<AgentEvent, { type: 'blacklist_finding' }> => e.type === 'blacklist_finding',
    );

    assert.match(result('setup').output, /fake github ready/);
    // The control: the same owner's other repository clones from the stand-in github.com.
    assert.match(result('control').output, /^other sources$/m);
    // No attempt got the repository, wherever it would have landed.
    assert.doesNotMatch(result('evidence').output, /^\//m, result('evidence').output);
    for (const id of ALL_ATTEMPTS) {
      const out = result(id).output;
      assert.ok(!out.includes(REPO_MARK), `${id}: ${out}`);
      // Refused by the bash tool before running, or by git inside the container.
      if (ATTACKS.some(([a]) => a === id)) assert.match(out, /^Command refused: Refused: /, id);
      if (GIT_ATTACKS.some((a) => id === `run-${a}`)) assert.ok(out.includes(GUARD_MESSAGE), `${id}: ${out}`);
    }
    for (const id of ATTEMPT_IDS) {
      const call = calls.get(id)!;
      assert.ok(
        findings.some((f) => f.callSeq === call.seq && f.repo === 'github.com/owner/repo'),
        `no finding for ${id}: ${call.args}`,
      );
    }
    // The script that builds the URL is stopped by git in the container, and found in its output.
    assert.ok(result('run-fetch').output.includes(GUARD_MESSAGE), result('run-fetch').output);
    assert.ok(findings.some((f) => f.callSeq === calls.get('run-fetch')!.seq && f.where === 'tool_result'));
    // The final run's fresh container has the guard too; its output is scanned before grading.
    const finalRun = result('final-reproduction').output;
    assert.match(finalRun, /\/etc\/klong\/gitconfig/);
    assert.ok(finalRun.includes(GUARD_MESSAGE), finalRun);
    assert.match(finalRun, /clone exit 128/);
    assert.ok(findings.some((f) => f.tool === 'final_reproduction' && f.where === 'tool_result'));
    // Nothing else is a finding: the setup and the control are clean.
    for (const id of ['setup', 'control', 'evidence'])
      assert.ok(!findings.some((f) => f.callSeq === calls.get(id)!.seq), id);
    // Findings are recorded before the grade, which is flagged.
    const grade = events.find((e) => e.type === 'grade')!;
    assert.equal(grade.type === 'grade' && grade.flagged, true);
    assert.ok(findings.every((f) => f.seq < grade.seq));
    // The timeline shows each finding as a warning row.
    const row = entryFor(findings[0]!)!;
    assert.equal(row.state, 'warn');
    assert.match(row.title, /^Blacklisted: github\.com\/owner\/repo in the command of bash/);

    const report = readFileSync(join(session.stateDir, session.sessionId, 'REPRODUCTION.md'), 'utf8');
    writeFileSync('/tmp/bl-report.md', report);
    writeFileSync('/tmp/bl-findings.json', JSON.stringify(findings, null, 1));
    writeFileSync('/tmp/bl-stderr.txt', r.stderr);
    assert.match(report, /\*\*⚠ Flagged for review:\*\* the blacklist monitor recorded \d+ finding/);
    assert.equal(GIT_ATTACKS.length, 12);
    for (const [id, command] of ATTACKS)
      assert.ok(
        report.includes(command.replace(/\s+/g, ' ').replace(/\|/g, '\\|').replace(/`/g, "'")),
        `${id} not in the report`,
      );
    assert.match(report, /`final_reproduction`/);
    assert.match(r.stderr, /Grade: 100\.0% of the rubric\./);
    assert.match(r.stderr, /⚠ Flagged for review: the blacklist monitor recorded \d+ finding\(s\)/);
  });

  test('a resumed session: the new process does not know the URL’s variable, git refuses, the rescan records nothing twice', async () => {
    let child: ChildProcess | undefined;
    const session = cleanup.session('blresume');
    const dir = cleanup.temp('klong-bl-');
    const blacklist = join(dir, 'blacklist.txt');
    writeFileSync(blacklist, `${BLACKLISTED}\n`);
    const judge = () => reply('{"score": 1, "explanation": "scripted judge"}');
    const first = await cleanup.modelServer(
      [
        tools(call('bash', { command: FAKE_GITHUB }, 'setup')),
        tools(
          call('write_file', { path: 'env.sh', content: 'export U=http://github.com/owner/repo\n' }, 'env'),
        ),
        () => {
          setTimeout(() => child?.kill('SIGINT'), 1500);
          return tools(call('bash', { command: 'sleep 60' }, 'sleep'));
        },
      ],
      { apiKey: 'sk-test' },
    );
    const args = [
      ...reproduceArgs(session, first.url, { rubric: writeRubric(dir) }),
      '--blacklist',
      blacklist,
    ];
    const r1 = await runCli(args, { onChild: (c) => (child = c) });
    assert.equal(r1.code, 130, r1.stderr);
    const second = await cleanup.modelServer(
      (req) =>
        !req.tools?.length
          ? judge()
          : req.messages.some((m) => m.tool_call_id === 'clone')
            ? tools(call('end_task', { summary: 'resumed' }, 'end'))
            : tools(call('bash', { command: 'source env.sh && git clone "$U" /tmp/r' }, 'clone')),
      { apiKey: 'sk-test' },
    );
    const r2 = await runCli([
      'reproduce',
      '--resume',
      session.sessionId,
      '--state-dir',
      session.stateDir,
      '--base-url',
      second.url,
      '--model',
      'test-model',
      '--no-final-run',
      '--label',
      'klong.test=1',
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    const events = sessionEvents(session.stateDir, session.sessionId) as unknown as AgentEvent[];
    const clone = events.find((e) => e.type === 'tool_result' && e.callId === 'clone');
    assert.ok(clone?.type === 'tool_result' && clone.output.includes(GUARD_MESSAGE), JSON.stringify(clone));
    assert.ok(!clone.output.includes(REPO_MARK));
    const findings = events.filter((e) => e.type === 'blacklist_finding');
    const callSeq = (id: string) => events.find((e) => e.type === 'tool_call' && e.callId === id)!.seq;
    assert.deepEqual(
      findings.map((f) => f.type === 'blacklist_finding' && [f.callSeq, f.where]),
      [
        [callSeq('env'), 'tool_call'],
        [callSeq('clone'), 'tool_result'],
      ],
      'one finding per attempt, none recorded again by the rescan before grading',
    );
    const grade = events.find((e) => e.type === 'grade');
    assert.equal(grade?.type === 'grade' && grade.flagged, true);
    assert.match(r2.stderr, /⚠ Flagged for review: the blacklist monitor recorded 2 finding\(s\)/);
  });
});
