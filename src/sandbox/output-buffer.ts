/** Keeps the first and last bytes of an output stream in fixed memory and counts the rest. */

export const DEFAULT_OUTPUT_CAP = 64 * 1024;

export class CappedOutput {
  private readonly headSize: number;
  private readonly headChunks: Buffer[] = [];
  private headLen = 0;
  /** Allocated on first overflow only, so a large cap costs nothing for small outputs. */
  private tail?: Buffer;
  /** Next write position in the tail ring, and whether the ring has wrapped. */
  private tailPos = 0;
  private tailFull = false;
  totalBytes = 0;

  constructor(readonly cap: number = DEFAULT_OUTPUT_CAP) {
    this.headSize = Math.ceil(cap / 2);
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    let rest = chunk;
    if (this.headLen < this.headSize) {
      const n = Math.min(rest.length, this.headSize - this.headLen);
      this.headChunks.push(Buffer.from(rest.subarray(0, n)));
      this.headLen += n;
      rest = rest.subarray(n);
    }
    if (rest.length === 0) return;
    const size = this.cap - this.headSize;
    if (size <= 0) return;
    this.tail ??= Buffer.alloc(size);
    const tail = this.tail;
    if (rest.length >= size) {
      rest.copy(tail, 0, rest.length - size);
      this.tailPos = 0;
      this.tailFull = true;
      return;
    }
    const first = Math.min(rest.length, size - this.tailPos);
    rest.copy(tail, this.tailPos, 0, first);
    if (first < rest.length) rest.copy(tail, 0, first);
    const next = this.tailPos + rest.length;
    if (next >= size) this.tailFull = true;
    this.tailPos = next % size;
  }

  get truncated(): boolean {
    return this.totalBytes > this.headLen + this.tailLength();
  }

  private tailLength(): number {
    return this.tailFull ? (this.tail?.length ?? 0) : this.tailPos;
  }

  private tailBytes(): Buffer {
    if (!this.tail) return Buffer.alloc(0);
    if (!this.tailFull) return this.tail.subarray(0, this.tailPos);
    return Buffer.concat([this.tail.subarray(this.tailPos), this.tail.subarray(0, this.tailPos)]);
  }

  /** Head + a note of what was dropped + tail. */
  toString(): string {
    const head = Buffer.concat(this.headChunks).toString('utf8');
    const tail = this.tailBytes().toString('utf8');
    if (!this.truncated) return head + tail;
    const dropped = this.totalBytes - this.headLen - this.tailLength();
    return `${head}\n[... ${dropped} bytes of output omitted ...]\n${tail}`;
  }
}

/** Splits Docker's multiplexed exec stream (8-byte frame headers) into stdout / stderr chunks. */
export class Demuxer {
  private pending: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: 1 | 2, data: Buffer) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      const type = buf[0] === 2 ? 2 : 1;
      if (size > 0) this.onFrame(type, buf.subarray(8, 8 + size));
      buf = buf.subarray(8 + size);
    }
    // Copy so that the big chunk we sliced from can be freed.
    this.pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}
