/** Progress view (runs in the webview): renders pushed state; the timeline pages rows on demand. */
import {
  type FromProgress,
  MESSAGE_MAX,
  type ProgressState,
  toProgressSchema,
} from '../src/protocol/progress';
import { activity, budget, edits, header, jobs, plan, rubric, type Send } from './progress/sections';
import { progressCss } from './progress/styles';
import { Timeline } from './progress/timeline';
import { installCodicons } from './shared/codicons';
import { getState, h, onMessage, post, setState } from './shared/vscode';

const send = (msg: FromProgress) => post(msg);

const style = document.createElement('style');
style.textContent = progressCss;
document.head.append(style);

const app = document.getElementById('app') as HTMLElement;
installCodicons(app);
let state: ProgressState | null = null;

const timeline = new Timeline({
  requestRange: (start, end) => send({ type: 'timeline/range', start, end }),
  requestDetail: (index) => send({ type: 'timeline/detail', index }),
  // Fragments have nothing to scroll to in a message; web links go to the host, which checks them again.
  openLink: (href) => {
    if (!href.startsWith('#')) send({ type: 'link/open', url: href });
  },
});

type GroupId = 'budget' | 'plan' | 'jobs' | 'edits' | 'rubric' | 'timeline';
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
// No live region: a countdown read out every second would drown everything else.
const activityBox = h('div', { id: 'activity', class: 'activity' });
const groups = {
  budget: group('budget', 'Budget'),
  plan: group('plan', 'Plan'),
  jobs: group('jobs', 'Jobs'),
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
app.append(headerBox, activityBox, sayBox, empty, ...Object.values(groups).map((g) => g.root));

const sendAction: Send = (msg) => send(msg);

function render(keys: Set<keyof ProgressState>): void {
  const s = state;
  if (!s) return;
  const has = s.session !== null || s.timelineTotal > 0;
  empty.hidden = has;
  for (const g of Object.values(groups)) g.root.hidden = !has;
  // Jobs only once the agent has started one.
  groups.jobs.root.hidden = !has || s.jobs.length === 0;
  const any = (...ks: (keyof ProgressState)[]) => ks.some((k) => keys.has(k));
  if (any('session', 'status', 'statusReason', 'stage', 'step', 'window', 'lastError'))
    headerBox.replaceChildren(header(s, sendAction));
  if (any('session', 'status'))
    sayBox.hidden = !s.session || !['starting', 'running', 'paused'].includes(s.status);
  if (any('budget', 'usage', 'network')) renderBudget();
  if (any('retry', 'grading')) renderActivity();
  if (any('plan')) {
    groups.plan.body.replaceChildren(plan(s));
    const done = s.plan.filter((p) => p.status === 'done').length;
    groups.plan.count.textContent = s.plan.length ? `${done}/${s.plan.length}` : '';
  }
  if (any('jobs')) renderJobs();
  if (any('proposals')) {
    groups.edits.body.replaceChildren(edits(s, sendAction));
    const pending = s.proposals.filter((p) => p.status === 'pending').length;
    groups.edits.count.textContent = pending ? `${pending} pending` : '';
  }
  if (any('rubric', 'grade', 'endChecks')) {
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

function renderActivity(): void {
  if (state) activityBox.replaceChildren(...activity(state, Date.now()));
}

function renderJobs(): void {
  const s = state;
  if (!s) return;
  groups.jobs.body.replaceChildren(jobs(s, sendAction, Date.now()));
  const running = s.jobs.filter((j) => j.state === 'running').length;
  groups.jobs.count.textContent = s.jobs.length ? `${running} running` : '';
}

// Active time, a retry's countdown and jobs' elapsed times tick locally; no message per second.
setInterval(() => {
  if (document.hidden) return;
  if (state?.budget.runningSince != null) renderBudget();
  if (state?.retry && Date.now() < state.retry.until + 2000) renderActivity();
  if (state?.jobs.some((j) => j.state === 'running')) renderJobs();
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
