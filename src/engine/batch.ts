/**
 * Staged batch runs (KLong's progressive schedule): every paper is reproduced once per stage, each
 * run a fresh session in its own container and workspace, with the time budget of its stage
 * (e.g. 2h, then 4h, then 12h); a stage starts when the one before has finished. The rubric score
 * of each run is its reward. batch.json records every run as it goes, so a batch killed half-way
 * carries on where it stopped: finished runs are kept, interrupted sessions are resumed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { formatDuration } from '../agent/budget';
import { DirUserFiles } from '../edits';
import { removeSandbox } from '../sandbox';
import { FILES, SessionLock, SessionLockedError } from '../session';
import { writeFileAtomic } from '../session/fsutil';
import { loadPapers } from './batch-papers';
import { summaryCsv, summaryMarkdown } from './batch-summary';
import type { BatchRun, BatchState, Stage } from './batch-types';
import { type NewSession, Reproduction, type RunSettings } from './reproduction';

export const BATCH_FILE = 'batch.json';

export interface BatchOptions {
  papersFile: string;
  stages: Stage[];
  concurrency: number;
  /** Folder of the batch: batch.json, summary.csv/.md, sessions/, workspaces/. */
  outDir: string;
  /** Settings shared by every run (stateDir and budgetMs are set per run). */
  settings: Omit<RunSettings, 'stateDir' | 'budgetMs'>;
  /** Remove each finished run's container (default true). */
  removeContainers?: boolean;
  say(message: string): void;
  onWarning?(message: string): void;
}

export interface BatchResult {
  state: BatchState;
  /** Runs stopped before their end (Ctrl-C, spend cap, model outage): the next invocation resumes them. */
  unfinished: number;
}

/** Open (or continue) the batch in outDir and check it matches the papers and stages given. */
export function openBatch(o: Pick<BatchOptions, 'papersFile' | 'stages' | 'outDir'>): BatchState {
  const papers = loadPapers(o.papersFile);
  const file = join(o.outDir, BATCH_FILE);
  const now = new Date().toISOString();
  if (existsSync(file)) {
    let st: BatchState;
    try {
      st = JSON.parse(readFileSync(file, 'utf8')) as BatchState;
      if (!Array.isArray(st.runs) || !Array.isArray(st.stages) || !Array.isArray(st.papers))
        throw new Error('not a batch state');
    } catch (err) {
      throw new Error(
        `${file} is unreadable (${(err as Error).message}); the sessions in ${join(o.outDir, 'sessions')} are intact. Move the file away to start the batch over, or use another --out.`,
      );
    }
    const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
    if (
      !same(st.stages, o.stages) ||
      !same(
        st.papers.map((p) => p.id),
        papers.map((p) => p.id),
      )
    ) {
      throw new Error(
        `${o.outDir} holds a batch with other papers or stages (${st.papers.map((p) => p.id).join(', ')}; ${st.stages.map((s) => s.label).join(',')}). Continue it with the same papers.json and --stages, or use another --out.`,
      );
    }
    st.papers = papers; // paths may have moved; ids and stages are what must match
    return st;
  }
  const batchId = `b${Date.now().toString(36)}`;
  const runs: BatchRun[] = [];
  for (const [s] of o.stages.entries()) {
    for (const p of papers) {
      runs.push({
        paper: p.id,
        stage: s,
        sessionId: `${batchId}-${p.id}-s${s + 1}`,
        status: 'pending',
        reward: null,
        steps: 0,
        activeMs: 0,
        costUsd: 0,
        attempts: 0,
      });
    }
  }
  mkdirSync(o.outDir, { recursive: true });
  const st: BatchState = {
    version: 1,
    batchId,
    papersFile: resolve(o.papersFile),
    papers,
    stages: o.stages,
    runs,
    createdAt: now,
    updatedAt: now,
  };
  saveBatch(o.outDir, st);
  return st;
}

export function saveBatch(outDir: string, st: BatchState): void {
  st.updatedAt = new Date().toISOString();
  writeFileAtomic(join(outDir, BATCH_FILE), `${JSON.stringify(st, null, 2)}\n`);
  writeFileAtomic(join(outDir, 'summary.csv'), summaryCsv(st));
  writeFileAtomic(join(outDir, 'summary.md'), summaryMarkdown(st));
}

/** Run (or continue) a batch: stage by stage, up to `concurrency` papers at once. */
export async function runBatch(o: BatchOptions, signal?: AbortSignal): Promise<BatchResult> {
  const st = openBatch(o);
  // One driver per batch folder (the session lock, reused): a crashed driver's lock is taken over.
  let lock: SessionLock;
  try {
    lock = SessionLock.acquire(o.outDir, st.batchId, { label: 'klong batch' });
  } catch (err) {
    if (err instanceof SessionLockedError)
      throw new Error(
        `The batch in ${o.outDir} is being run by another process (pid ${err.owner.pid}); let it finish or stop it first.`,
      );
    throw err;
  }
  try {
    return await drive(o, st, signal);
  } finally {
    lock.release();
  }
}

