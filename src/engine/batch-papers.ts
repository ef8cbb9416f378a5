/** papers.json and --stages: what a batch reproduces, and the time budget of each stage. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { parseDuration } from '../agent/budget';
import type { BatchPaper, Stage } from './batch-types';

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
