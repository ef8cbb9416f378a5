/**
 * The end of a session (final run, grading) as recorded steps: what the log already holds for the
 * current end, so that a resume after a crash goes on after what is done instead of redoing it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEvent } from '../events/events';
import type { ReproductionResult } from '../paper';
import { writeFileAtomic } from '../session/fsutil';

export type FinalRunEvent = Extract<AgentEvent, { type: 'final_run' }>;

/** The final run's output, in the session folder. */
export const FINAL_RUN_LOG = 'final-run.log';

export interface FinishRecord {
  /** reproduce.sh's recorded result for this end (not to be run again). */
  finalRun?: FinalRunEvent;
  /** reproduce.sh was started for this end and its result is not recorded (a crash mid-run). */
  finalRunInterrupted: boolean;
  /** Rubric leaves whose grade_leaf event is recorded for this end. */
  gradedLeaves: Set<string>;
  /** The grade event is recorded for this end. */
  graded: boolean;
}

interface PagedLog {
  readonly count: number;
  read(from: number, to?: number): AgentEvent[];
}

/**
 * What the log holds for the current end: the events after the agent's last model response (and
 * after the last rewind: changed files or conversation are a new end). Reads backwards by pages,
 * so the cost does not grow with the session's length.
 */
export function finishRecord(log: PagedLog, page = 256): FinishRecord {
  const rec: FinishRecord = { finalRunInterrupted: false, gradedLeaves: new Set(), graded: false };
  let started = false;
  for (let to = log.count; to > 0; to -= page) {
    const events = log.read(Math.max(0, to - page), to);
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      switch (e.type) {
        case 'model_response':
        case 'rewind':
        case 'end':
          rec.finalRunInterrupted = started && !rec.finalRun;
          return rec;
        case 'final_run':
          rec.finalRun ??= e;
          break;
        case 'final_run_started':
          started = true;
          break;
        case 'grade_leaf':
          rec.gradedLeaves.add(e.leafPath ?? e.leafId);
          break;
        case 'grade':
          rec.graded = true;
          break;
        default:
          break;
      }
    }
  }
  rec.finalRunInterrupted = started && !rec.finalRun;
  return rec;
}

/** The recorded final run with its log read back, or undefined when the log file is gone. */
export async function loadFinalRun(dir: string, e: FinalRunEvent): Promise<ReproductionResult | undefined> {
  const log = await readFile(join(dir, e.logFile), 'utf8').catch(() => undefined);
  if (log === undefined) return undefined;
  return { ran: e.ran, exitCode: e.exitCode, timedOut: e.timedOut, durationMs: e.durationMs, log };
}

/** Saves the final run's output in the session folder (atomically: a crash leaves the old or the new). */
export function saveFinalRunLog(dir: string, log: string): string {
  writeFileAtomic(join(dir, FINAL_RUN_LOG), log);
  return FINAL_RUN_LOG;
}

/** Complete lines of a stream of output chunks (\r counts as a line end: progress bars), each once. */
export function lineSplitter(onLine: (line: string) => void, maxLine = 400): (chunk: string) => void {
  let rest = '';
  return (chunk) => {
    const parts = (rest + chunk).split(/\r\n|\r|\n/);
    rest = parts.pop() ?? '';
    if (rest.length > maxLine * 4) rest = rest.slice(-maxLine * 4); // a very long line without an end
    for (const p of parts) {
      const line = p.trimEnd();
      if (line) onLine(line.length > maxLine ? `${line.slice(0, maxLine)}…` : line);
    }
  };
}
