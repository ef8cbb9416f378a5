/** The agent's read_paper tool sees the paper through this: sections by id, search, and the index. */
import { findSection, PaperIndex } from './search';
import type { Paper } from './types';

export interface PaperReader {
  /** Markdown of the section (with subsections), or undefined for an unknown id. */
  section(id: string): string | undefined;
  /** Ranked snippets, each with its section id, as text for the model. */
  search(query: string): string;
  /** The section index as text: ids, titles, sizes. */
  index(): string;
}

export function formatIndex(paper: Paper): string {
  const lines = paper.sections.map(
    (s) => `${'  '.repeat(s.level - 1)}[${s.id}] ${s.title} (${s.end - s.start} chars)`,
  );
  return [`${paper.title} — ${paper.sections.length} sections`, ...lines].join('\n');
}

export function createPaperReader(
  paper: Paper,
  opts: { maxSectionChars?: number; hits?: number } = {},
): PaperReader {
  const index = new PaperIndex(paper);
  const max = opts.maxSectionChars ?? 30_000;
  return {
    section(id) {
      const s = findSection(paper, id);
      if (!s) return undefined;
      const text = paper.markdown.slice(s.start, s.end).trimEnd();
      if (text.length <= max) return text;
      const subs = paper.sections
        .filter((t) => t.start > s.start && t.start < s.end)
        .map((t) => `[${t.id}] ${t.title}`);
      return `${text.slice(0, max)}\n\n[… section truncated at ${max} of ${text.length} chars; read its subsections: ${subs.join(', ') || 'none'}]`;
    },
    search(query) {
      const hits = index.search(query, opts.hits ?? 5);
      if (!hits.length) return `No passage of the paper matches "${query}". Sections:\n${formatIndex(paper)}`;
      return hits
        .map((h, i) => `${i + 1}. [${h.sectionId || '-'}] ${h.sectionTitle}\n   ${h.snippet}`)
        .join('\n');
    },
    index: () => formatIndex(paper),
  };
}
