/** A paper as the agent and the UI use it. */

export interface Section {
  /** Stable id, e.g. "3.1" or a slug for unnumbered sections. */
  id: string;
  title: string;
  level: number;
  /** Character range in `markdown`. */
  start: number;
  end: number;
}

export interface Paper {
  title: string;
  authors: string[];
  abstract: string;
  markdown: string;
  sections: Section[];
  /** Where it came from: file path or URL. */
  source: string;
}

export type TaskCategory = 'Code Development' | 'Code Execution' | 'Result Analysis' | 'Subtree';

/** PaperBench rubric node (rubric.json). */
export interface RubricNode {
  id: string;
  requirements: string;
  weight: number;
  sub_tasks: RubricNode[];
  task_category: TaskCategory | null;
  finegrained_task_category: string | null;
}
