/**
 * A window that follows a long session starts from the model checkpoint a window wrote earlier
 * (ui/model/model-checkpoint.ts) and folds only the events after it. What it shows must be what a
 * fold of the whole log shows: totals, pending proposals, jobs, grades, early-end checks, the steps
 * for rewind, and every timeline row (older ones read from the log) with its detail.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ControlHandlers, ControlServer } from '../../../../src/engine/control';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import { EventLog } from '../../../../src/session';
import { EngineLink } from '../../../../src/ui/model/engine-link';
import {
  foldLog,
  logSource,
  MODEL_CHECKPOINT_FILE,
  readModelCheckpoint,
  writeModelCheckpoint,
} from '../../../../src/ui/model/model-checkpoint';
import { SessionModel } from '../../../../src/ui/model/session-model';
import { entryFor, startsRow } from '../../../../src/ui/model/timeline-entries';

const start: AgentEventBody = {
  type: 'session_started',
  sessionId: 's1',
  paperTitle: 'P',
  paperPath: '/p.pdf',
  workspace: '/w',
  model: 'm',
  budgetMs: 3600_000,
};

/** One agent step: a request, a response with usage, a tool call and (unless `open`) its result. */
function step(i: number, open = false): AgentEventBody[] {
  return [
    { type: 'model_request', step: i, window: i > 80 ? 1 : 0, promptTokens: 1000 + i, messages: 4 },
    {
      type: 'model_response',
      step: i,
      message: { role: 'assistant', content: `step ${i}`, toolCalls: [] },
      usage: { promptTokens: 1000 + i, cachedTokens: i, completionTokens: 10, estimated: false },
      costUsd: 0.001,
    },
    { type: 'tool_call', step: i, callId: `c${i}`, name: 'bash', args: `{"command":"echo ${i}"}` },
    ...(open
      ? []
      : [
          {
            type: 'tool_result',
            step: i,
            callId: `c${i}`,
            name: 'bash',
            ok: i % 7 !== 0,
            output: `out ${i}`,
            durationMs: 10 * i,
          } as AgentEventBody,
        ]),
  ];
}

/**
 * A long session with everything the view shows: proposals (decided, withdrawn, one left pending),
 * jobs, a plan, a window split, a rewind, a crash and resume, early-end checks, the final run and
 * the grade. More than 256 rows, so that the older rows span several chunks.
 */
function session(steps = 300): AgentEventBody[] {
  const out: AgentEventBody[] = [
    start,
    { type: 'status', status: 'running' },
    { type: 'stage', stage: 'reproduce' },
  ];
  for (let i = 1; i <= steps; i++) {
    out.push(...step(i));
    if (i % 3 === 0) out.push({ type: 'checkpoint', step: i, commit: `abcdef${i}` });
    if (i === 50) out.push({ type: 'reminder', step: i, text: 'half the time is gone', activeMs: 1_800_000 });
    if (i === 55)
      out.push({
        type: 'blacklist_finding',
        step: i,
        where: 'tool_call',
        tool: 'bash',
        repo: 'x/y',
        source: 'paper',
        found: 'git clone x/y',
        how: 'command',
        command: 'git clone x/y',
      });
    if (i === 5)
      out.push({
        type: 'plan',
        items: [
          { text: 'train', status: 'doing' },
          { text: 'eval', status: 'todo' },
        ],
      });
    if (i === 10)
      out.push({
        type: 'edit_proposed',
        step: i,
        proposal: { path: 'a.py', kind: 'add', additions: 3, deletions: 0 },
      });
    if (i === 12) out.push({ type: 'edit_decided', path: 'a.py', decision: 'accepted' });
    if (i === 20)
      out.push({
        type: 'edit_proposed',
        step: i,
        proposal: { path: 'b.py', kind: 'modify', additions: 1, deletions: 1 },
      });
    if (i === 21) out.push({ type: 'edit_withdrawn', step: i, path: 'b.py' });
    if (i === 30)
      out.push({ type: 'job_started', step: i, jobId: 'j1', name: 'train', command: 'python train.py' });
    if (i === 60)
      out.push({ type: 'job_ended', jobId: 'j1', state: 'exited', exitCode: 0, durationMs: 5, tail: 'ok' });
    if (i === 70)
      out.push({ type: 'job_started', step: i, jobId: 'j2', name: 'eval', command: 'python eval.py' });
    if (i === 80) out.push({ type: 'split', step: i, window: 1, note: 'progress so far', keptMessages: 12 });
    if (i === 90) out.push({ type: 'rewind', toStep: 85, mode: 'both', fromStep: 90 });
    if (i === 100) {
      // A crash: the engine died without an end; the resume starts with a new status.
      out.push({ type: 'status', status: 'running' });
      out.push({ type: 'sandbox_recreated', step: i, restored: true, message: 'container rebuilt' });
      out.push({ type: 'user_message', text: 'keep going' });
    }
    if (i === 110)
      out.push({
        type: 'edit_proposed',
        step: i,
        proposal: { path: 'c.py', kind: 'add', additions: 9, deletions: 0 },
      });
    if (i === 120 || i === 140)
      out.push({
        type: 'early_end_check',
        step: i,
        callId: `c${i}`,
        check: i === 120 ? 1 : 2,
        limit: 3,
        budgetUsed: 0.5,
        score: i / 200,
        target: 0.7,
        refused: i === 120,
        leaves: 4,
        unmet: 2,
        invalid: 0,
        judged: 4,
        tops: [{ id: 't', requirements: 'train it', weight: 1, score: 0.5 }],
        durationMs: 100,
      });
    if (i === 125) out.push({ type: 'rewind', toStep: 122, mode: 'conversation', fromStep: 125 });
  }
  out.push(
    { type: 'final_run_started', timeoutMs: 1000 },
    { type: 'final_run', ran: true, exitCode: 0, timedOut: false, durationMs: 50, logFile: 'final-run.log' },
    { type: 'grade_leaf', leafId: 'l1', score: 1, valid: true, cached: false, done: 1, total: 2 },
    { type: 'grade_leaf', leafId: 'l2', score: 0, valid: true, cached: false, done: 2, total: 2 },
    { type: 'grade', score: 0.5 },
    { type: 'end', reason: 'end_task', summary: 'reproduced' },
  );
  return out;
}

