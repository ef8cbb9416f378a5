/** Types of a batch: papers, stages, batch.json and its runs (kept apart so the batch modules import no cycle). */
/** One entry of papers.json. Relative paths are relative to papers.json. */
export interface BatchPaper {
  id: string;
  /** PDF or Markdown file, URL or arXiv id. */
  paper: string;
  rubric?: string;
  blacklist?: string;
  /** A folder copied as the starting workspace of every run of this paper (default: empty). */
  workspace?: string;
}

export interface Stage {
  label: string;
  budgetMs: number;
}

export type RunStatus = 'pending' | 'running' | 'done' | 'stopped' | 'failed';

export interface BatchRun {
  paper: string;
  stage: number;
  sessionId: string;
  status: RunStatus;
  /** Rubric score in [0, 1]: the run's reward (null: not graded). */
  reward: number | null;
  endReason?: string;
  error?: string;
  steps: number;
  activeMs: number;
  costUsd: number;
  attempts: number;
}

export interface BatchState {
  version: 1;
  batchId: string;
  papersFile: string;
  papers: BatchPaper[];
  stages: Stage[];
  runs: BatchRun[];
  createdAt: string;
  updatedAt: string;
}
