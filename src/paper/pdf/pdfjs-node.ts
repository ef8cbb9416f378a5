/**
 * pdf.js in Node, loaded from the very files the paper panel's webview uses (pdf.js's legacy build,
 * copied to dist/webview/pdfjs), so that a .vsix ships pdf.js once. Only text is extracted here: no
 * canvas, and the "worker" runs in this thread (pdf.js's fake worker imports pdf.worker.min.mjs).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as PdfJs from 'pdfjs-dist';

export type PdfJsModule = typeof PdfJs;

/** Beside the bundle (dist/webview/pdfjs) when bundled; from node_modules when run from sources. */
function pdfjsDir(): string {
  const shipped = join(__dirname, 'webview', 'pdfjs');
  if (existsSync(join(shipped, 'pdf.min.mjs'))) return shipped;
  return dirname(createRequire(__filename).resolve('pdfjs-dist/legacy/build/pdf.min.mjs'));
}

/** pdf.js builds a constant from DOMMatrix while it loads; text extraction never uses it otherwise. */
class IdentityMatrix {
  a = 1;
  b = 0;
  c = 0;
  d = 1;
  e = 0;
  f = 0;
}

let loading: Promise<PdfJsModule> | undefined;

export function loadPdfJs(): Promise<PdfJsModule> {
  loading ??= (async () => {
    const g = globalThis as { DOMMatrix?: unknown };
    g.DOMMatrix ??= IdentityMatrix;
    const dir = pdfjsDir();
    // While it loads, pdf.js warns that it cannot find a canvas (@napi-rs/canvas) for rendering,
    // which text extraction does not need: keep those lines off the CLI's stderr and the host log.
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!/^Warning: Cannot (load "@napi-rs\/canvas"|polyfill)/.test(String(args[0]))) warn(...args);
    };
    try {
      const pdfjs = (await import(pathToFileURL(join(dir, 'pdf.min.mjs')).href)) as PdfJsModule;
      pdfjs.GlobalWorkerOptions.workerSrc = pathToFileURL(join(dir, 'pdf.worker.min.mjs')).href;
      return pdfjs;
    } finally {
      console.warn = warn;
    }
  })();
  return loading;
}
