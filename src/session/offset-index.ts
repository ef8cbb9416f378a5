/**
 * Sparse sidecar index of events.jsonl: the byte offset of every STRIDE-th event. It is a cache,
 * never fsynced: whatever it says is checked against the log, and it is rebuilt when wrong.
 */
import { closeSync, fstatSync, ftruncateSync, openSync, readSync } from 'node:fs';
import { writeAll } from './fsutil';

const MAGIC = 0x58494c4b; // 'KLIX'
const VERSION = 1;
const HEADER_BYTES = 16;

export class OffsetIndex {
  /** offsets[i] = byte offset of the line of event seq i*stride. */
  private offsets: number[] = [];
  private fd: number | undefined;

  private constructor(
    private readonly path: string,
    readonly stride: number,
    private readonly writable: boolean,
  ) {}

  /** Open (or create) the index; a file with a wrong header is treated as empty and rewritten. */
  static open(path: string, stride: number, writable: boolean): OffsetIndex {
    const idx = new OffsetIndex(path, stride, writable);
    let fd: number;
    try {
      fd = openSync(path, writable ? 'a+' : 'r');
    } catch (err) {
      if (!writable && (err as NodeJS.ErrnoException).code === 'ENOENT') return idx;
      throw err;
    }
    try {
      const size = fstatSync(fd).size;
      const head = Buffer.alloc(HEADER_BYTES);
      const okHeader =
        size >= HEADER_BYTES &&
        readSync(fd, head, 0, HEADER_BYTES, 0) === HEADER_BYTES &&
        head.readUInt32LE(0) === MAGIC &&
        head.readUInt32LE(4) === VERSION &&
        head.readUInt32LE(8) === stride;
      if (okHeader) {
        const n = Math.floor((size - HEADER_BYTES) / 8);
        const body = Buffer.alloc(n * 8);
        readSync(fd, body, 0, body.length, HEADER_BYTES);
        for (let i = 0; i < n; i++) idx.offsets.push(body.readDoubleLE(i * 8));
      }
      if (writable) {
        idx.fd = fd;
        if (!okHeader || (size - HEADER_BYTES) % 8 !== 0) idx.rewrite();
      } else {
        closeSync(fd);
      }
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return idx;
  }

  get entries(): number {
    return this.offsets.length;
  }

  /** Nearest indexed event at or before `seq`: its seq and byte offset. */
  floor(seq: number): { seq: number; offset: number } | undefined {
    const i = Math.min(Math.floor(seq / this.stride), this.offsets.length - 1);
    if (i < 0) return undefined;
    return { seq: i * this.stride, offset: this.offsets[i]! };
  }

  /** Offset recorded for an indexed seq (a multiple of stride), if any. */
  offsetOf(seq: number): number | undefined {
    if (seq % this.stride !== 0) return undefined;
    return this.offsets[seq / this.stride];
  }

  /** Record the offset of event `seq`; only multiples of stride are kept, in order. */
  note(seq: number, offset: number): void {
    if (seq % this.stride !== 0) return;
    const i = seq / this.stride;
    if (i < this.offsets.length) {
      if (this.offsets[i] === offset) return;
      this.truncate(i);
    }
    if (i !== this.offsets.length) return; // a gap: the caller rebuilds from an earlier point
    this.offsets.push(offset);
    if (this.fd !== undefined) {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(offset, 0);
      writeAll(this.fd, b, null);
    }
  }

  /** Forget entries from index `i` (entry count becomes i). */
  truncate(i: number): void {
    if (i >= this.offsets.length) return;
    this.offsets.length = i;
    if (this.fd !== undefined) ftruncateSync(this.fd, HEADER_BYTES + i * 8);
  }

  /** Drop every entry whose event lies at or after byte `offset` (the log was truncated there). */
  truncateAtOffset(offset: number): void {
    let i = this.offsets.length;
    while (i > 0 && this.offsets[i - 1]! >= offset) i--;
    this.truncate(i);
  }

  private rewrite(): void {
    if (this.fd === undefined) return;
    ftruncateSync(this.fd, 0);
    const head = Buffer.alloc(HEADER_BYTES);
    head.writeUInt32LE(MAGIC, 0);
    head.writeUInt32LE(VERSION, 4);
    head.writeUInt32LE(this.stride, 8);
    const body = Buffer.alloc(this.offsets.length * 8);
    this.offsets.forEach((o, i) => {
      body.writeDoubleLE(o, i * 8);
    });
    writeAll(this.fd, Buffer.concat([head, body]), null);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** Path, for diagnostics. */
  get file(): string {
    return this.path;
  }

  get isWritable(): boolean {
    return this.writable;
  }
}
