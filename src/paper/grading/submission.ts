/** The submission as the judge sees it: text files ranked by relevance to a requirement, within a budget. */
import { estimateTokens } from '../../llm/tokens';
import { tokenize } from '../search';

export interface SubmissionFile {
  /** Path relative to the submission root, POSIX separators. */
  path: string;
  content: string;
}

const CODE_EXT =
  /\.(py|ipynb|sh|r|jl|m|c|cc|cpp|h|hpp|rs|go|java|js|ts|toml|yaml|yml|json|cfg|ini|txt|md|csv|tsv)$/i;

export interface SelectedFiles {
  included: { path: string; content: string; truncated: boolean }[];
  omitted: string[];
}

/** Term counts of each file, computed once per grading run and shared by every leaf. */
export interface FileIndex {
  files: SubmissionFile[];
  terms: Map<string, number>[];
  pathTerms: string[][];
}

export function indexFiles(files: SubmissionFile[]): FileIndex {
  return {
    files,
    terms: files.map((f) => {
      const m = new Map<string, number>();
      for (const t of tokenize(f.content)) m.set(t, (m.get(t) ?? 0) + 1);
      return m;
    }),
    pathTerms: files.map((f) => tokenize(f.path)),
  };
}

/** Most relevant files first (term overlap with the query, path matches weigh more), whole while they fit. */
export function selectFiles(
  files: SubmissionFile[] | FileIndex,
  query: string,
  budgetTokens: number,
): SelectedFiles {
  const index = Array.isArray(files) ? indexFiles(files) : files;
  const q = new Set(tokenize(query));
  const scored = index.files.map((f, i) => {
    let score = 0;
    for (const t of q) {
      const n = index.terms[i]!.get(t);
      if (n) score += 1 + Math.log(n);
    }
    for (const t of index.pathTerms[i]!) if (q.has(t)) score += 3;
    if (CODE_EXT.test(f.path)) score += 0.5;
    if (/(^|\/)(reproduce\.sh|reproduce\.log)$/.test(f.path)) score = -1; // shown in their own sections
    return { f, score };
  });
  scored.sort((a, b) => b.score - a.score || a.f.path.localeCompare(b.f.path));
  const included: SelectedFiles['included'] = [];
  const omitted: string[] = [];
  let left = budgetTokens;
  for (const { f, score } of scored) {
    if (score < 0) continue;
    const cost = estimateTokens(f.content) + 20;
    if (cost <= left) {
      included.push({ path: f.path, content: f.content, truncated: false });
      left -= cost;
    } else if (left > 400 && included.length === 0) {
      included.push({ path: f.path, content: f.content.slice(0, (left - 40) * 4), truncated: true });
      left = 0;
    } else omitted.push(f.path);
  }
  return { included, omitted };
}
