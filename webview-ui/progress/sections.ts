/** Render functions of the progress view's panels; each returns fresh DOM from the state. */
import type { JobView, ProgressState, ProposalView, RubricView } from '../../src/protocol/progress';
import { icon } from '../shared/codicons';
import { h } from '../shared/vscode';

export type Send = (
  msg:
    | { type: 'proposal'; action: 'open' | 'accept' | 'reject'; path: string }
    | { type: 'session'; action: 'pause' | 'resume' | 'stop' }
    | { type: 'job'; action: 'openLog'; id: string },
) => void;

const STAGES = ['understand', 'plan', 'implement', 'run', 'reproduce', 'final-check'] as const;
/** Labels short enough for six segments in a side bar; the full stage name is in the status line and tooltip. */
const STAGE_LABELS: Record<(typeof STAGES)[number], string> = {
  understand: 'read',
  plan: 'plan',
  implement: 'code',
  run: 'run',
  reproduce: 'script',
  'final-check': 'check',
};

export function hm(ms: number): string {
  const m = Math.floor(ms / 60_000);
  const hours = Math.floor(m / 60);
  return hours
    ? `${hours}h ${String(m % 60).padStart(2, '0')}m`
    : `${m}m ${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}s`;
}

export function tokens(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

export function activeMs(s: ProgressState, now: number): number {
  const b = s.budget;
  return b.activeMs + (b.runningSince !== null ? Math.max(0, now - b.runningSince) : 0);
}

export function header(s: ProgressState, send: Send): HTMLElement {
  const title = s.session?.paperTitle ?? 'No session';
  const current = s.stage ? STAGES.indexOf(s.stage) : -1;
  const finished = s.status === 'done' || s.status === 'failed'; // nothing left to pause or stop
  // A session that is done has been through every stage, whichever it was in when it ended.
  const stageIdx = s.status === 'done' ? STAGES.length : current;
  const live = s.status === 'running' || s.status === 'starting';
  return h(
    'div',
    { class: 'header' },
    h('div', { class: 'title', title, text: title }),
    h(
      'div',
      { class: 'status-line' },
      h('span', { class: `badge ${s.status}`, id: 'status', role: 'status', text: s.status }),
      s.stage
        ? h('span', {
            class: 'muted',
            text: current >= 0 ? `stage ${current + 1}/${STAGES.length}: ${s.stage}` : `stage: ${s.stage}`,
          })
        : null,
      s.step ? h('span', { class: 'muted', text: `step ${s.step} · window ${s.window}` }) : null,
      s.statusReason ? h('span', { class: 'muted', text: `— ${s.statusReason}` }) : null,
    ),
    s.session
      ? h(
          'div',
          { class: 'stages', role: 'list', 'aria-label': 'Stages' },
          ...STAGES.map((st, i) =>
            h('div', {
              class: `stage${i < stageIdx ? ' done' : ''}${i === stageIdx ? ' current' : ''}`,
              role: 'listitem',
              'aria-current': i === stageIdx ? 'step' : undefined,
              title: `Stage ${i + 1}: ${st}`,
              text: STAGE_LABELS[st],
            }),
          ),
        )
      : null,
    s.session && !finished
      ? h(
          'div',
          { class: 'controls' },
          button('Pause', 'pause', !live, () => send({ type: 'session', action: 'pause' }), 'secondary'),
          button(
            'Resume',
            'resume',
            s.status !== 'paused',
            () => send({ type: 'session', action: 'resume' }),
            'secondary',
          ),
          button(
            'Stop',
            'stop',
            !(live || s.status === 'paused'),
            () => send({ type: 'session', action: 'stop' }),
            'secondary',
          ),
        )
      : null,
    s.lastError ? h('div', { class: 'error-banner', role: 'alert', text: s.lastError }) : null,
  );
}

function button(
  label: string,
  id: string,
  disabled: boolean,
  onClick: () => void,
  cls = '',
  aria?: string,
): HTMLButtonElement {
  const b = h('button', { class: cls, 'data-action': id, disabled, 'aria-label': aria, text: label });
  b.addEventListener('click', onClick);
  return b;
}

/** What the session waits for now: a model retry's countdown, or grading progress (empty otherwise). */
export function activity(s: ProgressState, now: number): HTMLElement[] {
  const r = s.retry;
  if (r && now < r.until + 1000) {
    const secs = Math.max(0, Math.ceil((r.until - now) / 1000));
    const when = secs > 0 ? `retrying in ${secs} s` : 'retrying now';
    return [
      h(
        'div',
        { class: 'muted', id: 'retry-text' },
        icon('watch', 'small'),
        ` Model request failed (${r.reason}): ${when}, attempt ${r.attempt} of ${r.of}`,
      ),
    ];
  }
  const g = s.grading;
  if (g) {
    return [
      h('div', { class: 'muted', id: 'grading-text', text: `Grading ${g.done} of ${g.total} leaves` }),
      h(
        'div',
        {
          class: 'bar',
          role: 'progressbar',
          'aria-label': 'Rubric leaves graded',
          'aria-valuemin': 0,
          'aria-valuemax': g.total,
          'aria-valuenow': g.done,
        },
        barFill(g.total ? (100 * g.done) / g.total : 0),
      ),
    ];
  }
  return [];
}

export function budget(s: ProgressState, now: number): HTMLElement {
  const used = activeMs(s, now);
  const total = s.budget.totalMs;
  const pct = total > 0 ? Math.min(100, (used / total) * 100) : 0;
  const u = s.usage;
  const cap = u.spendCapUsd;
  const costPct = cap ? Math.min(100, (u.costUsd / cap) * 100) : 0;
  return h(
    'div',
    {},
    h('div', {
      class: 'muted',
      id: 'budget-text',
      text: total ? `${hm(used)} of ${hm(total)} active` : 'no budget yet',
    }),
    h(
      'div',
      {
        class: `bar${pct >= 100 ? ' over' : pct >= 85 ? ' warn' : ''}`,
        role: 'progressbar',
        'aria-label': 'Active time used',
        'aria-valuemin': 0,
        'aria-valuemax': 100,
        'aria-valuenow': Math.round(pct),
      },
      barFill(pct),
    ),
    h(
      'dl',
      { class: 'kv' },
      h('dt', { text: 'cost' }),
      h(
        'dd',
        {},
        h('span', { id: 'cost', text: `$${u.costUsd.toFixed(2)}${cap ? ` of $${cap.toFixed(2)} cap` : ''}` }),
        cap
          ? h(
              'div',
              {
                class: `bar${costPct >= 100 ? ' over' : costPct >= 85 ? ' warn' : ''}`,
                role: 'progressbar',
                'aria-label': 'Spend cap used',
                'aria-valuemin': 0,
                'aria-valuemax': 100,
                'aria-valuenow': Math.round(costPct),
              },
              barFill(costPct),
            )
          : null,
      ),
      h('dt', { text: 'tokens' }),
      h('dd', {
        text: `${tokens(u.promptTokens)} in (${tokens(u.cachedTokens)} cached) · ${tokens(u.completionTokens)} out · ${u.requests} requests`,
      }),
      h('dt', { text: 'network' }),
      h('dd', { id: 'network', text: s.network }),
    ),
  );
}

function barFill(pct: number): HTMLElement {
  const d = h('div');
  d.style.width = `${pct}%`;
  return d;
}

export function plan(s: ProgressState): HTMLElement {
  if (!s.plan.length) return h('div', { class: 'muted', text: 'The agent has not written a plan yet.' });
  const mark = { todo: 'circle-large-outline', doing: 'sync', done: 'pass-filled' } as const;
  return h(
    'ul',
    { class: 'plan', 'aria-label': 'Plan' },
    ...s.plan.map((p) =>
      h(
        'li',
        { class: p.status },
        icon(mark[p.status], `small mark-${p.status}`),
        h('span', { text: p.text, 'aria-label': `${p.status}: ${p.text}` }),
      ),
    ),
  );
}

export function edits(s: ProgressState, send: Send): HTMLElement {
  if (!s.proposals.length) return h('div', { class: 'muted', text: 'No proposed edits.' });
  const order = { pending: 0, accepted: 1, rejected: 1 } as const;
  const list = [...s.proposals].sort((a, b) => order[a.status] - order[b.status]);
  return h('ul', { class: 'edits', 'aria-label': 'Proposed edits' }, ...list.map((p) => editItem(p, send)));
}

function editItem(p: ProposalView, send: Send): HTMLElement {
  const pending = p.status === 'pending';
  return h(
    'li',
    { 'data-path': p.path, 'data-status': p.status },
    h('span', { class: 'path', title: p.path, text: p.path }),
    p.sensitive
      ? h(
          'span',
          {
            class: 'sensitive',
            title: `Needs your explicit accept: ${p.sensitive}`,
          },
          icon('warning', 'small'),
          ' sensitive',
        )
      : null,
    h('span', { class: 'add', text: `+${p.additions}` }),
    h('span', { class: 'del', text: `−${p.deletions}` }),
    pending
      ? h(
          'span',
          { class: 'actions' },
          button(
            'Open diff',
            'open',
            false,
            () => send({ type: 'proposal', action: 'open', path: p.path }),
            'secondary',
            `Open diff of ${p.path}`,
          ),
          button(
            'Accept',
            'accept',
            false,
            () => send({ type: 'proposal', action: 'accept', path: p.path }),
            '',
            `Accept ${p.path}`,
          ),
          button(
            'Reject',
            'reject',
            false,
            () => send({ type: 'proposal', action: 'reject', path: p.path }),
            'secondary',
            `Reject ${p.path}`,
          ),
        )
      : h('span', { class: 'decided', text: p.status + (p.reason ? ` — ${p.reason}` : '') }),
  );
}

/** The agent's background jobs: running ones first, each with its state, elapsed time and last lines. */
export function jobs(s: ProgressState, send: Send, now: number): HTMLElement {
  if (!s.jobs.length) return h('div', { class: 'muted', text: 'No background jobs.' });
  const list = [...s.jobs].sort(
    (a, b) => Number(b.state === 'running') - Number(a.state === 'running') || b.startedTs - a.startedTs,
  );
  return h(
    'ul',
    { class: 'jobs', 'aria-label': 'Background jobs' },
    ...list.map((j) => jobItem(j, send, now)),
  );
}

function jobState(j: JobView): string {
  if (j.state === 'running') return 'running';
  if (j.state === 'exited') return `exit ${j.exitCode}`;
  return j.state;
}

function jobItem(j: JobView, send: Send, now: number): HTMLElement {
  const elapsed = hm(Math.max(0, (j.endedTs ?? now) - j.startedTs));
  const failed = (j.state === 'exited' && j.exitCode !== 0) || j.state === 'lost';
  const lines = j.tail.replace(/\n$/, '').split('\n').slice(-5).join('\n');
  return h(
    'li',
    { 'data-job': j.id, 'data-state': j.state },
    h(
      'div',
      { class: 'job-head' },
      h('span', { class: 'job-name', title: j.command, text: `${j.id} · ${j.name}` }),
      h('span', { class: `job-state ${j.state}${failed ? ' failed' : ''}`, text: jobState(j) }),
      h('span', { class: 'job-elapsed muted', text: elapsed }),
      button(
        'Open log',
        'open-log',
        false,
        () => send({ type: 'job', action: 'openLog', id: j.id }),
        'secondary',
        `Open the log of job ${j.id}`,
      ),
    ),
    lines ? h('pre', { class: 'job-tail', text: lines }) : null,
  );
}

function scoreBadge(score: number | null | undefined, invalid?: boolean): HTMLElement | null {
  if (invalid)
    return h('span', { class: 'score warn', text: 'n/j', title: 'not judged: left out of the score' });
  if (typeof score !== 'number') return null;
  return h('span', {
    class: `score${score === 0 ? ' s0' : score === 1 ? ' s1' : ''}`,
    text: `${Math.round(score * 100)}%`,
  });
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/**
 * The early-end checks: the score at each check against its target (a line over the checks), then a
 * table of the score per top-level requirement at each check.
 */
export function endChecks(s: ProgressState): HTMLElement | null {
  const checks = s.endChecks;
  if (!checks.length) return null;
  const last = checks[checks.length - 1]!;
  const W = 160;
  const H = 32;
  const x = (i: number) => (checks.length === 1 ? W / 2 : 4 + (i * (W - 8)) / (checks.length - 1));
  const y = (v: number) => H - 3 - v * (H - 6);
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('class', 'spark');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', `Score at each check: ${checks.map((c) => pct(c.score)).join(', ')}`);
  const target = document.createElementNS(svg.namespaceURI, 'line');
  for (const [k, v] of Object.entries({ x1: 0, x2: W, y1: y(last.target), y2: y(last.target) }))
    target.setAttribute(k, String(v));
  target.setAttribute('class', 'target');
  const line = document.createElementNS(svg.namespaceURI, 'polyline');
  line.setAttribute('points', checks.map((c, i) => `${x(i)},${y(c.score)}`).join(' '));
  svg.append(target, line);
  for (const [i, c] of checks.entries()) {
    const dot = document.createElementNS(svg.namespaceURI, 'circle');
    for (const [k, v] of Object.entries({ cx: x(i), cy: y(c.score), r: 2.5 })) dot.setAttribute(k, String(v));
    svg.append(dot);
  }
  const head = h(
    'tr',
    {},
    h('th', { text: 'Requirement' }),
    ...checks.map((c) => h('th', { text: `#${c.check}` })),
  );
  const rows = last.tops.map((t, i) =>
    h(
      'tr',
      {},
      h('td', { class: 'req', title: `${t.requirements} (weight ${t.weight})`, text: t.requirements }),
      ...checks.map((c) => {
        const v = c.tops[i]?.score;
        return h('td', { class: 'score', text: v === undefined ? '–' : pct(v) });
      }),
    ),
  );
  return h(
    'div',
    { class: 'end-checks', 'aria-label': 'Early-end checks' },
    h('div', {
      class: 'muted',
      text: `Early-end checks: ${checks.length} of ${last.limit}; last ${pct(last.score)} (target ${pct(last.target)}) at ${pct(last.budgetUsed)} of the budget — ${last.refused ? `end refused, ${last.unmet} unmet` : 'end accepted'}${last.invalid ? `, ${last.invalid} not judged` : ''}.`,
    }),
    svg,
    h('table', { class: 'checks' }, head, ...rows),
  );
}

/** The rubric tree; children render when a node is opened (rubrics can have thousands of nodes). */
export function rubric(s: ProgressState): HTMLElement {
  const tree = s.rubric
    ? h('div', { class: 'rubric', 'aria-label': 'Rubric' }, rubricNode(s.rubric, true))
    : h('div', { class: 'muted', text: 'No rubric loaded.' });
  const checks = endChecks(s);
  return checks ? h('div', {}, checks, tree) : tree;
}

function rubricNode(n: RubricView, open = false): HTMLElement {
  const label = `${n.requirements} (weight ${n.weight}${n.category ? `, ${n.category}` : ''})`;
  if (!n.children.length) {
    return h(
      'div',
      { class: 'leaf', title: n.explanation ? `${label}\n\n${n.explanation}` : label },
      scoreBadge(n.score, n.invalid) ?? h('span', { class: 'score muted', text: '–' }),
      h('span', { class: 'req', text: n.requirements }),
    );
  }
  const d = h(
    'details',
    { open },
    h(
      'summary',
      { title: label },
      scoreBadge(n.score) ?? h('span', { class: 'score muted', text: '–' }),
      h('span', { class: 'req', text: n.requirements }),
    ),
  );
  let filled = false;
  const fill = () => {
    if (filled || !d.open) return;
    filled = true;
    d.append(h('div', {}, ...n.children.map((c) => rubricNode(c))));
  };
  d.addEventListener('toggle', fill);
  fill();
  return d;
}
