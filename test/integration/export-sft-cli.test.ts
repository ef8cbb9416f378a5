/**
 * `klong export-sft` on a real session: `klong reproduce` runs the agent against the scripted model
 * server (real HTTP) in a real container (network none), then the export reads its state folder.
 * The exported turns must be what the model was actually sent, plus its last answer.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { groupTurns, rebuildTurns } from '../../src/agent/context/trajectory-split';
import { cliCleanup, cliDockerSkip, reproduceArgs, runCli } from '../support/cli-run';
import { call, tools } from '../support/model-server';

const skip = cliDockerSkip();
const cleanup = cliCleanup();

interface WireMsg {
  role: string;
  content: string | null;
  tool_calls?: { id: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  weight?: number;
}
type Line = {
  messages: WireMsg[];
  metadata: { overlapTurns: number; headMessages: number; session: string };
};

const readLines = (p: string) =>
  readFileSync(p, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

const norm = (m: WireMsg) => ({
  role: m.role,
  content: m.content ?? '',
  ...(m.tool_calls?.length
    ? { calls: m.tool_calls.map((c) => [c.id, c.function.name, c.function.arguments]) }
    : {}),
  ...(m.tool_call_id ? { id: m.tool_call_id } : {}),
});

function rebuild(lines: Line[]): ReturnType<typeof norm>[] {
  return rebuildTurns(
    lines.map((l) => ({
      turns: groupTurns(l.messages.slice(l.metadata.headMessages).map(norm)),
      overlap: l.metadata.overlapTurns,
    })),
  ).flat();
}

describe('klong export-sft (CLI) on a session run by the agent', { skip }, () => {
  test('split with overlap rebuilds what the model saw; --drop-failed-tools removes the failed call', async () => {
    const root = cleanup.temp('klong-sft-cli-');
    const session = cleanup.session('sft');
    const { stateDir, sessionId } = session;
    const hello = 'print("hello", 6 * 7)\n';
    const server = await cleanup.modelServer(
      [
        tools(
          call('update_plan', { items: [{ text: 'write and run hello.py', status: 'doing' }] }, 'c_plan'),
        ),
        tools(call('write_file', { path: 'hello.py', content: hello }, 'c_write')),
        tools(call('bash', { command: 'python3 missing.py' }, 'c_fail')),
        tools(call('bash', { command: `python3 hello.py; seq 1 150` }, 'c_run')),
        tools(call('read_paper', { section: '2' }, 'c_read')),
        tools(call('end_task', { summary: 'hello 42 reproduced' }, 'c_end')),
      ],
      { apiKey: 'sk-test' },
    );
    const run = await runCli([
      ...reproduceArgs(session, server.url),
      '--no-final-run',
      '--approval',
      'auto-accept',
    ]);
    assert.equal(run.code, 0, run.stderr);

    // A limit below the head's size is refused, and the message says how big the head is.
    const out = join(root, 'data.jsonl');
    const tooSmall = await runCli([
      'export-sft',
      sessionId,
      '--state-dir',
      stateDir,
      '--out',
      out,
      '--max-tokens',
      '1024',
    ]);
    assert.equal(tooSmall.code, 1);
    const fixed = Number(/take ~(\d+) tokens/.exec(tooSmall.stderr)?.[1]);
    assert.ok(fixed > 500, tooSmall.stderr);
    assert.ok(!existsSync(out), 'no output after an error');

    // By id in the state folder; room for ~500 tokens of turns, so the six turns need several lines.
    const r = await runCli([
      'export-sft',
      sessionId,
      '--state-dir',
      stateDir,
      '--out',
      out,
      '--max-tokens',
      String(fixed + 500),
      '--overlap',
      '1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = readLines(out);
    assert.match(r.stdout, new RegExp(`Wrote ${lines.length} line\\(s\\) from 1 session`));
    assert.match(r.stderr, new RegExp(`${sessionId}: 6 turns → ${lines.length} line`));
    assert.ok(lines.length >= 2, `expected a split, got ${lines.length} line(s): ${r.stderr}`);
    const last = server.requests[server.requests.length - 1]!;
    for (const l of lines) {
      assert.equal(l.metadata.session, sessionId);
      // Every line starts with the head the model was sent: system prompt, task and paper.
      assert.deepEqual(l.messages.slice(0, 2).map(norm), last.messages.slice(0, 2).map(norm));
    }
    assert.match(lines[0]!.messages[1]!.content!, /Run hello\.py; expect "hello 42"/);
    const rebuilt = rebuild(lines);
    // The model's last request was head + everything before its end_task answer.
    const seen = last.messages.slice(2).map(norm);
    assert.deepEqual(rebuilt.slice(0, seen.length), seen);
    assert.deepEqual(
      rebuilt.slice(seen.length).map((m) => m.calls?.[0]?.[1] ?? m.role),
      ['end_task', 'tool'],
    );
    assert.ok(rebuilt.some((m) => m.id === 'c_fail'));

    // By folder, dropping the failed call: it and its result are gone, the rest is intact.
    const out2 = join(root, 'ok.jsonl');
    const r2 = await runCli([
      'export-sft',
      join(stateDir, sessionId),
      '--out',
      out2,
      '--drop-failed-tools',
      '--max-tokens',
      '100000',
    ]);
    assert.equal(r2.code, 0, r2.stderr);
    assert.match(r2.stderr, /1 failed tool call\(s\) dropped/);
    const kept = readLines(out2);
    assert.equal(kept.length, 1);
    const flat = rebuild(kept);
    assert.ok(!flat.some((m) => m.id === 'c_fail' || m.calls?.some((c) => c[0] === 'c_fail')));
    assert.deepEqual(
      flat.filter((m) => m.calls).map((m) => m.calls![0]![0]),
      ['c_plan', 'c_write', 'c_run', 'c_read', 'c_end'],
    );

    // Bad input: clear messages, non-zero exit.
    const bad = await runCli(['export-sft', 'no-such-session', '--state-dir', stateDir, '--out', out2]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /"no-such-session" is neither a session folder nor a session id/);
    const noDir = await runCli([
      'export-sft',
      sessionId,
      '--state-dir',
      stateDir,
      '--out',
      join(root, 'nope', 'x.jsonl'),
    ]);
    assert.equal(noDir.code, 2);
    assert.match(noDir.stderr, /the folder .*nope for --out does not exist/);
    const noOut = await runCli(['export-sft', sessionId, '--state-dir', stateDir]);
    assert.match(noOut.stderr, /--out FILE is required/);
    const badOverlap = await runCli([
      'export-sft',
      sessionId,
      '--state-dir',
      stateDir,
      '--out',
      out2,
      '--overlap',
      'two',
    ]);
    assert.match(badOverlap.stderr, /--overlap must be a whole number ≥ 0/);
  });
});
