/** Progress view (runs in the webview): renders pushed state; the timeline pages rows on demand. */
import {
  type FromProgress,
  MESSAGE_MAX,
  type ProgressState,
  toProgressSchema,
} from '../src/protocol/progress';
import { budget, edits, header, plan, rubric, type Send } from './progress/sections';
import { progressCss } from './progress/styles';
import { Timeline } from './progress/timeline';
import { getState, h, onMessage, post, setState } from './shared/vscode';

const send = (msg: FromProgress) => post(msg);

const style = document.createElement('style');
style.textContent = progressCss;
document.head.append(style);

const app = document.getElementById('app') as HTMLElement;
let state: ProgressState | null = null;

const timeline = new Timeline({
  requestRange: (start, end) => send({ type: 'timeline/range', start, end }),
  requestDetail: (index) => send({ type: 'timeline/detail', index }),
});

type GroupId = 'budget' | 'plan' | 'edits' | 'rubric' | 'timeline';
const saved = getState<{ closed: GroupId[] }>();
const closed = new Set<GroupId>(saved.closed ?? []);

function group(
  id: GroupId,
  title: string,
): { root: HTMLDetailsElement; body: HTMLElement; count: HTMLElement } {
  const count = h('span', { class: 'count muted' });
  const body = h('div', { class: 'group-body', id: `${id}-body` });
  const root = h(
    'details',
    { class: 'group', id: `group-${id}`, open: !closed.has(id) },
    h('summary', {}, h('h2', { text: title }), count),
    body,
  );
  root.addEventListener('toggle', () => {
    if (root.open) closed.delete(id);
    else closed.add(id);
    setState({ closed: [...closed] });
  });
  return { root, body, count };
}

const headerBox = h('div', { id: 'header' });
const groups = {
  budget: group('budget', 'Budget'),
  plan: group('plan', 'Plan'),
  edits: group('edits', 'Proposed edits'),
  rubric: group('rubric', 'Rubric'),
  timeline: group('timeline', 'Timeline'),
};
groups.timeline.body.append(timeline.element);
const empty = h('p', {
  class: 'empty muted',
  text: 'No session yet. Run "KLong: Reproduce this paper" on a PDF to start one.',
});
// Built once (not re-rendered with the header) so that what the user types survives state pushes.
const sayInput = h('textarea', {
  id: 'say-text',
  rows: 2,
  maxLength: MESSAGE_MAX,
  placeholder: 'Message the agent (read at its next step)…',
  'aria-label': 'Message the agent',
}) as HTMLTextAreaElement;
const sayButton = h('button', { id: 'say-send', class: 'secondary', text: 'Send' }) as HTMLButtonElement;
const sayBox = h('div', { id: 'say', class: 'say' }, sayInput, sayButton);
const sendSay = () => {
  const text = sayInput.value.trim();
  if (!text) return;
  send({ type: 'say', text });
  sayInput.value = '';
};
sayButton.addEventListener('click', sendSay);
sayInput.addEventListener('keydown', (e) => {
  if (e.key === 'Enter' && !e.shiftKey) {
    e.preventDefault();
    sendSay();
  }
});
sayBox.hidden = true;
app.append(headerBox, sayBox, empty, ...Object.values(groups).map((g) => g.root));

const sendAction: Send = (msg) => send(msg);

function render(keys: Set<keyof ProgressState>): void {
  const s = state;
  if (!s) return;
  const has = s.session !== null || s.timelineTotal > 0;
  empty.hidden = has;
  for (const g of Object.values(groups)) g.root.hidden = !has;
  const any = (...ks: (keyof ProgressState)[]) => ks.some((k) => keys.has(k));
  if (any('session', 'status', 'statusReason', 'stage', 'step', 'window', 'lastError'))
    headerBox.replaceChildren(header(s, sendAction));
  if (any('session', 'status'))
    sayBox.hidden = !s.session || !['starting', 'running', 'paused'].includes(s.status);
  if (any('budget', 'usage', 'network')) renderBudget();
  if (any('plan')) {
    groups.plan.body.replaceChildren(plan(s));
    const done = s.plan.filter((p) => p.status === 'done').length;
    groups.plan.count.textContent = s.plan.length ? `${done}/${s.plan.length}` : '';
  }
  if (any('proposals')) {
    groups.edits.body.replaceChildren(edits(s, sendAction));
    const pending = s.proposals.filter((p) => p.status === 'pending').length;
    groups.edits.count.textContent = pending ? `${pending} pending` : '';
  }
  if (any('rubric', 'grade')) {
    groups.rubric.body.replaceChildren(rubric(s));
    groups.rubric.count.textContent = s.grade !== null ? `${(s.grade * 100).toFixed(1)}%` : '';
  }
  if (any('timelineTotal')) {
    groups.timeline.count.textContent = s.timelineTotal.toLocaleString('en-US');
    timeline.setTotal(s.timelineTotal);
  }
}

function renderBudget(): void {
  if (state) groups.budget.body.replaceChildren(budget(state, Date.now()));
}

// Active time ticks locally while running; no message per second.
setInterval(() => {
  if (state?.budget.runningSince != null && !document.hidden) renderBudget();
}, 1000);

onMessage(toProgressSchema, (msg) => {
  switch (msg.type) {
    case 'state': {
      const keys = new Set(Object.keys(msg.state) as (keyof ProgressState)[]);
      if (msg.full) state = msg.state as ProgressState;
      else if (state) state = { ...state, ...msg.state };
      else return; // a partial update before the first full state: the full one follows
      render(keys);
      return;
    }
    case 'timeline/entries':
      if (state && msg.total !== state.timelineTotal) {
        state = { ...state, timelineTotal: msg.total };
        render(new Set(['timelineTotal']));
      }
      timeline.addEntries(msg.entries);
      return;
    case 'timeline/detail':
      timeline.setDetail(msg.index, msg.sections);
      return;
  }
});

send({ type: 'ready' });
