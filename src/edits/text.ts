/**
 * Bytes ↔ text for proposals. Diffs and merges work on LF-normalised text; each side remembers its
 * own line ending and BOM so that what is written back keeps the style of the file it lands in.
 */

export type Eol = '\n' | '\r\n';

export interface DecodedText {
  /** Content with every CRLF turned into LF. */
  text: string;
  /** The dominant line ending of the original (LF when there is none). */
  eol: Eol;
  bom: boolean;
}

/** Files above this are not diffed: they are accepted or rejected whole. */
export const HUGE_FILE_BYTES = 5 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** Null when the bytes are not text (a NUL byte in the first 8 KB, or invalid UTF-8). */
export function decodeText(bytes: Uint8Array): DecodedText | null {
  const probe = Math.min(bytes.length, 8192);
  for (let i = 0; i < probe; i++) if (bytes[i] === 0) return null;
  let raw: string;
  try {
    raw = utf8.decode(bytes);
  } catch {
    return null;
  }
  return fromString(raw);
}

/** The same as decodeText for text that is already a string (an editor buffer). */
export function fromString(raw: string): DecodedText {
  const bom = raw.charCodeAt(0) === 0xfeff;
  const body = bom ? raw.slice(1) : raw;
  return { text: body.replace(/\r\n/g, '\n'), eol: dominantEol(body), bom };
}

export function dominantEol(text: string): Eol {
  let crlf = 0;
  let lf = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) {
    if (i > 0 && text.charCodeAt(i - 1) === 13) crlf++;
    else lf++;
  }
  return crlf > lf ? '\r\n' : '\n';
}

/** LF-normalised text → the string to store, in the given style. */
export function toStyle(text: string, style: { eol: Eol; bom: boolean }): string {
  const body = style.eol === '\r\n' ? text.replace(/\n/g, '\r\n') : text;
  return style.bom ? `\ufeff${body}` : body;
}

export function encodeText(text: string, style: { eol: Eol; bom: boolean }): Uint8Array {
  return encoder.encode(toStyle(text, style));
}

/** Lines with their terminators ("a\n", "b"), so that "no newline at end of file" survives joins. */
export function splitLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', start)) {
    out.push(text.slice(start, i + 1));
    start = i + 1;
  }
  if (start < text.length) out.push(text.slice(start));
  return out;
}

export function bytesEqual(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
