/** Paper loading: source → bytes → Markdown + section index. */
import { PaperError } from './errors';
import { markdownMeta } from './markdown-input';
import { readPdfItems } from './pdf-items';
import { layoutLines } from './pdf-layout';
import { linesToMarkdown } from './pdf-markdown';
import { buildSections } from './sections';
import { type FetchOptions, fetchSource, resolveSource } from './source';
import type { Paper } from './types';

export async function paperFromPdf(bytes: Uint8Array, source: string): Promise<Paper> {
  const pages = await readPdfItems(bytes, source);
  const md = linesToMarkdown(layoutLines(pages));
  return { ...md, sections: buildSections(md.markdown), source };
}

export function paperFromMarkdown(markdown: string, source: string): Paper {
  const text = markdown.replace(/\r\n/g, '\n');
  if (!text.trim()) throw new PaperError(source, 'the Markdown file is empty');
  const meta = markdownMeta(text);
  return { ...meta, markdown: text, sections: buildSections(text), source };
}

/**
 * Loads a paper from a file path (PDF or .md), an http(s) URL, or an arXiv id/URL.
 * Rejects with a PaperError naming the file or URL.
 */
export async function loadPaper(source: string, opts: FetchOptions): Promise<Paper> {
  const src = resolveSource(source, opts.arxivBaseUrl);
  const got = await fetchSource(src, opts);
  const head = new TextDecoder('latin1').decode(got.bytes.subarray(0, 1024));
  if (got.markdown && !head.includes('%PDF-')) {
    return paperFromMarkdown(new TextDecoder('utf-8').decode(got.bytes), got.origin);
  }
  return paperFromPdf(got.bytes, got.origin);
}
