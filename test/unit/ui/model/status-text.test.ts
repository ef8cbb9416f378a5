/** The one status bar item: text, background colour and menu for each session state. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentEvent, AgentEventBody } from '../../../../src/events/events';
import { SessionModel } from '../../../../src/ui/model/session-model';
import { type EditsState, statusMenu, statusText, statusTone } from '../../../../src/ui/model/status-text';

const T0 = Date.UTC(2026, 0, 1, 9);
const start: AgentEventBody = {
  type: 'session_started',
  sessionId: 's',
  paperTitle: 'P',
  paperPath: '/p.pdf',
  workspace: '/w',
  model: 'm',
  budgetMs: 3600_000,
};
const proposed = (path: string): AgentEventBody => ({
  type: 'edit_proposed',
  step: 1,
  proposal: { path, kind: 'add', additions: 1, deletions: 0 },
});

function state(...bodies: AgentEventBody[]) {
  const m = new SessionModel();
  m.applyAll([start, ...bodies].map((b, i) => ({ ...b, seq: i, ts: T0 + i * 1000 }) as AgentEvent));
  return m.snapshot;
}
const edits = (o: Partial<EditsState> = {}): EditsState => ({
  active: true,
  mode: 'review',
  pending: 0,
  waiting: false,
  ...o,
});

test('normal states have no background; waiting for the user is a warning, a failure an error', () => {
  const cases: [string, ReturnType<typeof state>, EditsState | undefined, string | undefined][] = [
    ['running', state({ type: 'status', status: 'running' }), edits(), undefined],
    [
      'running with pending edits',
      state({ type: 'status', status: 'running' }),
      edits({ pending: 3 }),
      undefined,
    ],
    ['paused by the user', state({ type: 'status', status: 'paused' }), edits(), undefined],
    ['done', state({ type: 'status', status: 'done' }), undefined, undefined],
    ['stopped', state({ type: 'status', status: 'stopped' }), undefined, undefined],
    [
      'paused by the spend cap',
      state({ type: 'status', status: 'paused', reason: 'spend cap $5.00 reached' }),
      edits(),
      'warning',
    ],
    [
      'ask-each waits for a decision',
      state({ type: 'status', status: 'running' }),
      edits({ mode: 'ask-each', pending: 1, waiting: true }),
      'warning',
    ],
    ['failed', state({ type: 'status', status: 'failed', reason: 'docker went away' }), edits(), 'error'],
  ];
  for (const [name, s, e, tone] of cases) assert.equal(statusTone(s, e), tone, name);
});

test('the pending-edit count shows once, with codicons, and the queue’s count wins when attached', () => {
  const s = state({ type: 'status', status: 'running' }, proposed('a.py'), proposed('b.py'));
  const alone = statusText(s, T0 + 60_000).text;
  assert.equal(alone.match(/\$\(diff\) 2/g)?.length, 1, alone);
  const withQueue = statusText(s, T0 + 60_000, edits({ pending: 1 })).text;
  assert.equal(withQueue.match(/\$\(diff\)/g)?.length, 1, withQueue);
  assert.match(withQueue, /\$\(diff\) 1/);
  assert.match(withQueue, /^\$\(sync~spin\) KLong: running/);
  // Only codicons: no Unicode pictographs in the text.
  assert.doesNotMatch(withQueue, /[\u2190-\u2BFF\u{1F300}-\u{1FAFF}]/u);
  const waiting = statusText(s, T0, edits({ mode: 'ask-each', pending: 2, waiting: true }));
  assert.match(waiting.text, /waiting for you/);
  assert.match(waiting.tooltip, /Edits: Ask each/);
  assert.doesNotMatch(statusText(state({ type: 'status', status: 'done' }), T0).text, /\$\(diff\)/);
});

test('the menu offers what the state allows', () => {
  const commands = (s: ReturnType<typeof state>, e?: EditsState) => statusMenu(s, e).map((a) => a.command);
  const running = commands(
    state({ type: 'status', status: 'running' }, proposed('a.py')),
    edits({ pending: 1 }),
  );
  for (const c of [
    'klong.progress.focus',
    'klong.showProposals',
    'klong.pauseSession',
    'klong.stopSession',
    'klong.messageAgent',
    'klong.setApprovalMode',
    'klong.openSandboxTerminal',
    'klong.browseSandbox',
  ])
    assert.ok(running.includes(c), `running: ${c} missing`);
  assert.ok(!running.includes('klong.resumeSession'));
  const paused = commands(state({ type: 'status', status: 'paused' }), edits());
  assert.ok(paused.includes('klong.resumeSession') && !paused.includes('klong.pauseSession'));
  assert.ok(!paused.includes('klong.showProposals'), 'no proposals, no entry for them');
  const done = commands(state({ type: 'status', status: 'done' }));
  for (const c of ['klong.pauseSession', 'klong.resumeSession', 'klong.stopSession', 'klong.messageAgent'])
    assert.ok(!done.includes(c), `done: ${c} offered`);
  assert.ok(done.includes('klong.progress.focus'));
});
