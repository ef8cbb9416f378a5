/** Where a paper comes from: a local file, an http(s) URL, or an arXiv id/URL; downloads are cached by URL. */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { PaperError } from './errors';

export type PaperSource = { kind: 'file'; path: string } | { kind: 'url'; url: string; arxivId?: string };

export interface FetchOptions {
  /** Directory for downloaded papers (created if missing). */
  cacheDir: string;
  fetch?: typeof globalThis.fetch;
  /** Default $KLONG_ARXIV_BASE or https://arxiv.org; tests point it at a loopback server. */
  arxivBaseUrl?: string;
  timeoutMs?: number;
  /** For arXiv papers, read the LaTeX source (default true); the PDF is downloaded either way. */
  latex?: boolean;
  /** Told why a paper was read a second-best way (the LaTeX source fell back to the PDF, …). */
  onWarning?: (message: string) => void;
}

/** Where arXiv is: the option, else $KLONG_ARXIV_BASE (a mirror, or a test server), else arxiv.org. */
export function arxivBase(opts?: { arxivBaseUrl?: string | undefined }): string {
  return (opts?.arxivBaseUrl || process.env.KLONG_ARXIV_BASE || 'https://arxiv.org').replace(/\/+$/, '');
}

const ARXIV_ID = /^(?:arxiv:)?(\d{4}\.\d{4,5}(?:v\d+)?|[a-z-]+(?:\.[A-Z]{2})?\/\d{7}(?:v\d+)?)$/i;
const ARXIV_HOSTS = /^(?:www\.|export\.)?arxiv\.org$/i;

export function resolveSource(input: string, arxivBaseUrl?: string): PaperSource {
  const s = input.trim();
  const base = arxivBase({ arxivBaseUrl });
  const id = ARXIV_ID.exec(s);
  if (id) return { kind: 'url', url: `${base}/pdf/${id[1]}`, arxivId: id[1]! };
  const withScheme = /^arxiv\.org\//i.test(s) || /^www\.arxiv\.org\//i.test(s) ? `https://${s}` : s;
  if (/^https?:\/\//i.test(withScheme)) {
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new PaperError(s, 'not a valid URL');
    }
    if (ARXIV_HOSTS.test(u.hostname)) {
      const m = /^\/(?:abs|pdf|html)\/(.+?)(?:\.pdf)?\/?$/.exec(u.pathname);
      if (!m || !ARXIV_ID.test(m[1]!))
        throw new PaperError(s, 'not an arXiv paper URL (expected arxiv.org/abs/<id> or /pdf/<id>)');
      return { kind: 'url', url: `${base}/pdf/${m[1]}`, arxivId: m[1]! };
    }
    return { kind: 'url', url: u.toString() };
  }
  const path = s.startsWith('~/') ? join(homedir(), s.slice(2)) : resolve(s);
  return { kind: 'file', path };
}

export interface FetchedPaper {
  bytes: Uint8Array;
  /** File path, or the URL it was downloaded from. */
  origin: string;
  /** Hint from the name or content type. */
  markdown: boolean;
  fromCache: boolean;
  /** The bytes on disk: the file given, or the download in the cache. */
  file?: string;
}

/** A PDF by its header (within the first KB, as readers allow), whatever the name or content type says. */
export function isPdfBytes(bytes: Uint8Array): boolean {
  return new TextDecoder('latin1').decode(bytes.subarray(0, 1024)).includes('%PDF-');
}

function isMarkdownName(name: string): boolean {
  return ['.md', '.markdown'].includes(extname(name.split(/[?#]/)[0]!).toLowerCase());
}

export async function fetchSource(src: PaperSource, opts: FetchOptions): Promise<FetchedPaper> {
  if (src.kind === 'file') {
    try {
      const bytes = new Uint8Array(await readFile(src.path));
      return {
        bytes,
        origin: src.path,
        markdown: isMarkdownName(src.path),
        fromCache: false,
        file: src.path,
      };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw new PaperError(src.path, why, { cause: err });
    }
  }
  const url = src.url;
  const md = isMarkdownName(url);
  const cached = cacheFile(opts.cacheDir, url, md ? '.md' : '.pdf');
  const hit = await readCached(cached);
  // Only PDFs and Markdown are cached, under the name's extension: Markdown served as text/markdown
  // from a name without .md sits in a .pdf file, so the bytes decide.
  if (hit) return { bytes: hit, origin: url, markdown: !isPdfBytes(hit), fromCache: true, file: cached };
  const { bytes, type } = await download(url, opts);
  const isPdf = isPdfBytes(bytes);
  const isMd = md || /text\/(markdown|x-markdown)/i.test(type);
  if (!isPdf && !isMd) {
    const what = /html/i.test(type) ? 'an HTML page' : `content of type "${type || 'unknown'}"`;
    throw new PaperError(url, `the server returned ${what}, not a PDF; give a direct link to the PDF`);
  }
  await writeCached(cached, bytes);
  return { bytes, origin: url, markdown: !isPdf, fromCache: false, file: cached };
}

/** The cache file of a download: named by a hash of its URL. */
export function cacheFile(cacheDir: string, url: string, ext: string): string {
  return join(cacheDir, `${createHash('sha256').update(url).digest('hex').slice(0, 32)}${ext}`);
}

export async function readCached(file: string): Promise<Uint8Array | undefined> {
  const ok = await stat(file).then(
    (s) => s.isFile() && s.size > 0,
    () => false,
  );
  return ok ? new Uint8Array(await readFile(file)) : undefined;
}

/** Written whole or not at all (a temp file renamed), so a reader never sees half a download. */
export async function writeCached(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, file);
}

/** GET with a timeout; every failure is a PaperError naming the URL and what to do. */
export async function download(
  url: string,
  opts: Pick<FetchOptions, 'fetch' | 'timeoutMs'>,
): Promise<{ bytes: Uint8Array; type: string }> {
  const doFetch = opts.fetch ?? globalThis.fetch;
  const timeoutMs = opts.timeoutMs ?? 60_000;
  let res: Response;
  let bytes: Uint8Array;
  try {
    res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'follow' });
    if (!res.ok) {
      throw new PaperError(url, `download failed: HTTP ${res.status} ${res.statusText}`.trim());
    }
    bytes = new Uint8Array(await res.arrayBuffer());
  } catch (err) {
    if (err instanceof PaperError) throw err;
    const name = (err as Error).name;
    const why =
      name === 'TimeoutError' || name === 'AbortError'
        ? `download timed out after ${Math.round(timeoutMs / 1000)} s`
        : `download failed (${(err as Error).message}${(err as { cause?: Error }).cause ? `: ${(err as { cause?: Error }).cause?.message}` : ''})`;
    throw new PaperError(url, `${why}; check the network, or download the paper and give its file path`, {
      cause: err,
    });
  }
  return { bytes, type: res.headers.get('content-type') ?? '' };
}