async function drive(o: BatchOptions, st: BatchState, signal?: AbortSignal): Promise<BatchResult> {
  const stateDir = join(o.outDir, 'sessions');
  const active = new Set<Reproduction>();
  const onAbort = () => {
    for (const r of active) r.stop('interrupt');
  };
  signal?.addEventListener('abort', onAbort);
  const save = () => saveBatch(o.outDir, st);
  try {
    for (const [s, stage] of st.stages.entries()) {
      const todo = st.runs.filter((r) => r.stage === s && r.status !== 'done');
      if (!todo.length) continue;
      o.say(
        `Stage ${s + 1}/${st.stages.length} (${stage.label} per paper): ${todo.length} run(s), ${Math.min(o.concurrency, todo.length)} at a time.`,
      );
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !signal?.aborted) {
          const run = todo[next++]!;
          await runOne(o, st, run, stage, stateDir, active, save, signal);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, o.concurrency) }, worker));
      if (signal?.aborted) break;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    save();
  }
  return { state: st, unfinished: st.runs.filter((r) => r.status !== 'done').length };
}

async function runOne(
  o: BatchOptions,
  st: BatchState,
  run: BatchRun,
  stage: Stage,
  stateDir: string,
  active: Set<Reproduction>,
  save: () => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const paper = st.papers.find((p) => p.id === run.paper);
  const tag = `[${run.paper} · stage ${run.stage + 1} ${stage.label}]`;
  if (!paper) {
    run.status = 'failed';
    run.error = `paper "${run.paper}" is no longer in ${st.papersFile}`;
    save();
    return;
  }
  const workspace = join(o.outDir, 'workspaces', paper.id, `stage-${run.stage + 1}-${stage.label}`);
  // The session id is fixed in advance: a session that exists was started before a crash → resume it.
  const resuming = existsSync(join(stateDir, run.sessionId, FILES.events));
  if (!resuming) {
    mkdirSync(workspace, { recursive: true });
    if (paper.workspace) cpSync(paper.workspace, workspace, { recursive: true });
  }
  const from: NewSession | string = resuming
    ? run.sessionId
    : {
        paper: paper.paper,
        workspace,
        sessionId: run.sessionId,
        ...(paper.rubric ? { rubric: paper.rubric } : { generateRubric: true }),
        ...(paper.blacklist ? { blacklist: paper.blacklist } : {}),
      };
  const settings: RunSettings = {
    ...o.settings,
    stateDir,
    budgetMs: stage.budgetMs,
    labels: { ...(o.settings.labels ?? {}), 'klong.batch': st.batchId },
  };
  run.status = 'running';
  run.attempts++;
  delete run.error;
  save();
  o.say(`${tag} ${resuming ? 'resuming' : 'starting'} session ${run.sessionId}`);
  let rep: Reproduction | undefined;
  try {
    rep = await Reproduction.open(settings, from, {
      say: () => {},
      onWarning: (m) => o.onWarning?.(`${tag} ${m}`),
      onSpendCap: async () => undefined,
      userFiles: new DirUserFiles(workspace),
    });
    active.add(rep);
    if (signal?.aborted) rep.stop('interrupt');
    const { result, score } = await rep.run();
    const sum = rep.live.summary;
    run.steps = sum.steps;
    run.activeMs = sum.activeMs;
    run.costUsd = sum.costUsd;
    run.reward = score ?? sum.lastScore ?? null;
    if (result.status === 'done') {
      run.status = 'done';
      run.endReason = result.reason;
    } else {
      run.status = 'stopped';
      run.endReason = result.reason;
    }
  } catch (err) {
    run.status = 'failed';
    run.error = err instanceof Error ? err.message : String(err);
  } finally {
    if (rep) {
      active.delete(rep);
      await rep.dispose();
    }
  }
  // The container goes before the run is recorded as done: a finished run leaves nothing behind.
  if (run.status === 'done' && o.removeContainers !== false)
    await removeSandbox(run.sessionId, o.settings.dockerHost).catch(() => undefined);
  save();
  if (run.status === 'done') {
    o.say(
      `${tag} done (${run.endReason}): reward ${run.reward === null ? 'none (not graded)' : run.reward.toFixed(3)}, ${run.steps} steps, ${formatDuration(run.activeMs)}`,
    );
  } else if (run.status === 'stopped')
    o.say(`${tag} stopped: ${run.endReason}; the next run of the batch resumes it`);
  else o.say(`${tag} failed: ${run.error}`);
}