function writeLog(
  bodies: AgentEventBody[],
  t0 = Date.UTC(2026, 0, 1),
): { dir: string; events: AgentEvent[] } {
  const dir = mkdtempSync(join(tmpdir(), 'klong-model-cp-'));
  let t = t0;
  const log = EventLog.open(dir, {
    mode: 'write',
    durability: 'none',
    create: { sessionId: 's1' },
    now: () => (t += 1000),
  });
  const events = bodies.map((b) => log.append(b));
  log.close();
  return { dir, events };
}

function full(events: AgentEvent[]): SessionModel {
  const m = new SessionModel();
  m.applyAll(events);
  return m;
}

/** Folds events[0..=cut], writes its checkpoint to the file, and starts a new model from the file. */
function restoredAt(dir: string, events: AgentEvent[], cut: number): SessionModel {
  const writer = full(events.slice(0, cut + 1));
  const core = writer.checkpoint();
  assert.ok(core);
  // A window keeps the checkpoint of a step's end while it folds the next step: it must not change.
  writer.applyAll(events.slice(cut + 1));
  assert.ok(writeModelCheckpoint(dir, core), 'the checkpoint was written');
  const log = EventLog.open(dir);
  const read = readModelCheckpoint(dir, log);
  log.close();
  assert.ok(read, 'the checkpoint is accepted for its log');
  const m = new SessionModel();
  m.restore(read, logSource(dir));
  return m;
}

async function assertSame(got: SessionModel, want: SessionModel, what: string): Promise<void> {
  assert.deepEqual(got.snapshot, want.snapshot, `${what}: state`);
  assert.equal(got.timelineLength, want.timelineLength, `${what}: rows`);
  assert.deepEqual(
    got.timeline(0, got.timelineLength),
    want.timeline(0, want.timelineLength),
    `${what}: rows`,
  );
  assert.deepEqual(got.steps(), want.steps(), `${what}: steps for rewind`);
  assert.deepEqual(got.liveSteps(), want.liveSteps(), `${what}: live steps`);
  const rows = want.timeline(0, want.timelineLength);
  for (const i of [1, 5, 20, 300, want.timelineLength - 3].filter((k) => rows[k]?.hasDetail)) {
    assert.deepEqual(await got.detail(i), await want.detail(i), `${what}: detail of row ${i}`);
  }
}

