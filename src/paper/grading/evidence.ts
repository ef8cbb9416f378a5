/**
 * Leaves the evidence already decides, so no judge is asked: a Code Execution or Result Analysis
 * requirement cannot be met when nothing ran (no reproduce.sh), the final run failed, or it printed
 * nothing. An over-generous judge could otherwise pass them for a submission that never ran.
 */
import type { RubricNode } from '../types';

/** The final run of reproduce.sh as the grader sees it (ReproductionResult has these fields). */
export interface FinalRunEvidence {
  ran: boolean;
  exitCode: number | null;
  timedOut: boolean;
  log: string;
}

/** A leaf scored 0 without a judge call, and why. */
export interface DecidedLeaf {
  /** nodePath of the leaf. */
  path: string;
  requirements: string;
  category: string;
  reason: string;
}

export const NOT_JUDGED = 'Scored 0 without asking the judge';

/**
 * Why the evidence alone fails `leaf`, or undefined when the judge must decide. A run stopped at the
 * time limit is left to the judge: its log may show the part that did run.
 */
export function evidenceDecides(
  leaf: RubricNode,
  e: { reproduceSh?: string | undefined; finalRun?: FinalRunEvidence | undefined },
): string | undefined {
  if (leaf.task_category !== 'Code Execution' && leaf.task_category !== 'Result Analysis') return undefined;
  const run = e.finalRun;
  // The final run knows best whether reproduce.sh exists (the submission's file list is capped).
  if (run ? !run.ran : e.reproduceSh === undefined)
    return `${NOT_JUDGED}: the submission has no reproduce.sh, so nothing was executed.`;
  if (!run) return undefined;
  if (!run.timedOut && run.exitCode !== 0)
    return `${NOT_JUDGED}: the final run of reproduce.sh failed (exit code ${run.exitCode ?? 'none'}).`;
  if (!run.log.trim()) return `${NOT_JUDGED}: the final run of reproduce.sh printed nothing.`;
  return undefined;
}
