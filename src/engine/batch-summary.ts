/** summary.csv and summary.md: one row per run, and the mean reward of each stage. */
import type { BatchRun, BatchState } from './batch-types';

const COLUMNS = [
  'paper',
  'stage',
  'budget',
  'session',
  'status',
  'reward',
  'steps',
  'active_min',
  'cost_usd',
  'end',
];

function cells(st: BatchState, r: BatchRun): string[] {
  return [
    r.paper,
    String(r.stage + 1),
    st.stages[r.stage]!.label,
    r.sessionId,
    r.status,
    r.reward === null ? '' : r.reward.toFixed(4),
    String(r.steps),
    (r.activeMs / 60_000).toFixed(1),
    r.costUsd.toFixed(4),
    r.error ?? r.endReason ?? '',
  ];
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryCsv(st: BatchState): string {
  const rows = [COLUMNS, ...st.runs.map((r) => cells(st, r))];
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

export function summaryMarkdown(st: BatchState): string {
  const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# KLong batch ${st.batchId}`,
    '',
    `Papers: ${st.papers.length} · stages: ${st.stages.map((s) => s.label).join(' → ')} · updated ${st.updatedAt}`,
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...st.runs.map((r) => `| ${cells(st, r).map(md).join(' | ')} |`),
    '',
    '## Mean reward per stage',
    '',
    '| stage | budget | runs done | graded | mean reward |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [i, s] of st.stages.entries()) {
    const runs = st.runs.filter((r) => r.stage === i);
    const done = runs.filter((r) => r.status === 'done');
    const graded = done.filter((r) => r.reward !== null);
    const mean = graded.length ? graded.reduce((a, r) => a + r.reward!, 0) / graded.length : undefined;
    lines.push(
      `| ${i + 1} | ${s.label} | ${done.length}/${runs.length} | ${graded.length} | ${mean === undefined ? '–' : mean.toFixed(4)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