test('a model started from a checkpoint equals a fold of the whole log (cuts before, inside and after the rewinds, split, crash)', async () => {
  const { dir, events } = writeLog(session());
  try {
    const want = full(events);
    const s = want.snapshot;
    // The log has what the test claims: pending and decided proposals, jobs, checks, an abandoned branch.
    assert.deepEqual(
      s.proposals.map((p) => [p.path, p.status]),
      [
        ['a.py', 'accepted'],
        ['c.py', 'pending'],
      ],
    );
    assert.deepEqual(
      s.jobs.map((j) => [j.id, j.state]),
      [
        ['j1', 'exited'],
        ['j2', 'running'],
      ],
    );
    assert.equal(s.endChecks.length, 2);
    assert.equal(s.grade, 0.5);
    assert.equal(s.window, 1);
    assert.ok(want.steps().some((x) => x.abandoned));
    assert.ok(want.timelineLength > 600, `${want.timelineLength} rows`);
    const at = (pred: (e: AgentEvent) => boolean) => events.findIndex(pred);
    const cuts = [
      1,
      at((e) => e.type === 'tool_call' && e.step === 40), // a call open at the cut
      at((e) => e.type === 'rewind') - 1, // just before a rewind (rows after it change)
      at((e) => e.type === 'split'),
      at((e) => e.type === 'user_message'), // after the crash and resume
      at((e) => e.type === 'final_run_started'), // the final run open at the cut
      events.length - 2,
      events.length - 1, // nothing after it
    ];
    for (const cut of cuts) {
      assert.ok(cut > 0);
      const got = restoredAt(dir, events, cut);
      got.applyAll(events.slice(cut + 1));
      await assertSame(got, want, `cut after seq ${cut} (${events[cut]!.type})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('windows one after the other, each from the checkpoint the one before left, while the session goes on', async () => {
  const { dir, events } = writeLog(session());
  try {
    const want = full(events);
    const cuts = [200, 700, 1100, events.length - 1];
    let model = full(events.slice(0, cuts[0]! + 1));
    for (const [k, cut] of cuts.entries()) {
      const core = model.checkpoint()!;
      const next = cuts[k + 1];
      if (next !== undefined) model.applyAll(events.slice(cut + 1, next + 1)); // this window goes on
      assert.ok(writeModelCheckpoint(dir, core));
      const log = EventLog.open(dir);
      const read = readModelCheckpoint(dir, log)!;
      log.close();
      const restored = new SessionModel();
      restored.restore(read, logSource(dir));
      restored.applyAll(events.slice(cut + 1));
      await assertSame(restored, want, `window ${k + 1}`);
      if (next !== undefined) {
        // The next window is this one restored, up to where the session got meanwhile.
        model = new SessionModel();
        model.restore(read, logSource(dir));
        model.applyAll(events.slice(cut + 1, next + 1));
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('after a fast start the newest rows are in memory and the older ones are read from the log on demand', () => {
  const { dir, events } = writeLog(session());
  try {
    const want = full(events);
    const got = restoredAt(dir, events, events.length - 20);
    got.applyAll(events.slice(events.length - 19));
    const n = want.timelineLength;
    // The view asks for windows anywhere in the timeline: the oldest, the middle, the newest.
    for (const [a, b] of [
      [0, 10],
      [250, 262],
      [n - 30, n],
    ] as const) {
      assert.deepEqual(got.timeline(a, b), want.timeline(a, b), `rows ${a}..${b}`);
    }
    assert.equal(got.timeline(0, 1)[0]!.title, 'Session started: P (m)');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a first follow skims the older events (rows counted, not made) and shows the same session', async () => {
  const { dir, events } = writeLog(session());
  try {
    const want = full(events);
    for (const cut of [1, 300, events.findIndex((e) => e.type === 'user_message'), events.length - 1]) {
      const got = new SessionModel();
      got.skim(events.slice(0, cut + 1), logSource(dir));
      got.applyAll(events.slice(cut + 1));
      await assertSame(got, want, `skimmed up to seq ${cut}`);
      // And its checkpoint restores the same model.
      const again = new SessionModel();
      again.restore(got.checkpoint()!, logSource(dir));
      await assertSame(again, want, `checkpoint of a skimmed model (${cut})`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Sessions › Open and a follow fold a long log the fast way: from a checkpoint, else the older events skimmed', async () => {
  const { dir, events } = writeLog(session(700));
  try {
    assert.ok(events.length > 2500, 'longer than the events whose rows are made at once');
    const want = full(events);
    const used: string[] = [];
    const spied = () => {
      const m = new SessionModel();
      const { skim, restore } = { skim: m.skim.bind(m), restore: m.restore.bind(m) };
      m.skim = (ev, src) => {
        used.push('skim');
        skim(ev, src);
      };
      m.restore = (core, src) => {
        used.push(`restore ${core.seq}`);
        restore(core, src);
      };
      return m;
    };
    const skimmed = spied();
    const log = EventLog.open(dir);
    foldLog(skimmed, log);
    await assertSame(skimmed, want, 'no checkpoint');
    assert.ok(writeModelCheckpoint(dir, full(events.slice(0, 1000)).checkpoint()!));
    const restored = spied();
    foldLog(restored, log);
    await assertSame(restored, want, 'from a checkpoint');
    assert.deepEqual(used, ['skim', 'restore 999']);
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startsRow() tells which events make a row exactly as entryFor() does', () => {
  const bodies = [...session(), { type: 'some_future_event' } as unknown as AgentEventBody];
  for (const [seq, b] of bodies.entries()) {
    const e = { ...b, seq, ts: seq } as AgentEvent;
    assert.equal(startsRow(e), entryFor(e) !== undefined, e.type);
  }
});

test('a checkpoint that is not true of the log is not used: another log, a log behind it, a torn file', () => {
  const { dir, events } = writeLog(session());
  const other = writeLog(session().slice(0, 50), Date.UTC(2026, 0, 2));
  try {
    const core = full(events).checkpoint()!;
    const log = (d: string) => EventLog.open(d);
    // Ahead of the log: not written (the log does not hold its last event).
    assert.equal(writeModelCheckpoint(other.dir, core), false);
    // Written for one log, found beside another (created at another time).
    assert.ok(writeModelCheckpoint(dir, full(events.slice(0, 40)).checkpoint()!));
    writeFileSync(
      join(other.dir, MODEL_CHECKPOINT_FILE),
      readFileSync(join(dir, MODEL_CHECKPOINT_FILE), 'utf8'),
    );
    const l1 = log(other.dir);
    assert.equal(readModelCheckpoint(other.dir, l1), undefined, 'another log');
    l1.close();
    writeFileSync(join(dir, MODEL_CHECKPOINT_FILE), '{"klong":"view-model",');
    const l2 = log(dir);
    assert.equal(readModelCheckpoint(dir, l2), undefined, 'a torn file');
    l2.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(other.dir, { recursive: true, force: true });
  }
});

/** An engine serving the session in `dir` from its log (status and `events`), as engine/control.ts does. */
async function serve(dir: string): Promise<{ close(): Promise<void> }> {
  const log = EventLog.open(dir);
  const handlers: ControlHandlers = {
    status: () => ({
      sessionId: 's1',
      pid: process.pid,
      state: 'running',
      step: 0,
      activeMs: 0,
      budgetMs: 1,
      queuedMessages: 0,
    }),
    pause: () => undefined,
    resume: () => undefined,
    stop: () => undefined,
    say: () => undefined,
    events: (from: number) => {
      log.refresh();
      return log.read(from);
    },
  };
  const server = await ControlServer.listen(dir, handlers);
  return {
    close: async () => {
      await server.close();
      log.close();
    },
  };
}

test('a window that follows an engine writes the checkpoint; the next one starts there and shows the same session', async () => {
  const bodies = session();
  const cut = bodies.findIndex((b) => b.type === 'user_message');
  const { dir, events } = writeLog(bodies.slice(0, cut));
  const engine = await serve(dir);
  try {
    const first = new SessionModel();
    const link1 = await EngineLink.follow(dir, first);
    assert.ok(link1);
    link1.dispose();
    const saved = JSON.parse(readFileSync(join(dir, MODEL_CHECKPOINT_FILE), 'utf8')) as {
      core: { seq: number };
    };
    assert.equal(
      saved.core.seq,
      events.length - 1,
      'the first window left a checkpoint at the end of the log',
    );

    // The engine goes on (the rest of the session reaches the log), a window follows again.
    let t = events.at(-1)!.ts;
    const log = EventLog.open(dir, { mode: 'write', durability: 'none', now: () => (t += 1000) });
    const rest = bodies.slice(cut).map((b) => log.append(b));
    log.close();
    const second = new SessionModel();
    const link2 = await EngineLink.follow(dir, second);
    assert.ok(link2);
    link2.dispose();
    await assertSame(second, full([...events, ...rest]), 'followed from the checkpoint');
  } finally {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
