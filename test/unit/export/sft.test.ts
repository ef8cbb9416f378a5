import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { groupTurns, rebuildTurns, splitTrajectory } from '../../../src/agent/context/trajectory-split';
import { exportSft, type SftLineMeta } from '../../../src/export/sft';
import { estimateTokens } from '../../../src/llm/tokens';
import { createSession } from '../../../src/session';
import { wire, writeSyntheticSession } from '../../support/sft-session';

const base = mkdtempSync(join(tmpdir(), 'klong-sft-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const newDir = () => join(base, `s${n++}`);

interface WireMsg {
  role: string;
  content: string | null;
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
  weight?: number;
}
interface Line {
  messages: WireMsg[];
  tools: { type: string; function: { name: string } }[];
  metadata: SftLineMeta;
}

function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** Tokens of a line counted from its own text, the way the context manager counts a request. */
function recount(l: Line): number {
  let t = estimateTokens(JSON.stringify(l.tools.map((x) => x.function)));
  for (const m of l.messages) {
    t += 4 + estimateTokens(m.content ?? '');
    for (const c of m.tool_calls ?? [])
      t += 4 + estimateTokens(c.function.name) + estimateTokens(c.function.arguments);
  }
  return t;
}

const strip = (m: WireMsg) => {
  const { weight: _, ...rest } = m;
  return rest;
};

test('export-sft: pieces keep the head, overlap K turns, stay under max tokens, and rebuild the trajectory', () => {
  const dir = newDir();
  const s = writeSyntheticSession(dir, { steps: 80, outputChars: 500, score: 0.75 });
  const out = join(base, 'round.jsonl');
  const maxTokens = 5000; // the head and the tool specs take about 3,000 of it
  const r = exportSft([dir], out, { maxTokens, overlapTurns: 2 });
  const lines = readLines(out);
  assert.equal(lines.length, r.lines);
  assert.ok(lines.length >= 6, `only ${lines.length} pieces; the test wants a long split`);
  const head = JSON.stringify(wire(s.head));
  const expected = groupTurns(wire(s.conversation));
  for (const [i, l] of lines.entries()) {
    const m = l.metadata;
    assert.equal(m.piece, i);
    assert.equal(m.pieces, lines.length);
    assert.equal(m.session, 'sft-test');
    assert.equal(m.score, 0.75);
    assert.equal(m.headMessages, 2);
    // The pinned head: system prompt, task and paper, byte for byte.
    assert.equal(JSON.stringify(l.messages.slice(0, 2)), head);
    assert.match(l.messages[1]!.content!, /# Paper: Tiny Paper/);
    assert.ok(recount(l) <= maxTokens, `piece ${i} has ${recount(l)} tokens > ${maxTokens}`);
    assert.equal(l.tools.length > 0 && l.tools[0]!.type, 'function');
    if (i > 0) {
      assert.equal(m.overlapTurns, 2, `piece ${i} repeats the last 2 turns`);
      assert.equal(m.turns[0], lines[i - 1]!.metadata.turns[1] - 2);
    }
    // Only the repeated turns' assistant messages are masked (weight 0).
    const turns = groupTurns(l.messages.slice(2));
    for (const [t, turn] of turns.entries()) {
      for (const msg of turn) {
        if (msg.role !== 'assistant') assert.equal(msg.weight, undefined);
        else assert.equal(msg.weight, t < m.overlapTurns ? 0 : undefined);
      }
    }
  }
  // Round trip: the turns of all pieces, overlaps removed, are the original conversation.
  const rebuilt = rebuildTurns(
    lines.map((l) => ({
      turns: groupTurns(l.messages.slice(2).map(strip)),
      overlap: l.metadata.overlapTurns,
    })),
  );
  assert.deepEqual(rebuilt, expected);
  // Inference-time splits and window summaries are not in the trajectory.
  const all = readFileSync(out, 'utf8');
  assert.doesNotMatch(all, /WINDOW-SUMMARY-7f3|PROGRESS-NOTE-7f3/);
  assert.equal(r.sessions[0]!.turns, expected.length);
});

test('export-sft --drop-failed-tools: failed calls and their results are gone, every call keeps its result', () => {
  const dir = newDir();
  const s = writeSyntheticSession(dir, { steps: 40 });
  const out = join(base, 'drop.jsonl');
  const r = exportSft([dir], out, { maxTokens: 4000, overlapTurns: 1, dropFailedTools: true });
  assert.equal(r.sessions[0]!.droppedCalls, s.failedCalls);
  assert.ok(s.failedCalls >= 5);
  const lines = readLines(out);
  const text = readFileSync(out, 'utf8');
  assert.doesNotMatch(text, /Error: exit 1/);
  for (const l of lines) {
    const called = new Set<string>();
    for (const m of l.messages) {
      for (const c of m.tool_calls ?? []) called.add(c.id);
      if (m.role === 'tool') {
        assert.ok(called.has(m.tool_call_id!), `result ${m.tool_call_id} without its call`);
        called.delete(m.tool_call_id!);
      }
    }
    assert.equal(called.size, 0, `calls without results: ${[...called].join(', ')}`);
  }
  const rebuilt = rebuildTurns(
    lines.map((l) => ({
      turns: groupTurns(l.messages.slice(2).map(strip)),
      overlap: l.metadata.overlapTurns,
    })),
  );
  assert.deepEqual(rebuilt, groupTurns(wire(s.withoutFailed)));
  // Without the option the failures are kept.
  exportSft([dir], out, { maxTokens: 3000, overlapTurns: 1 });
  assert.match(readFileSync(out, 'utf8'), /Error: exit 1/);
});

test('several sessions go to one file, each split on its own', () => {
  const a = newDir();
  const b = newDir();
  writeSyntheticSession(a, { steps: 10, sessionId: 'alpha' });
  writeSyntheticSession(b, { steps: 12, sessionId: 'beta', score: 0.5 });
  const out = join(base, 'two.jsonl');
  const r = exportSft([a, b], out, { maxTokens: 100_000, overlapTurns: 3 });
  const lines = readLines(out);
  assert.deepEqual(
    lines.map((l) => [l.metadata.session, l.metadata.piece, l.metadata.score]),
    [
      ['alpha', 0, null],
      ['beta', 0, 0.5],
    ],
  );
  assert.equal(r.sessions.length, 2);
});

test('a turn too long to fit alone is cut (head + tail) to fit; a head over the limit is a clear error', () => {
  const head = [
    { role: 'system' as const, content: 'You are an agent.' },
    { role: 'user' as const, content: 'Task: reproduce.' },
  ];
  const counter = { count: estimateTokens };
  const big = Array.from({ length: 5000 }, (_, i) => `line ${i} of a long training log`).join('\n');
  const body = [
    { role: 'assistant' as const, content: null, toolCalls: [{ id: 'a', name: 'bash', arguments: '{}' }] },
    { role: 'tool' as const, toolCallId: 'a', content: big },
    { role: 'assistant' as const, content: 'done' },
  ];
  const r = splitTrajectory(head, body, { maxTokens: 2000, overlapTurns: 1, counter });
  assert.equal(r.shrunk, 1);
  assert.ok(r.pieces.every((p) => p.tokens <= 2000));
  const cut = r.turns[0]![1]!.content!;
  assert.match(cut, /^line 0 of/);
  assert.match(cut, /line 4999 of a long training log$/);
  assert.match(cut, /omitted from the middle/);
  assert.throws(
    () =>
      splitTrajectory([{ role: 'user', content: 'paper '.repeat(3000) }], body, {
        maxTokens: 2000,
        overlapTurns: 1,
        counter,
      }),
    /pinned head .* raise --max-tokens to at least \d+/,
  );
});

test('a session without a snapshot of its head is refused with a clear message; the output is not created', () => {
  const dir = newDir();
  const live = createSession(dir, {
    sessionId: 'nohead',
    paperTitle: 'P',
    paperPath: '/p',
    workspace: '/w',
    model: 'm',
    budgetMs: 1,
  });
  live.close();
  const out = join(base, 'none.jsonl');
  assert.throws(
    () => exportSft([dir], out, { maxTokens: 8000, overlapTurns: 2 }),
    /no snapshot with its pinned head/,
  );
  assert.throws(() => readFileSync(out), /ENOENT/);
});
