/** Reading-order lines → Markdown with title, authors, abstract, headings, paragraphs, lists, captions, tables. */

import { type Block, extractAbstract, type Join, renderBlocks, textBlocks } from './blocks';
import type { Line } from './layout';
import {
  CAPTION_RE,
  fixLigatures,
  isKnownSectionName,
  isNameLike,
  joinWrapped,
  NUMBERED_HEADING_RE,
  splitAuthors,
  vocabulary,
} from './text';

export interface PdfMarkdown {
  title: string;
  authors: string[];
  abstract: string;
  markdown: string;
}

interface HeadingCandidate {
  index: number;
  count: number;
  text: string;
  size: number;
  number?: string;
}

const round = (n: number) => Math.round(n * 2) / 2;

export function linesToMarkdown(input: Line[]): PdfMarkdown {
  const lines = input.map((l) => ({ ...l, text: fixLigatures(l.text), plain: fixLigatures(l.plain) }));
  const body = bodyStyle(lines);
  const vocab = vocabulary(lines.map((l) => l.text));
  const join = (a: string, b: string) => joinWrapped(a, b, vocab);
  const { title, titleEnd } = findTitle(lines, body.size, join);
  const authorIdx = findAuthors(lines, titleEnd);
  const headings = findHeadings(lines, body, titleEnd, new Set(authorIdx), join);
  const authors = authorIdx.flatMap((i) => {
    const l = lines[i]!;
    const byCell = l.cells.length > 1 ? l.cells.flatMap((c) => splitAuthors(stripMarks(c.text))) : [];
    return byCell.length && byCell.every(isNameLike) ? byCell : splitAuthors(l.plain);
  });
  const levels = headingLevels(headings, body.size);

  const footnotes = markFootnotes(lines, body.size);
  const skip = new Set<number>(authorIdx);
  for (let i = 0; i < titleEnd; i++) skip.add(i);
  const blocks: Block[] = [];
  const byIndex = new Map(headings.map((h, k) => [h.index, { h, level: levels[k]! }]));
  let i = titleEnd;
  let run: Line[] = [];
  let notes: Line[] = [];
  // Footnotes would split a paragraph that crosses a page: they go after the section's text.
  const flushRun = () => {
    blocks.push(...textBlocks(run, body.size));
    if (notes.length) blocks.push({ kind: 'footnote', lines: notes });
    run = [];
    notes = [];
  };
  while (i < lines.length) {
    const hd = byIndex.get(i);
    if (hd) {
      flushRun();
      blocks.push({ kind: 'heading', text: hd.h.text, level: hd.level });
      i += hd.h.count;
      continue;
    }
    if (!skip.has(i)) {
      if (footnotes.has(i)) notes.push(lines[i]!);
      else run.push(lines[i]!);
    }
    i++;
  }
  flushRun();
  const abstract = extractAbstract(blocks, join);
  const md = [`# ${title || 'Untitled'}`];
  if (authors.length) md.push(`*${authors.join(', ')}*`);
  md.push(...renderBlocks(blocks, join));
  return { title, authors, abstract, markdown: `${md.join('\n\n')}\n` };
}

function bodyStyle(lines: Line[]): { size: number; font: string } {
  const sizes = new Map<number, number>();
  const fonts = new Map<string, number>();
  for (const l of lines) {
    sizes.set(round(l.size), (sizes.get(round(l.size)) ?? 0) + l.text.length);
    fonts.set(l.font, (fonts.get(l.font) ?? 0) + l.text.length);
  }
  const top = <K>(m: Map<K, number>, d: K) => [...m].sort((a, b) => b[1] - a[1])[0]?.[0] ?? d;
  return { size: top(sizes, 10), font: top(fonts, '') };
}

/** Largest text in the top part of page 1; consecutive lines of that size form the title. */
function findTitle(lines: Line[], bodySize: number, join: Join): { title: string; titleEnd: number } {
  let best = -1;
  for (let i = 0; i < lines.length && lines[i]!.page === 1; i++) {
    const l = lines[i]!;
    if (!/\p{L}{3}/u.test(l.text) || l.size < bodySize * 1.15) continue;
    // A numbered or standard section heading is not the title (a first page without one).
    if (/^\d{1,2}(\.\d{1,2})*\.?\s+\p{Lu}/u.test(l.plain) || isKnownSectionName(l.plain)) continue;
    if (best < 0 || l.size > lines[best]!.size + 0.3) best = i;
  }
  if (best < 0) return { title: '', titleEnd: 0 };
  let end = best + 1;
  while (
    end < lines.length &&
    lines[end]!.page === 1 &&
    Math.abs(lines[end]!.size - lines[best]!.size) < 0.3 &&
    lines[end - 1]!.y - lines[end]!.y < 2 * lines[best]!.size
  )
    end++;
  const title = lines
    .slice(best, end)
    .map((l) => l.plain)
    .reduce(join, '');
  return { title, titleEnd: end };
}

/** Footnote marks glued to names: "Vaswani∗", "Lieske2", "Smith1,2". */
function stripMarks(s: string): string {
  return s
    .replace(/(\p{L})[\d,∗*†‡§¶]+(?=\s|,|$)/gu, '$1')
    .replace(/\s+[\d,∗*†‡§¶]+(?=\s|$)/gu, '')
    .trim();
}

