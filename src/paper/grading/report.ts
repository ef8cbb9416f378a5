/** Markdown report of a grade: score by top-level node, then every leaf with its reason. */

import type { BlacklistHit } from '../blacklist/blacklist';
import { NOT_JUDGED } from './evidence';
import type { GradeResult } from './grade';
import { type GradedNode, gradedLeaves } from './graded';
import { JUDGE_ATTEMPTS } from './judge';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const cell = (s: string, max = 200) => {
  const t = s.replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|');
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** The line that marks a grade as flagged for review (PaperBench: any monitor finding). */
export function flaggedLine(findings: number): string {
  return `**⚠ Flagged for review:** the blacklist monitor recorded ${findings} finding(s) of blacklisted resources in the session (PaperBench rules); check them before using this grade.`;
}

/** The monitor's findings, each with the command it belongs to. */
export function renderFindings(hits: BlacklistHit[], level = '##'): string[] {
  const out = [
    `${level} ⚠ Blacklisted resources used`,
    '',
    'The session reached resources it was not allowed to use; this reproduction may not be independent:',
    '',
  ];
  for (const h of hits.slice(0, 50)) {
    const spelled = h.how === 'as written' ? '' : `, spelled ${h.how}`;
    const cmd = h.command ? `; command: \`${cell(h.command, 300).replace(/`/g, "'")}\`` : '';
    out.push(
      `- step ${h.step} (${h.where}, \`${h.tool}\`): \`${cell(h.found, 120).replace(/`/g, "'")}\` matches ${h.entry.pattern}${spelled}${cmd}`,
    );
  }
  if (hits.length > 50) out.push(`- … ${hits.length - 50} more (the session's events.jsonl has them all)`);
  return out;
}

export function renderReport(result: GradeResult): string {
  const { root } = result;
  const out: string[] = [
    `# Grading report: ${result.paperTitle}`,
    '',
    `**Score: ${pct(result.score)}** — ${result.passed} of ${result.leaves} requirements passed; judge: \`${result.model}\`; graded ${result.gradedAt}.`,
  ];
  if (result.invalid)
    out.push(
      '',
      `**⚠ ${result.invalid} requirement(s) could not be judged** (the judge's answer could not be parsed after ${JUDGE_ATTEMPTS} attempts, or the call failed): they are marked "not judged" below and left out of the score, which is over the other requirements. Grade again (the other answers are cached) to judge them.`,
    );
  const decided = result.decided ?? [];
  if (decided.length) {
    const reasons = [...new Set(decided.map((d) => d.reason.replace(/^[^:]*: /, '')))];
    out.push(
      '',
      `${decided.length} Code Execution / Result Analysis requirement(s) scored 0 without asking the judge: ${reasons.join(' ')} They are marked "no judge" below.`,
    );
  }
  if (result.flagged) out.push('', flaggedLine(result.flags.blacklist.length));
  if (result.flags.blacklist.length) out.push('', ...renderFindings(result.flags.blacklist, '##'));
  out.push(
    '',
    '## Score by top-level requirement',
    '',
    '| # | Requirement | Weight | Score | Passed |',
    '|---|---|---|---|---|',
  );
  const tops = root.sub_tasks.length ? root.sub_tasks : [root];
  tops.forEach((n, i) => {
    const ls = gradedLeaves(n);
    const score = ls.some((l) => l.valid_score) ? pct(n.score) : 'not judged';
    out.push(
      `| ${i + 1} | ${cell(n.requirements, 120)} | ${n.weight} | ${score} | ${ls.filter((l) => l.score === 1).length}/${ls.length} |`,
    );
  });
  out.push('', '## Requirements', '');
  tops.forEach((n, i) => {
    out.push(`### ${i + 1}. ${cell(n.requirements, 160)} — ${pct(n.score)}`, '');
    out.push('| Requirement | Category | Weight | Score | Reason |', '|---|---|---|---|---|');
    for (const l of gradedLeaves(n)) out.push(leafRow(l, decided.length > 0));
    out.push('');
  });
  return `${out.join('\n').trimEnd()}\n`;
}

function leafRow(l: GradedNode, someDecided: boolean): string {
  const noJudge = someDecided && l.judge_metadata === null && l.explanation.startsWith(NOT_JUDGED);
  const mark = !l.valid_score
    ? '⚠ not judged'
    : l.score === 1
      ? '✅ 1'
      : noJudge
        ? '❌ 0 (no judge)'
        : '❌ 0';
  return `| ${cell(l.requirements)} | ${l.task_category ?? ''} | ${l.weight} | ${mark} | ${cell(l.explanation, 400)} |`;
}

/** The graded tree as PaperBench writes it (4-space JSON; every node: score, valid_score, explanation, judge_metadata). */
export function gradeToJson(result: GradeResult): string {
  return `${JSON.stringify(result.root, null, 4)}\n`;
}
