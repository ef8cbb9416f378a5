/**
 * A session's files before its sandbox and agent exist: the event log (created or resumed), the
 * paper, and run.json — the options a resume needs again (paper, rubric, network, ...).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApprovalMode } from '../edits';
import type { ModelClient } from '../llm/types';
import { generateRubric, loadPaper, loadRubric, treeWarnings } from '../paper';
import type { Paper } from '../paper/types';
import { type LiveSession, SessionStore } from '../session';
import {
  DEFAULT_EARLY_END,
  type EarlyEndSettings,
  type NewSession,
  type RunHooks,
  type RunSettings,
} from './settings';

/** Options of a session that its resume needs again, kept beside its log. */
export interface SavedRun {
  paper: string;
  rubric?: string;
  blacklist?: string;
  approval: ApprovalMode;
  network: string;
  /** Absent (sessions of older versions, batch runs): no early-end check. */
  earlyEnd?: EarlyEndSettings;
  image?: string;
  contextLimit: number;
  spendCapUsd?: number;
  /** A rubric is to be written from the paper (done once the sandbox can start; then `rubric` is set). */
  generateRubric?: boolean;
}
const SAVED = 'run.json';

/** Resume the session named by `from`, or create one: a bad paper or rubric fails before anything is created. */
export async function openSessionFiles(
  settings: RunSettings,
  from: NewSession | string,
  hooks: RunHooks,
): Promise<{ live: LiveSession; saved: SavedRun; paper: Paper }> {
  const store = new SessionStore(settings.stateDir);
  const cacheDir = join(settings.stateDir, 'cache');
  // Why a paper was read a second-best way (its LaTeX source fell back to the PDF, …).
  const paperOpts = {
    cacheDir: join(cacheDir, 'papers'),
    onWarning: (m: string) => (hooks.onWarning ? hooks.onWarning(m) : hooks.say(m)),
  };
  let live: LiveSession;
  let saved: SavedRun;
  let paper: Paper;
  if (typeof from === 'string') {
    live = store.resume(from);
    for (const w of live.warnings) hooks.onWarning?.(w);
    const file = join(live.dir, SAVED);
    saved = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as SavedRun)
      : {
          paper: live.summary.paperPath,
          approval: settings.approval ?? 'review',
          network: settings.network,
          contextLimit: settings.model.contextLimit,
        };
    if (settings.earlyEndOverride) {
      // Given again on a resume: kept for the resumes after it too.
      saved.earlyEnd = { ...DEFAULT_EARLY_END, ...saved.earlyEnd, ...settings.earlyEndOverride };
      writeFileSync(file, JSON.stringify(saved, null, 2));
    }
    if (settings.approval) saved.approval = settings.approval; // the user's current choice wins
    paper = await loadPaper(saved.paper, paperOpts);
  } else {
    hooks.say('Reading the paper…');
    paper = await loadPaper(from.paper, paperOpts);
    const rubricFile = from.rubric;
    if (rubricFile) {
      // A bad rubric fails before anything is created; what PaperBench accepts only warns.
      const warnings = treeWarnings(await loadRubric(rubricFile));
      if (warnings.length)
        hooks.onWarning?.(
          `${rubricFile}: ${warnings[0]}${warnings.length > 1 ? ` (and ${warnings.length - 1} more)` : ''}; see "klong rubric check".`,
        );
    }
    live = store.create({
      ...(from.sessionId ? { sessionId: from.sessionId } : {}),
      paperTitle: paper.title,
      paperPath: from.paper,
      workspace: from.workspace,
      model: settings.model.name,
      budgetMs: settings.budgetMs,
    });
    saved = {
      paper: from.paper,
      ...(rubricFile ? { rubric: rubricFile } : {}),
      ...(from.blacklist ? { blacklist: from.blacklist } : {}),
      approval: settings.approval ?? 'review',
      network: settings.network,
      ...(settings.image ? { image: settings.image } : {}),
      contextLimit: settings.model.contextLimit,
      ...(settings.spendCapUsd !== undefined ? { spendCapUsd: settings.spendCapUsd } : {}),
      ...(settings.earlyEnd ? { earlyEnd: settings.earlyEnd } : {}),
    };
    if (!rubricFile && from.generateRubric) saved.generateRubric = true;
    writeFileSync(join(live.dir, SAVED), JSON.stringify(saved, null, 2));
  }
  return { live, saved, paper };
}

/** Writes run.json again (a setting changed mid-session that a resume needs, e.g. the approval mode). */
export function saveRun(live: LiveSession, saved: SavedRun): void {
  writeFileSync(join(live.dir, SAVED), JSON.stringify(saved, null, 2));
}

/** Writes the rubric a session asked for from its paper, once; a failure leaves the session ungraded, with a warning. */
export async function ensureRubric(
  live: LiveSession,
  saved: SavedRun,
  paper: Paper,
  model: ModelClient,
  hooks: RunHooks,
): Promise<void> {
  if (!saved.generateRubric || saved.rubric) return;
  hooks.say('Writing a grading rubric from the paper…');
  try {
    const generated = await generateRubric(model, paper);
    const path = join(live.dir, 'rubric.json');
    writeFileSync(path, `${JSON.stringify(generated.rubric, null, 2)}\n`);
    saved.rubric = path;
  } catch (err) {
    hooks.onWarning?.(`No rubric: ${err instanceof Error ? err.message : String(err)}`);
  }
  saved.generateRubric = false;
  writeFileSync(join(live.dir, SAVED), JSON.stringify(saved, null, 2));
}
