/**
 * File names are bytes; KLong keys files by strings. A name that is not valid UTF-8 keeps its bytes
 * the way Python's "surrogateescape" does: each byte that does not decode becomes a lone surrogate
 * U+DC80..U+DCFF, so decode → encode gives the same bytes back, and valid UTF-8 is unchanged.
 */

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes → string, lossless. */
export function decodePath(bytes: Uint8Array): string {
  try {
    return utf8.decode(bytes);
  } catch {
    // Slow path, only for names that are not UTF-8: decode the valid runs, escape the other bytes.
    let out = '';
    let i = 0;
    while (i < bytes.length) {
      const n = validLength(bytes, i);
      if (n > 0) {
        out += utf8.decode(bytes.subarray(i, i + n));
        i += n;
      } else out += String.fromCharCode(0xdc00 + bytes[i++]!);
    }
    return out;
  }
}

/** String → bytes: the inverse of decodePath (lone surrogates U+DC80..U+DCFF are the raw bytes). */
export function encodePath(s: string): Buffer {
  if (!hasEscapedBytes(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const lone =
      c >= 0xdc80 && c <= 0xdcff && !(i > 0 && s.charCodeAt(i - 1) >= 0xd800 && s.charCodeAt(i - 1) < 0xdc00);
    if (lone) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.from([c - 0xdc00]));
    } else run += s[i];
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** True when the string carries bytes that are not UTF-8 (see decodePath). */
export function hasEscapedBytes(s: string): boolean {
  return /(?<![\uD800-\uDBFF])[\uDC80-\uDCFF]/.test(s);
}

/** Length of the valid UTF-8 sequence starting at i (0 when the byte there does not start one). */
function validLength(b: Uint8Array, i: number): number {
  let n = 0;
  while (i + n < b.length) {
    const c = b[i + n]!;
    const len =
      c < 0x80 ? 1 : c >= 0xc2 && c < 0xe0 ? 2 : c >= 0xe0 && c < 0xf0 ? 3 : c >= 0xf0 && c < 0xf5 ? 4 : 0;
    if (len === 0 || i + n + len > b.length) break;
    try {
      utf8.decode(b.subarray(i + n, i + n + len));
    } catch {
      break;
    }
    n += len;
  }
  return n;
}

/** Bash ANSI-C quoting ($'...') for any bytes: no fork, no base64 needed in the container. */
export function ansiCQuote(s: string): string {
  let out = "$'";
  for (const b of encodePath(s)) {
    if (b >= 0x20 && b < 0x7f && b !== 0x27 && b !== 0x5c) out += String.fromCharCode(b);
    else if (b === 0x0a) out += '\\n';
    else out += `\\x${b.toString(16).padStart(2, '0')}`;
  }
  return `${out}'`;
}
