/**
 * A paper's LaTeX source → Paper: arXiv's e-print (a gzipped tar, or one gzipped .tex), a local
 * .tex file, or a local source archive. The main file is the one with \documentclass.
 */
import { once } from 'node:events';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { extract } from 'tar-stream';
import { PaperError } from '../errors';
import { buildSections } from '../sections';
import { arxivBase, cacheFile, download, type FetchOptions, readCached, writeCached } from '../source';
import type { Paper } from '../types';
import { latexToMarkdown } from './document';
import { normalizePath } from './inputs';
import { stripComments } from './scan';

/** Names read as LaTeX source rather than as a PDF or Markdown. */
export function isLatexSourceName(path: string): boolean {
  return /\.(tex|ltx|tar\.gz|tgz|tar|tex\.gz|zip)$/i.test(path);
}

/** Files bigger than this are not text a paper \inputs (data, images). */
const MAX_FILE = 4 * 1024 * 1024;
const MAX_UNPACKED = 512 * 1024 * 1024;

/** Bytes as text: UTF-8, or Latin-1 for older sources that are not valid UTF-8. */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    return new TextDecoder('latin1').decode(bytes);
  }
}

const isText = (b: Uint8Array) => b.length <= MAX_FILE && !b.subarray(0, 8192).includes(0);

/**
 * The text files of a source: a tar (gzipped or not), or a single (gzipped) .tex file, which is
 * named `fallbackName`. Throws a PaperError with the reason for anything else.
 */
export async function unpackSource(
  input: Uint8Array,
  origin: string,
  fallbackName = 'main.tex',
): Promise<Map<string, string>> {
  let bytes = input;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = new Uint8Array(gunzipSync(bytes, { maxOutputLength: MAX_UNPACKED }));
    } catch (err) {
      throw new PaperError(origin, `the source archive is damaged (gzip: ${(err as Error).message})`, {
        cause: err,
      });
    }
  }
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 512));
  if (head.startsWith('%PDF-'))
    throw new PaperError(origin, 'there is no LaTeX source (the e-print is a PDF)');
  if (head.startsWith('PK\u0003\u0004') || head.startsWith('PK\u0005\u0006')) {
    const files = new Map<string, string>();
    for (const [name, data] of readZip(bytes, origin)) if (isText(data)) files.set(name, decodeText(data));
    return files;
  }
  if (/^\s*<(!doctype html|html)/i.test(head))
    throw new PaperError(origin, 'the server returned an HTML page, not a source archive');
  const files = new Map<string, string>();
  if (head.slice(257, 262) === 'ustar' || /\.(tar|tgz|tar\.gz)$/i.test(origin)) {
    for (const [name, data] of await readTar(bytes, origin))
      if (isText(data)) files.set(name, decodeText(data));
  } else if (isText(bytes)) files.set(fallbackName, decodeText(bytes));
  else throw new PaperError(origin, 'the source is neither a tar archive nor a .tex file');
  return files;
}

async function readTar(bytes: Uint8Array, origin: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const ex = extract();
  ex.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (c: unknown) => {
      const b = c as Buffer;
      size += b.length;
      if (size <= MAX_FILE + 1) chunks.push(b);
    });
    stream.on('end', () => {
      const name = normalizePath(header.name);
      // Only regular files inside the archive's root: no links, no absolute or climbing paths.
      if (header.type === 'file' && name) out.set(name, new Uint8Array(Buffer.concat(chunks)));
      next();
    });
  });
  const done = once(ex, 'finish');
  ex.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  try {
    await done;
  } catch (err) {
    throw new PaperError(origin, `the source archive is damaged (tar: ${(err as Error).message})`, {
      cause: err,
    });
  }
  return out;
}

/**
 * The files of a zip (Overleaf's "Download source"): stored or deflated entries, read through the
 * central directory. Zip64, encrypted entries and other methods are not read.
 */
export function readZip(bytes: Uint8Array, origin: string): Map<string, Uint8Array> {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const damaged = (why: string): never => {
    throw new PaperError(origin, `the zip archive is damaged or not supported (${why})`);
  };
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) damaged('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || at === 0xffffffff) damaged('zip64');
  const out = new Map<string, Uint8Array>();
  let total = 0;
  for (let k = 0; k < count; k++) {
    if (at + 46 > buf.length || buf.readUInt32LE(at) !== 0x02014b50) damaged('bad central directory');
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const size = buf.readUInt32LE(at + 20);
    const plain = buf.readUInt32LE(at + 24);
    const nameLen = buf.readUInt16LE(at + 28);
    const skip = nameLen + buf.readUInt16LE(at + 30) + buf.readUInt16LE(at + 32);
    const local = buf.readUInt32LE(at + 42);
    const name = normalizePath(buf.toString(flags & 0x800 ? 'utf8' : 'latin1', at + 46, at + 46 + nameLen));
    at += 46 + skip;
    if (!name || name.endsWith('/') || flags & 1 || plain > MAX_FILE) continue;
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) damaged('bad local header');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + size > buf.length) damaged('truncated');
    const raw = buf.subarray(start, start + size);
    let data: Buffer;
    try {
      if (method === 0) data = raw;
      else if (method === 8) data = inflateRawSync(raw, { maxOutputLength: MAX_FILE + 1 });
      else continue;
    } catch (err) {
      return damaged(`${name}: ${(err as Error).message}`);
    }
    total += data.length;
    if (total > MAX_UNPACKED) damaged('too large');
    out.set(name, new Uint8Array(data));
  }
  return out;
}

/**
 * The main file: the one 00README.json names as top level, else the one with \documentclass and
 * \begin{document} that no other file \inputs (main.tex, ms.tex … first, then the largest).
 */
