/**
 * What the agent knows about its own progress, kept by the loop across windows and written into
 * the progress note at a split: plan, done, findings, files, open problems.
 */
import type { PlanItem, Stage } from '../events/events';

export interface ProgressState {
  plan: PlanItem[];
  /** Workspace paths written or edited, in first-touch order. */
  files: string[];
  /** Recent commands (newest last). */
  commands: string[];
  /** Recent assistant reasoning snippets (newest last). */
  findings: string[];
  /** Recent failed tool calls (newest last). */
  problems: string[];
}

export function emptyProgress(): ProgressState {
  return { plan: [], files: [], commands: [], findings: [], problems: [] };
}

const KEEP = { commands: 15, findings: 8, problems: 8 };

function pushRing(list: string[], item: string, max: number): void {
  const t = item.replace(/\s+/g, ' ').trim();
  if (!t) return;
  list.push(t.length > 400 ? `${t.slice(0, 397)}…` : t);
  if (list.length > max) list.splice(0, list.length - max);
}

export function noteCommand(s: ProgressState, cmd: string): void {
  pushRing(s.commands, cmd, KEEP.commands);
}
export function noteFinding(s: ProgressState, text: string): void {
  pushRing(s.findings, text, KEEP.findings);
}
export function noteProblem(s: ProgressState, text: string): void {
  pushRing(s.problems, text, KEEP.problems);
}
export function noteFile(s: ProgressState, path: string): void {
  if (!s.files.includes(path)) s.files.push(path);
}

export interface NoteContext {
  step: number;
  stage: Stage;
  /** e.g. "2h 10m elapsed out of 12h" */
  time: string;
}

export function buildProgressNote(s: ProgressState, ctx: NoteContext): string {
  const sec = (title: string, lines: string[], empty: string) =>
    `## ${title}\n${lines.length ? lines.join('\n') : empty}`;
  const plan = s.plan.map(
    (p) => `- [${p.status === 'done' ? 'x' : p.status === 'doing' ? '~' : ' '}] ${p.text}`,
  );
  const done = s.plan.filter((p) => p.status === 'done').map((p) => `- ${p.text}`);
  return [
    `# Progress note (step ${ctx.step}, stage: ${ctx.stage}, ${ctx.time})`,
    sec('Plan', plan, '(no plan yet: make one with update_plan)'),
    sec('Done', [...done, ...s.commands.slice(-8).map((c) => `- ran: ${c}`)], '(nothing yet)'),
    sec(
      'Findings',
      s.findings.map((f) => `- ${f}`),
      '(none recorded)',
    ),
    sec(
      'Files written',
      s.files.slice(-60).map((f) => `- ${f}`),
      '(none)',
    ),
    sec(
      'Open problems',
      s.problems.map((p) => `- ${p}`),
      '(none known)',
    ),
    'Continue from here. Re-read files with read_file rather than relying on memory of their content.',
  ].join('\n\n');
}
