/**
 * The early-end check: an end_task with much of the time budget left is graded against the rubric
 * first (judge cache in the session folder, so unchanged evidence is not judged again; no
 * reproduce.sh run), and refused with the unmet requirements while the score is below the target.
 * The check is an event (early_end_check), so the count survives a crash and a resume.
 */

import type { EarlyEndCheck } from '../agent/loop-types';
import { commandOf } from '../agent/replay';
import type { AgentEvent } from '../events/events';
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

/** A command that runs the submission's reproduce.sh (`bash reproduce.sh`, `./reproduce.sh`, …). */
const RUNS_REPRODUCE = /(^|[\s;&|(])((ba)?sh\s+(\.\/)?|\.\/)reproduce\.sh\b/;

/**
 * The output of the agent's last run of reproduce.sh in its container (a bash call), newest first
 * by pages so the cost does not grow with the session: the check's evidence of a run when the
 * workspace has no reproduce.log (the check itself does not run reproduce.sh).
 */
export function lastReproduceRun(
  log: { readonly count: number; read(from: number, to?: number): AgentEvent[] },
  page = 256,
): { step: number; output: string } | undefined {
  const results = new Map<string, { ok: boolean; output: string }>();
  for (let to = log.count; to > 0; to -= page) {
    const events = log.read(Math.max(0, to - page), to);
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      if (e.type === 'tool_result') results.set(e.callId, { ok: e.ok, output: e.output });
      else if (e.type === 'tool_call') {
        const cmd = commandOf({ name: e.name, arguments: e.args });
        const r = results.get(e.callId);
        if (cmd && r && RUNS_REPRODUCE.test(cmd) && r.output.trim())
          return { step: e.step, output: r.output };
      }
    }
  }
  return undefined;
}
