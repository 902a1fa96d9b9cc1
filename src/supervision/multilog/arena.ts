/**
 * One ArrayBuffer shared by multilog's input buffers, line scratch and
 * per-directory output batches, so bytes move between them with
 * `copyWithin` (a memmove) instead of allocating a view per copy.
 */
export class Arena {
  readonly bytes: Uint8Array;
  private used = 0;

  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }

  /** A Buffer over the next `len` bytes of the arena. */
  take(len: number): Buffer {
    if (this.used + len > this.bytes.length) throw new RangeError('arena exhausted');
    const b = Buffer.from(this.bytes.buffer, this.used, len);
    this.used += (len + 7) & ~7;
    return b;
  }

  /** Copies `src[start, start+len)` to `dst` at `at`; both should live in this arena. */
  copy(src: Uint8Array, start: number, len: number, dst: Uint8Array, at: number): void {
    if (src.buffer === this.bytes.buffer && dst.buffer === this.bytes.buffer) {
      const from = src.byteOffset + start;
      this.bytes.copyWithin(dst.byteOffset + at, from, from + len);
    } else {
      dst.set(src.subarray(start, start + len), at);
    }
  }
}

/** Arena size for multilog: read buffers, the engine's scratch, and one batch per directory. */
export function arenaSize(readBuffers: number, readSize: number, dirs: number, batch: number): number {
  return readBuffers * readSize + dirs * batch + 8192;
}
