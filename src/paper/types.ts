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
  /** What the text was read from (the PDF when not set). */
  format?: 'pdf' | 'latex' | 'markdown';
  /** The PDF on disk (the file given, or the download in the cache), for the paper panel. */
  pdfFile?: string;
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

/**
 * A rubric node's place in the tree: its child indices from the root joined by dots ("" is the root,
 * "2.0.1" the second child of the first child of the third). Grades are keyed by it, not by the
 * node's id: some of PaperBench's own rubrics repeat an id. (Here, not in rubric/rubric.ts, so that the UI
 * bundle can use it without zod.)
 */
export function nodePath(parent: string, index: number): string {
  return parent === '' ? String(index) : `${parent}.${index}`;
}
