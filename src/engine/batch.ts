/**
 * Staged batch runs (KLong's progressive schedule): every paper is reproduced once per stage, each
 * run a fresh session in its own container and workspace, with the time budget of its stage
 * (e.g. 2h, then 4h, then 12h); a stage starts when the one before has finished. The rubric score
 * of each run is its reward. batch.json records every run as it goes, so a batch killed half-way
 * carries on where it stopped: finished runs are kept, interrupted sessions are resumed.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { formatDuration, parseDuration } from '../agent/budget';
import { DirUserFiles } from '../edits';
import { removeSandbox } from '../sandbox';
import { FILES, SessionLock, SessionLockedError } from '../session';
import { writeFileAtomic } from '../session/fsutil';
import { type NewSession, Reproduction, type RunSettings } from './reproduction';

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

export const BATCH_FILE = 'batch.json';

/** "2h,4h,12h" → stages; each must be longer than the one before (the schedule only grows). */
export function parseStages(spec: string): Stage[] {
  const parts = spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!parts.length) throw new Error('--stages needs at least one duration, e.g. 2h,4h,12h.');
  const stages = parts.map((label) => {
    try {
      return { label, budgetMs: parseDuration(label) };
    } catch (err) {
      throw new Error(`--stages: ${(err as Error).message}`);
    }
  });
  for (let i = 1; i < stages.length; i++) {
    if (stages[i]!.budgetMs <= stages[i - 1]!.budgetMs)
      throw new Error(
        `--stages must grow stage by stage (KLong's progressive schedule): ${stages[i]!.label} after ${stages[i - 1]!.label}.`,
      );
  }
  return stages;
}

/** Read papers.json: an array of entries (or {"papers": [...]}); a bare string is a paper path. */
export function loadPapers(file: string): BatchPaper[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Cannot read ${file}: ${(err as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { papers?: unknown })?.papers;
  if (!Array.isArray(list) || !list.length)
    throw new Error(
      `${file} must be a JSON array of papers, e.g. [{"id": "adam", "paper": "adam.pdf", "rubric": "adam/rubric.json"}].`,
    );
  const base = dirname(resolve(file));
  const remote = (p: string) => /^(https?:|arxiv:)/i.test(p) || /^\d{4}\.\d{4,5}/.test(p);
  // A file's id is its name without extension; an arXiv id or URL keeps its dots (2602.17547).
  const defaultId = (p: string) =>
    remote(p) ? (p.split(/[/:]/).filter(Boolean).pop() ?? p).replace(/\.pdf$/i, '') : basename(p, extname(p));
  const seen = new Set<string>();
  return list.map((entry, i) => {
    const e = (typeof entry === 'string' ? { paper: entry } : entry) as Partial<
      Record<keyof BatchPaper, unknown>
    >;
    if (typeof e !== 'object' || e === null || typeof e.paper !== 'string' || !e.paper)
      throw new Error(`${file}, entry ${i + 1}: "paper" (a file, URL or arXiv id) is required.`);
    for (const k of ['id', 'rubric', 'blacklist', 'workspace'] as const) {
      if (e[k] !== undefined && typeof e[k] !== 'string')
        throw new Error(`${file}, entry ${i + 1}: "${k}" must be a string.`);
    }
    const id = safeId((e.id as string | undefined) ?? defaultId(e.paper));
    if (seen.has(id)) throw new Error(`${file}: two papers have the id "${id}"; give them distinct "id"s.`);
    seen.add(id);
    const p: BatchPaper = { id, paper: remote(e.paper) ? e.paper : abs(base, e.paper) };
    if (e.rubric) p.rubric = abs(base, e.rubric as string);
    if (e.blacklist) p.blacklist = abs(base, e.blacklist as string);
    if (e.workspace) {
      p.workspace = abs(base, e.workspace as string);
      if (!existsSync(p.workspace) || !statSync(p.workspace).isDirectory())
        throw new Error(`${file}, paper "${id}": workspace ${p.workspace} is not a folder.`);
    }
    for (const f of [p.rubric, p.blacklist])
      if (f && !existsSync(f)) throw new Error(`${file}, paper "${id}": ${f} does not exist.`);
    return p;
  });
}

function abs(base: string, p: string): string {
  return isAbsolute(p) ? p : join(base, p);
}

function safeId(s: string): string {
  const id = s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  if (!id) throw new Error(`"${s}" does not make a usable paper id; give the entry an "id".`);
  return id.slice(0, 60);
}

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

const COLUMNS = [
  'paper',
  'stage',
  'budget',
  'session',
  'status',
  'reward',
  'steps',
  'active_min',
  'cost_usd',
  'end',
];

function cells(st: BatchState, r: BatchRun): string[] {
  return [
    r.paper,
    String(r.stage + 1),
    st.stages[r.stage]!.label,
    r.sessionId,
    r.status,
    r.reward === null ? '' : r.reward.toFixed(4),
    String(r.steps),
    (r.activeMs / 60_000).toFixed(1),
    r.costUsd.toFixed(4),
    r.error ?? r.endReason ?? '',
  ];
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function summaryCsv(st: BatchState): string {
  const rows = [COLUMNS, ...st.runs.map((r) => cells(st, r))];
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

export function summaryMarkdown(st: BatchState): string {
  const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const lines = [
    `# KLong batch ${st.batchId}`,
    '',
    `Papers: ${st.papers.length} · stages: ${st.stages.map((s) => s.label).join(' → ')} · updated ${st.updatedAt}`,
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map(() => '---').join(' | ')} |`,
    ...st.runs.map((r) => `| ${cells(st, r).map(md).join(' | ')} |`),
    '',
    '## Mean reward per stage',
    '',
    '| stage | budget | runs done | graded | mean reward |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [i, s] of st.stages.entries()) {
    const runs = st.runs.filter((r) => r.stage === i);
    const done = runs.filter((r) => r.status === 'done');
    const graded = done.filter((r) => r.reward !== null);
    const mean = graded.length ? graded.reduce((a, r) => a + r.reward!, 0) / graded.length : undefined;
    lines.push(
      `| ${i + 1} | ${s.label} | ${done.length}/${runs.length} | ${graded.length} | ${mean === undefined ? '–' : mean.toFixed(4)} |`,
    );
  }
  return `${lines.join('\n')}\n`;
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
