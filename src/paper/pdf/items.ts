/** Text items of a PDF with position and font size, read with pdf.js. */
import type { PDFDocumentProxy } from 'pdfjs-dist';
import { PaperError } from '../errors';
import { loadPdfJs } from './pdfjs-node';

export interface TextItem {
  str: string;
  /** Left edge and baseline in PDF points (origin bottom-left). */
  x: number;
  y: number;
  width: number;
  size: number;
  font: string;
}

export interface PdfPage {
  width: number;
  height: number;
  items: TextItem[];
}

const MIN_TEXT_CHARS_PER_PAGE = 20;

/** Rejects with a PaperError naming `source` for non-PDF, truncated, encrypted or text-less files. */
export async function readPdfItems(bytes: Uint8Array, source: string): Promise<PdfPage[]> {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 1024));
  if (!head.includes('%PDF-')) {
    const shown = JSON.stringify(head.slice(0, 16));
    throw new PaperError(source, `not a PDF file (it starts with ${shown}, not "%PDF-")`);
  }
  const tail = new TextDecoder('latin1').decode(bytes.subarray(Math.max(0, bytes.length - 2048)));
  if (!tail.includes('%%EOF')) {
    throw new PaperError(source, 'the PDF is truncated (no %%EOF marker at the end); download it again');
  }
  const pdfjs = await loadPdfJs();
  let pdf: PDFDocumentProxy;
  try {
    // verbosity 0: pdf.js would otherwise print recovery warnings on stderr.
    pdf = await pdfjs.getDocument({ data: new Uint8Array(bytes), verbosity: 0, isEvalSupported: false })
      .promise;
  } catch (err) {
    const name = (err as { name?: string }).name ?? '';
    if (name === 'PasswordException') {
      throw new PaperError(source, 'the PDF is encrypted (password-protected); save an unprotected copy', {
        cause: err,
      });
    }
    throw new PaperError(source, `the PDF cannot be read (${(err as Error).message}); it may be damaged`, {
      cause: err,
    });
  }
  try {
    const pages: PdfPage[] = [];
    let chars = 0;
    for (let p = 1; p <= pdf.numPages; p++) {
      const page = await pdf.getPage(p);
      const vp = page.getViewport({ scale: 1 });
      const content = await page.getTextContent();
      const items: TextItem[] = [];
      for (const it of content.items) {
        if (!('str' in it) || it.str === '') continue;
        const [a, b, c, d, e, f] = it.transform as number[];
        // Skip rotated text (arXiv side stamps, rotated table headers): not part of the reading flow.
        if (Math.abs(b ?? 0) > 0.01 || Math.abs(c ?? 0) > 0.01 || (a ?? 0) <= 0) continue;
        const size = Math.hypot(c ?? 0, d ?? 0) || Math.abs(a ?? 0);
        // Math fonts without a Unicode map (TeX CMSY) put the minus sign at code 0; other controls are noise.
        const str = it.str.replace(/\x00/g, '−').replace(/[\x01-\x08\x0b-\x1f\x7f]/g, '');
        if (str === '') continue;
        items.push({ str, x: e ?? 0, y: f ?? 0, width: it.width, size, font: it.fontName });
        chars += str.trim().length;
      }
      pages.push({ width: vp.width, height: vp.height, items });
      page.cleanup();
    }
    if (chars < MIN_TEXT_CHARS_PER_PAGE * Math.max(1, pages.length) && chars < 200) {
      throw new PaperError(
        source,
        `the PDF has no text layer (${chars} characters in ${pages.length} page(s)); it is probably scanned — run OCR on it first (e.g. ocrmypdf) or give the paper as Markdown`,
      );
    }
    return pages;
  } finally {
    await pdf.destroy();
  }
}
