/** Section lookup and ranked search over a paper's Markdown (BM25 over paragraphs). */
import { slugify } from './sections';
import type { Paper, Section } from './types';

export interface SearchHit {
  sectionId: string;
  sectionTitle: string;
  score: number;
  /** Character offset of the matching paragraph in the Markdown. */
  start: number;
  snippet: string;
}

interface Chunk {
  start: number;
  text: string;
  terms: Map<string, number>;
  length: number;
  section?: Section;
}

const STOP = new Set(
  'a an and are as at be by for from how in is it of on or that the this to was what when where which with we our does do'.split(
    ' ',
  ),
);

export function tokenize(s: string): string[] {
  return (s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter(
    (t) => !STOP.has(t) && (t.length > 1 || /\d/.test(t)),
  );
}

/** Looks a section up by id ("3.1", "introduction"), exact title, or slug of the title; case-insensitive. */
export function findSection(paper: Paper, key: string): Section | undefined {
  const k = key.trim().toLowerCase();
  return (
    paper.sections.find((s) => s.id.toLowerCase() === k) ??
    paper.sections.find((s) => s.title.toLowerCase() === k) ??
    paper.sections.find((s) => slugify(s.title) === slugify(key))
  );
}

/** The Markdown of one section, subsections included; undefined for an unknown id. */
export function readSection(paper: Paper, key: string): string | undefined {
  const s = findSection(paper, key);
  return s ? paper.markdown.slice(s.start, s.end).trimEnd() : undefined;
}

export class PaperIndex {
  private readonly chunks: Chunk[] = [];
  private readonly df = new Map<string, number>();
  private readonly avgLength: number;

  constructor(readonly paper: Paper) {
    const re = /\n{2,}/g;
    let start = 0;
    const md = paper.markdown;
    const push = (end: number) => {
      const text = md.slice(start, end).trim();
      if (text) {
        const toks = tokenize(text);
        const terms = new Map<string, number>();
        for (const t of toks) terms.set(t, (terms.get(t) ?? 0) + 1);
        const offset = start + (md.slice(start, end).length - md.slice(start, end).trimStart().length);
        const section = this.sectionAt(offset);
        this.chunks.push({
          start: offset,
          text,
          terms,
          length: toks.length,
          ...(section ? { section } : {}),
        });
        for (const t of terms.keys()) this.df.set(t, (this.df.get(t) ?? 0) + 1);
      }
    };
    for (let m = re.exec(md); m; m = re.exec(md)) {
      push(m.index);
      start = m.index + m[0].length;
    }
    push(md.length);
    this.avgLength = this.chunks.reduce((n, c) => n + c.length, 0) / Math.max(1, this.chunks.length);
  }

  /** Deepest section containing the offset. */
  sectionAt(offset: number): Section | undefined {
    let best: Section | undefined;
    for (const s of this.paper.sections)
      if (s.start <= offset && offset < s.end && (!best || s.level >= best.level)) best = s;
    return best;
  }

  /** Whole paragraphs most relevant to `query`, with their section, within `maxChars` (abstract if none match). */
  excerpt(query: string, maxChars: number): string {
    const hits = this.search(query, 30);
    const parts: string[] = [];
    let used = 0;
    for (const h of hits) {
      const c = this.chunks.find((x) => x.start === h.start);
      if (!c || /^#{1,6} /.test(c.text)) continue;
      const part = `[${h.sectionId || '-'} ${h.sectionTitle}] ${c.text}`;
      if (used + part.length > maxChars) {
        if (!parts.length) parts.push(part.slice(0, maxChars));
        break;
      }
      parts.push(part);
      used += part.length + 2;
    }
    if (!parts.length && this.paper.abstract)
      parts.push(`[abstract] ${this.paper.abstract.slice(0, maxChars)}`);
    return parts.join('\n\n');
  }

  search(query: string, limit = 5): SearchHit[] {
    const q = [...new Set(tokenize(query))];
    if (!q.length) return [];
    const n = this.chunks.length;
    const phrase = query.trim().toLowerCase();
    const scored = this.chunks.map((c) => {
      let score = 0;
      for (const t of q) {
        const tf = c.terms.get(t) ?? 0;
        const titleHit = c.section && tokenize(c.section.title).includes(t) ? 0.5 : 0;
        if (!tf) {
          score += titleHit;
          continue;
        }
        const df = this.df.get(t) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += idf * ((tf * 2.2) / (tf + 1.2 * (0.25 + 0.75 * (c.length / this.avgLength)))) + titleHit;
      }
      if (phrase.length > 3 && c.text.toLowerCase().includes(phrase)) score *= 1.5;
      return { c, score };
    });
    return scored
      .filter((s) => s.score > 0 && q.some((t) => s.c.terms.has(t)))
      .sort((a, b) => b.score - a.score || a.c.start - b.c.start)
      .slice(0, limit)
      .map(({ c, score }) => ({
        sectionId: c.section?.id ?? '',
        sectionTitle: c.section?.title ?? '(front matter)',
        score: Math.round(score * 1000) / 1000,
        start: c.start,
        snippet: snippet(c.text, q),
      }));
  }
}

/** About 300 characters around the first query term. */
function snippet(text: string, terms: string[], width = 300): string {
  const lower = text.toLowerCase();
  const first = Math.min(...terms.map((t) => lower.indexOf(t)).filter((i) => i >= 0), text.length);
  const from = Math.max(0, Math.min(first - width / 3, text.length - width));
  const s = text
    .slice(from, from + width)
    .replace(/\s+/g, ' ')
    .trim();
  return `${from > 0 ? '…' : ''}${s}${from + width < text.length ? '…' : ''}`;
}

export function searchPaper(paper: Paper, query: string, limit = 5): SearchHit[] {
  return new PaperIndex(paper).search(query, limit);
}
