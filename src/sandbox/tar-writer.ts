/**
 * A lean tar (ustar + PAX for long names / big files) writer for putArchive. tar-stream spends ~30 ms per MB
 * in its stream plumbing; writing headers ourselves and yielding file buffers keeps copy-in close to `docker cp`.
 */

import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { encodePath } from './path-bytes';

export interface TarItem {
  name: string;
  type: 'file' | 'directory' | 'symlink';
  /** Regular files: bytes to write (exactly; a file that changed size meanwhile is cut or zero-padded). */
  size: number;
  mode: number;
  mtime: Date;
  uid?: number;
  gid?: number;
  linkname?: string;
  /** Host path to read from, or the content itself. */
  source?: string;
  data?: Buffer;
}

const BLOCK = 512;
const MAX_OCTAL_SIZE = 0o77777777777;

function writeStr(buf: Buffer, s: string, off: number, len: number): void {
  buf.write(s.slice(0, len), off, len, 'utf8');
}

function octal(n: number, width: number): string {
  return `${Math.max(0, Math.floor(n))
    .toString(8)
    .padStart(width - 1, '0')}\0`;
}

function rawHeader(
  name: string,
  size: number,
  flag: string,
  item: Pick<TarItem, 'mode' | 'mtime' | 'uid' | 'gid' | 'linkname'>,
): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeStr(h, name, 0, 100);
  writeStr(h, octal(item.mode & 0o7777, 8), 100, 8);
  writeStr(h, octal(item.uid ?? 0, 8), 108, 8);
  writeStr(h, octal(item.gid ?? 0, 8), 116, 8);
  writeStr(h, octal(Math.min(size, MAX_OCTAL_SIZE), 12), 124, 12);
  writeStr(h, octal(item.mtime.getTime() / 1000, 12), 136, 12);
  h.fill(0x20, 148, 156);
  writeStr(h, flag, 156, 1);
  writeStr(h, item.linkname ?? '', 157, 100);
  writeStr(h, 'ustar\u000000', 257, 8);
  let sum = 0;
  for (const b of h) sum += b;
  writeStr(h, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  // A name's bytes that are not UTF-8 go as they are (see path-bytes.ts); PAX readers take bytes.
  const bytes = encodePath(body).length;
  let len = bytes + 1;
  while (String(len).length + bytes !== len) len = String(len).length + bytes;
  return `${len}${body}`;
}

function pad(size: number): Buffer | undefined {
  const rest = size % BLOCK;
  return rest ? Buffer.alloc(BLOCK - rest) : undefined;
}

/** Header block(s) of one entry: a PAX header first when the name, link or size does not fit ustar. */
export function headerFor(item: TarItem): Buffer[] {
  const flag = item.type === 'directory' ? '5' : item.type === 'symlink' ? '2' : '0';
  const name = item.type === 'directory' && !item.name.endsWith('/') ? `${item.name}/` : item.name;
  const size = item.type === 'file' ? item.size : 0;
  const ascii = (s: string) => /^[\x20-\x7e]*$/.test(s);
  let pax = '';
  if (Buffer.byteLength(name) > 100 || !ascii(name)) pax += paxRecord('path', name);
  if (item.linkname && (Buffer.byteLength(item.linkname) > 100 || !ascii(item.linkname)))
    pax += paxRecord('linkpath', item.linkname);
  if (size > MAX_OCTAL_SIZE) pax += paxRecord('size', String(size));
  const out: Buffer[] = [];
  if (pax) {
    const body = encodePath(pax);
    out.push(rawHeader('PaxHeader', body.length, 'x', { mode: 0o644, mtime: item.mtime }), body);
    const p = pad(body.length);
    if (p) out.push(p);
  }
  out.push(rawHeader(ascii(name) ? name.slice(0, 100) : 'non-ascii-name', size, flag, item));
  return out;
}

const SMALL = 1024 * 1024;

async function* fileBytes(item: TarItem, prefetched?: Buffer): AsyncGenerator<Buffer> {
  let written = 0;
  const want = item.size;
  const whole = item.data ?? prefetched;
  if (whole) {
    yield whole.length > want ? whole.subarray(0, want) : whole;
    written = Math.min(want, whole.length);
  } else if (item.source) {
    for await (const chunk of createReadStream(item.source, { highWaterMark: SMALL, end: want - 1 })) {
      const c = chunk as Buffer;
      yield c;
      written += c.length;
    }
  }
  // The file shrank after it was listed: keep the archive consistent with the header.
  if (written < want) yield Buffer.alloc(want - written);
}

/** Small files are read this many at a time: each read is several thread-pool round trips. */
const PREFETCH = 32;

async function* chunks(items: TarItem[]): AsyncGenerator<Buffer> {
  for (let start = 0; start < items.length; start += PREFETCH) {
    const batch = items.slice(start, start + PREFETCH);
    const reads = await Promise.all(
      batch.map((it) =>
        it.type === 'file' && it.source && !it.data && it.size > 0 && it.size <= SMALL
          ? readFile(it.source).catch(() => Buffer.alloc(0))
          : undefined,
      ),
    );
    for (const [i, item] of batch.entries()) {
      yield* headerFor(item);
      if (item.type !== 'file' || item.size === 0) continue;
      yield* fileBytes(item, reads[i]);
      const p = pad(item.size);
      if (p) yield p;
    }
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** Joins small pieces (headers, small files, padding) so that the socket sees few large writes. */
async function* coalesce(source: AsyncGenerator<Buffer>, size = 512 * 1024): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let len = 0;
  for await (const b of source) {
    if (b.length >= size) {
      if (len) yield Buffer.concat(parts, len);
      parts = [];
      len = 0;
      yield b;
      continue;
    }
    parts.push(b);
    len += b.length;
    if (len >= size) {
      yield Buffer.concat(parts, len);
      parts = [];
      len = 0;
    }
  }
  if (len) yield Buffer.concat(parts, len);
}

export function tarStream(items: TarItem[]): Readable {
  return Readable.from(coalesce(chunks(items)), { objectMode: false });
}
