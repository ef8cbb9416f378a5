/**
 * The early-end check: an end_task with much of the time budget left is graded against the rubric
 * first (judge cache in the session folder, so unchanged evidence is not judged again; no
 * reproduce.sh run), and refused with the unmet requirements while the score is below the target.
 * The check is an event (early_end_check), so the count survives a crash and a resume.
 */
import type { EarlyEndCheck } from '../agent/loop-types';
import { earlyEndMessage, type GradeResult, gradedLeaves, topScores } from '../paper';
import type { EarlyEndSettings } from './settings';

export interface EndCheckInfo {
  step: number;
  callId: string;
  checksDone: number;
  budgetUsed: number;
  signal: AbortSignal;
}

/** The check's event, or undefined when no check is due (off, late enough, or the limit reached). */
export async function earlyEndCheck(
  info: EndCheckInfo,
  s: EarlyEndSettings | undefined,
  grade: (signal: AbortSignal) => Promise<GradeResult>,
  say: (message: string) => void,
): Promise<EarlyEndCheck | undefined> {
  if (!s || s.minBudgetUse <= 0 || info.budgetUsed >= s.minBudgetUse) return undefined;
  if (info.checksDone >= s.checks) {
    say(`Early-end check: all ${s.checks} check(s) made; the end is accepted.`);
    return undefined;
  }
  const check = info.checksDone + 1;
  say(
    `Early-end check ${check} of ${s.checks}: end_task came with ${Math.round(100 * (1 - info.budgetUsed))}% of the time budget left; grading the submission against the rubric…`,
  );
  const t0 = Date.now();
  const g = await grade(info.signal);
  const leaves = gradedLeaves(g.root);
  const refused = g.score < s.target;
  const unmet = leaves.filter((l) => l.valid_score && l.score < 1).length;
  const judged = leaves.filter((l) => l.judge_metadata && !l.judge_metadata.cached).length;
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  say(
    refused
      ? `Early-end check ${check} of ${s.checks}: score ${pct(g.score)} (target ${pct(s.target)}), ${unmet} requirement(s) unmet; the agent goes on.`
      : `Early-end check ${check} of ${s.checks}: score ${pct(g.score)} meets the target ${pct(s.target)}; the end is accepted.`,
  );
  return {
    type: 'early_end_check',
    step: info.step,
    callId: info.callId,
    check,
    limit: s.checks,
    budgetUsed: info.budgetUsed,
    score: g.score,
    target: s.target,
    refused,
    ...(refused
      ? {
          message: earlyEndMessage({
            grade: g,
            target: s.target,
            check,
            limit: s.checks,
            budgetUsed: info.budgetUsed,
            ranReproduce: false,
          }),
        }
      : {}),
    leaves: leaves.length,
    unmet,
    invalid: g.invalid,
    judged,
    tops: topScores(g.root),
    durationMs: Date.now() - t0,
  };
}
