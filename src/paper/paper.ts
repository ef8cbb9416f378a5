/** Paper loading: source → bytes → Markdown + section index. */
import { PaperError } from './errors';
import { arxivLatexPaper, isLatexSourceName, paperFromLatexPath } from './latex/source';
import { markdownMeta } from './markdown-input';
import { readPdfItems } from './pdf/items';
import { layoutLines } from './pdf/layout';
import { linesToMarkdown } from './pdf/markdown';
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
  return { ...meta, markdown: text, sections: buildSections(text), source, format: 'markdown' };
}

/**
 * Loads a paper from a file path (PDF, .md, .tex or a LaTeX source archive), an http(s) URL, or an
 * arXiv id/URL (its LaTeX source when it has one, so equations stay as written; else its PDF).
 * Rejects with a PaperError naming the file or URL.
 */
export async function loadPaper(source: string, opts: FetchOptions): Promise<Paper> {
  const src = resolveSource(source, opts.arxivBaseUrl);
  if (src.kind === 'file' && isLatexSourceName(src.path)) {
    const { warnings, ...paper } = await paperFromLatexPath(src.path);
    for (const w of warnings) opts.onWarning?.(`${src.path}: ${w}`);
    return paper;
  }
  if (src.kind === 'url' && src.arxivId && opts.latex !== false) return loadArxiv(src.url, src.arxivId, opts);
  const got = await fetchSource(src, opts);
  const head = new TextDecoder('latin1').decode(got.bytes.subarray(0, 1024));
  if (got.markdown && !head.includes('%PDF-')) {
    return paperFromMarkdown(new TextDecoder('utf-8').decode(got.bytes), got.origin);
  }
  return { ...(await paperFromPdf(got.bytes, got.origin)), ...(got.file ? { pdfFile: got.file } : {}) };
}

/** The text from the e-print's LaTeX, the PDF for the panel; either failing leaves the other. */
async function loadArxiv(pdfUrl: string, id: string, opts: FetchOptions): Promise<Paper> {
  const [tex, pdf] = await Promise.allSettled([
    arxivLatexPaper(id, pdfUrl, opts),
    fetchSource({ kind: 'url', url: pdfUrl, arxivId: id }, opts),
  ]);
  const why = (r: PromiseRejectedResult) => (r.reason instanceof Error ? r.reason.message : String(r.reason));
  if (tex.status === 'fulfilled') {
    const { warnings, ...paper } = tex.value;
    for (const w of warnings) opts.onWarning?.(`arXiv ${id}: ${w}`);
    // Files the source \inputs but does not ship may hold whole sections: then the PDF says more.
    const missing = warnings.filter((w) => /no such file/.test(w));
    if (missing.length && pdf.status === 'fulfilled') {
      const fromPdf = await paperFromPdf(pdf.value.bytes, pdf.value.origin).catch(() => undefined);
      if (fromPdf && letters(paper.markdown) < 0.5 * letters(fromPdf.markdown)) {
        opts.onWarning?.(
          `arXiv ${id}: reading the PDF's text (equations may be garbled) because the LaTeX source is missing files (${missing.length}) and gives less than half of the PDF's text`,
        );
        return { ...fromPdf, ...(pdf.value.file ? { pdfFile: pdf.value.file } : {}) };
      }
    }
    if (pdf.status === 'fulfilled' && pdf.value.file) paper.pdfFile = pdf.value.file;
    else if (pdf.status === 'rejected')
      opts.onWarning?.(
        `arXiv ${id}: read from its LaTeX source, but the PDF for the paper panel failed: ${why(pdf)}`,
      );
    return paper;
  }
  if (pdf.status === 'rejected') throw pdf.reason;
  opts.onWarning?.(
    `arXiv ${id}: reading the PDF's text (equations may be garbled) because the LaTeX source could not be used: ${why(tex)}`,
  );
  const got = pdf.value;
  return { ...(await paperFromPdf(got.bytes, got.origin)), ...(got.file ? { pdfFile: got.file } : {}) };
}

const letters = (s: string) => (s.match(/\p{L}/gu) ?? []).length;