function findAuthors(lines: Line[], from: number): number[] {
  const out: number[] = [];
  for (let i = from; i < Math.min(lines.length, from + 8); i++) {
    const l = lines[i]!;
    if (isKnownSectionName(l.plain)) break;
    const ok = (names: string[]) =>
      names.length > 0 && names.filter(isNameLike).length >= Math.ceil(names.length * 0.75);
    // Names set apart in a row (one per cell, "Ada Lovelace¹   Alan Turing²") or written as a list.
    const byCell = l.cells.length > 1 ? l.cells.flatMap((c) => splitAuthors(stripMarks(c.text))) : [];
    if (ok(splitAuthors(l.plain)) || ok(byCell)) out.push(i);
    else if (out.length) break;
  }
  return out;
}

function headingInfo(
  l: Line,
  body: { size: number; font: string },
): { text: string; number?: string } | undefined {
  const text = l.plain.trim();
  if (text.length < 2 || text.length > 120 || !/\p{L}/u.test(text)) return undefined;
  if (CAPTION_RE.test(text) || /[,;]$/.test(text) || text.split(/\s+/).length > 14) return undefined;
  const bigger = l.size >= body.size * 1.1;
  const other = l.font !== body.font && l.size >= body.size * 0.95;
  const num = NUMBERED_HEADING_RE.exec(text);
  if (num && /^\p{Lu}/u.test(num[2]!) && !/\.$/.test(num[2]!) && (bigger || other) && num[2]!.length <= 90)
    return { text, number: num[1]!.replace(/\.$/, '') };
  if (bigger && /^[\p{Lu}\p{N}]/u.test(text) && !/[.:]$/.test(text)) return { text };
  if (other && isKnownSectionName(text)) return { text };
  // Same font as the body but a standard section name alone on its line ("INTRODUCTION", "5 Conclusion").
  const bare = num ? num[2]! : text;
  // (LaTeX's article class sets "Abstract" smaller than the body.)
  if (isKnownSectionName(bare) && text.length <= 40 && l.size >= body.size * 0.85)
    return { text, ...(num ? { number: num[1]!.replace(/\.$/, '') } : {}) };
  return undefined;
}

function findHeadings(
  lines: Line[],
  body: { size: number; font: string },
  from: number,
  exclude: Set<number>,
  join: Join,
): HeadingCandidate[] {
  const out: HeadingCandidate[] = [];
  for (let i = from; i < lines.length; i++) {
    const l = lines[i]!;
    if (exclude.has(i)) continue;
    const info = headingInfo(l, body);
    if (!info) continue;
    // A heading stands on its own line: the next line of a heading-sized font continues it.
    let count = 1;
    let text = info.text;
    while (i + count < lines.length && count < 3) {
      const n = lines[i + count]!;
      const p = lines[i + count - 1]!;
      if (Math.abs(n.size - l.size) > 0.3 || n.font !== l.font || n.page !== l.page) break;
      if (p.y - n.y > 1.6 * l.size || l.size < body.size * 1.1) break;
      text = join(text, n.plain.trim());
      count++;
    }
    out.push({ index: i, count, text, size: l.size, ...(info.number ? { number: info.number } : {}) });
    i += count - 1;
  }
  return out;
}

/** Numbered headings: depth of the number. Others: rank of their font size among heading sizes. */
function headingLevels(hs: HeadingCandidate[], bodySize: number): number[] {
  const sizeToLevel = new Map<number, number>();
  for (const h of hs)
    if (h.number && /^\d/.test(h.number) && !sizeToLevel.has(round(h.size)))
      sizeToLevel.set(round(h.size), h.number.split('.').length);
  const sizes = [...new Set(hs.map((h) => round(Math.max(h.size, bodySize))))].sort((a, b) => b - a);
  const numbered = sizeToLevel.size > 0;
  return hs.map((h) => {
    if (h.number) return h.number.split('.').length;
    // Unnumbered front/back matter of a numbered paper sits at the top level, whatever its font size.
    if (
      numbered &&
      /^(abstract|references|bibliography|acknowledge?ments?|appendix|appendices)$/i.test(h.text)
    )
      return 1;
    return sizeToLevel.get(round(h.size)) ?? sizes.indexOf(round(Math.max(h.size, bodySize))) + 1;
  });
}

/** Small-print lines below the last body line of their page column (footnotes, copyright), set apart. */
function markFootnotes(lines: Line[], bodySize: number): Set<number> {
  const lowestBody = new Map<string, number>();
  const key = (l: Line) => `${l.page}:${Math.round(l.colLeft)}`;
  for (const l of lines)
    if (l.size >= bodySize * 0.95) lowestBody.set(key(l), Math.min(lowestBody.get(key(l)) ?? Infinity, l.y));
  const out = new Set<number>();
  let caption = false; // inside a caption: its continuation lines are not footnotes
  lines.forEach((l, i) => {
    const prev = lines[i - 1];
    const continues =
      prev !== undefined &&
      prev.page === l.page &&
      Math.abs(prev.size - l.size) < 0.3 &&
      prev.y > l.y &&
      prev.y - l.y < 1.8 * l.size;
    caption = CAPTION_RE.test(l.text) || (caption && continues);
    const lowest = lowestBody.get(key(l));
    if (!caption && lowest !== undefined && l.size < bodySize * 0.9 && l.y < lowest && l.y < 250) out.add(i);
  });
  return out;
}
