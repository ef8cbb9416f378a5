/** Reads newline-terminated records from a file descriptor, starting at any byte offset, in chunks. */
import { readSync } from 'node:fs';

export interface Line {
  /** Byte offset of the first byte of the line. */
  offset: number;
  /** Bytes of the line including its '\n' (or up to EOF when `complete` is false). */
  length: number;
  /** The line's bytes without the newline. */
  bytes: Buffer;
  /** False for a last line with no '\n' (a torn write, or a write still in progress). */
  complete: boolean;
}

const CHUNK = 1 << 20;

/**
 * Yields lines from `start` up to `end` (exclusive). Memory stays at one chunk plus the longest
 * line, so paging through a long log never loads the whole file.
 */
export function* scanLines(fd: number, start: number, end: number): Generator<Line> {
  let pos = start;
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = start;
  while (pos < end) {
    const want = Math.min(CHUNK, end - pos);
    const chunk = Buffer.allocUnsafe(want);
    const got = readSync(fd, chunk, 0, want, pos);
    if (got === 0) break;
    pos += got;
    let buf = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, got)]) : chunk.subarray(0, got);
    let from = 0;
    for (;;) {
      const nl = buf.indexOf(10, from);
      if (nl < 0) break;
      yield {
        offset: carryOffset + from,
        length: nl - from + 1,
        bytes: buf.subarray(from, nl),
        complete: true,
      };
      from = nl + 1;
    }
    carryOffset += from;
    // Copy so the next chunk's concat does not keep the whole previous chunk alive.
    buf = buf.subarray(from);
    carry = Buffer.from(buf);
  }
  if (carry.length > 0) {
    yield { offset: carryOffset, length: carry.length, bytes: carry, complete: false };
  }
}