export function findMainFile(files: Map<string, string>, origin: string): string {
  const readme = files.get('00README.json');
  if (readme) {
    try {
      const top = (JSON.parse(readme) as { sources?: { filename?: string; usage?: string }[] }).sources?.find(
        (s) => s.usage === 'toplevel',
      )?.filename;
      if (top && files.has(top)) return top;
    } catch {
      // A README that is not JSON is ignored; the files decide.
    }
  }
  const tex = [...files.keys()].filter((n) => /\.(tex|ltx)$/i.test(n));
  const stripped = new Map(tex.map((n) => [n, stripComments(files.get(n)!)]));
  let mains = tex.filter(
    (n) =>
      /\\document(class|style)\b/.test(stripped.get(n)!) && /\\begin\s*\{document\}/.test(stripped.get(n)!),
  );
  if (!mains.length) mains = tex.filter((n) => /\\begin\s*\{document\}/.test(stripped.get(n)!));
  if (!mains.length && tex.length === 1) return tex[0]!;
  if (!mains.length)
    throw new PaperError(
      origin,
      tex.length
        ? `no main .tex file (none of ${tex.length} has \\documentclass and \\begin{document})`
        : 'no .tex file in the source',
    );
  const included = (n: string) =>
    [...stripped.entries()].some(
      ([m, t]) =>
        m !== n &&
        new RegExp(
          `\\\\(input|include|subfile)\\s*\\{\\s*${escapeRe(n.replace(/\.tex$/, ''))}(\\.tex)?\\s*\\}`,
        ).test(t),
    );
  const rank = (n: string) =>
    (included(n) ? 0 : 8) +
    // A supplement, a rebuttal or a cover letter has a \documentclass of its own; it is not the paper.
    (/supp|appendix|rebuttal|response|cover|letter|poster|slides/i.test(basename(n)) ? 0 : 4) +
    (/^(main|ms|paper|arxiv|article)\.tex$/i.test(basename(n)) ? 2 : 0) +
    (n.includes('/') ? 0 : 1);
  return mains.sort((a, b) => rank(b) - rank(a) || files.get(b)!.length - files.get(a)!.length)[0]!;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The files of a source as a Paper; throws a PaperError when they give no usable text. */
export function paperFromLatexFiles(
  files: Map<string, string>,
  origin: string,
  source: string,
): Paper & { warnings: string[] } {
  const main = findMainFile(files, origin);
  return paperFromLatexText(files.get(main)!, (p) => files.get(p), main, origin, source);
}

function paperFromLatexText(
  text: string,
  read: (p: string) => string | undefined,
  main: string,
  origin: string,
  source: string,
): Paper & { warnings: string[] } {
  let md: ReturnType<typeof latexToMarkdown>;
  try {
    md = latexToMarkdown(text, read, main);
  } catch (err) {
    // The converter is written not to throw; if it does, the PDF is still there.
    throw new PaperError(origin, `the LaTeX could not be read (${(err as Error).message})`, { cause: err });
  }
  const body = md.markdown.replace(/^# .*\n/, '');
  if ((body.match(/\p{L}/gu) ?? []).length < 100)
    throw new PaperError(origin, `the LaTeX source of ${main} gave almost no text`);
  return {
    title: md.title,
    authors: md.authors,
    abstract: md.abstract,
    markdown: md.markdown,
    sections: buildSections(md.markdown),
    source,
    format: 'latex',
    warnings: md.warnings,
  };
}

/** A local .tex file (its \inputs read beside it) or a local source archive. */
export async function paperFromLatexPath(path: string): Promise<Paper & { warnings: string[] }> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new PaperError(path, code === 'ENOENT' ? 'file not found' : (err as Error).message, { cause: err });
  }
  let paper: Paper & { warnings: string[] };
  if (/\.(tex|ltx)$/i.test(path)) {
    const root = dirname(path);
    // \input'd files are read from the .tex file's folder and below, nowhere else.
    const read = (p: string) => {
      const n = normalizePath(p);
      if (n === undefined) return undefined;
      try {
        const f = join(root, n);
        return statSync(f).isFile() && statSync(f).size <= MAX_FILE ? decodeText(readFileSync(f)) : undefined;
      } catch {
        return undefined;
      }
    };
    paper = paperFromLatexText(decodeText(bytes), read, basename(path), path, path);
  } else {
    const name = basename(path).replace(/\.gz$/i, '');
    paper = paperFromLatexFiles(await unpackSource(bytes, path, name), path, path);
  }
  // A PDF beside the source (paper.tex → paper.pdf) is what the paper panel shows.
  const pdf = path.replace(/\.(tex|ltx|tar\.gz|tgz|tar|tex\.gz|zip)$/i, '.pdf');
  if (pdf !== path && existsSync(pdf)) paper.pdfFile = pdf;
  return paper;
}

/**
 * An arXiv paper read from its e-print (cached once it has been read: a broken archive is not kept,
 * so a later load tries again).
 */
export async function arxivLatexPaper(
  id: string,
  source: string,
  opts: FetchOptions,
): Promise<Paper & { warnings: string[] }> {
  const url = `${arxivBase(opts)}/e-print/${id}`;
  const file = cacheFile(opts.cacheDir, url, '.eprint');
  const cached = await readCached(file);
  const bytes = cached ?? (await download(url, opts)).bytes;
  const files = await unpackSource(bytes, url, `${id.replace(/\W/g, '_')}.tex`);
  const paper = paperFromLatexFiles(files, url, source);
  if (!cached) await writeCached(file, bytes);
  return paper;
}
