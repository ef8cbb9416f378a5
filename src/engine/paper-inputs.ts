/** The rubric and blacklist a run grades and guards with, read from the paths its run.json names. */
import { type Blacklist, loadBlacklist, loadRubric } from '../paper';
import type { Paper, RubricNode } from '../paper/types';
import type { SavedRun } from './session-files';

export interface PaperInputs {
  rubric: RubricNode | undefined;
  blacklist: Blacklist;
}

export async function loadPaperInputs(saved: SavedRun, paper: Paper): Promise<PaperInputs> {
  const rubric = saved.rubric ? await loadRubric(saved.rubric) : undefined;
  const blacklist = await loadBlacklist({ paper, ...(saved.blacklist ? { file: saved.blacklist } : {}) });
  return { rubric, blacklist };
}
