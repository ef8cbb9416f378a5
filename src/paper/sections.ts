/** Section index of a Markdown paper: ids, levels and character ranges from its headings. */
import type { Section } from './types';

export interface MarkdownHeading {
  hashes: number;
  text: string;
  /** Offset of the heading line in the Markdown. */
  offset: number;
}

/** ATX headings outside fenced code blocks. */
export function markdownHeadings(md: string): MarkdownHeading[] {
  const out: MarkdownHeading[] = [];
  let fence: string | undefined;
  let offset = 0;
  // A YAML front matter block is not part of the text (its closing --- is not a setext underline).
  const fm = /^---\r?\n[\s\S]*?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|$)/.exec(md);
  if (fm) offset = fm[0].length;
  const lines = md.slice(offset).split('\n');
  let prev = '';
  let prevOffset = 0;
  for (const line of lines) {
    const f = /^\s{0,3}(```|~~~)/.exec(line);
    if (f) fence = fence ? (fence === f[1] ? undefined : fence) : f[1];
    else if (!fence) {
      const m = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
      if (m?.[2]) out.push({ hashes: m[1]!.length, text: m[2], offset });
      // Setext headings: "Title\n=====" and "Section\n-------" (not a table rule, not front matter).
      const setext = /^ {0,3}(=+|-+)\s*$/.exec(line);
      if (setext && /\S/.test(prev) && !/^ {0,3}(#|[-*+] |>|\||---)/.test(prev))
        out.push({ hashes: setext[1]!.startsWith('=') ? 1 : 2, text: prev.trim(), offset: prevOffset });
    }
    prev = fence ? '' : line;
    prevOffset = offset;
    offset += line.length + 1;
  }
  return out;
}

export function slugify(s: string): string {
  return (
    s
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[$*_`\\]/g, '')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'section'
  );
}

const NUMBER_RE = /^((?:\d{1,2}(?:\.\d{1,2}){0,3})|[A-H](?:\.\d{1,2}){0,2}|[IVX]{1,4})\.?\s+\S/;

/**
 * Sections from headings. A lone leading H1 is the title, not a section; levels start at 1.
 * A section's range runs to the next heading of the same or a higher level (it includes its subsections).
 */
export function buildSections(md: string): Section[] {
  let hs = markdownHeadings(md);
  const h1 = hs.filter((h) => h.hashes === 1);
  if (h1.length === 1 && hs[0]?.hashes === 1) hs = hs.slice(1);
  const minHashes = Math.min(...hs.map((h) => h.hashes));
  const used = new Map<string, number>();
  const sections: Section[] = hs.map((h) => {
    const num = NUMBER_RE.exec(h.text);
    let id = num ? num[1]! : slugify(h.text);
    const n = (used.get(id) ?? 0) + 1;
    used.set(id, n);
    if (n > 1) id = `${id}-${n}`;
    return { id, title: h.text, level: h.hashes - minHashes + 1, start: h.offset, end: md.length };
  });
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i]!;
    const next = sections.slice(i + 1).find((t) => t.level <= s.level);
    s.end = next ? next.start : md.length;
  }
  return sections;
}
