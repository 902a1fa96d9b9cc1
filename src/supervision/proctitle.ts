/**
 * readproctitle's display buffer: LAST's length in bytes, all dots at
 * first; each non-NUL input byte shifts bytes 4.. left by one and goes last,
 * so the first three bytes stay dots and the rest show the newest input.
 */
export class ProcTitle {
  private readonly prefix: string;
  private readonly buf: Buffer;

  constructor(words: string[], length: number) {
    this.prefix = words.join(' ') + ' ';
    this.buf = Buffer.alloc(length, '.');
  }

  feed(bytes: Uint8Array): void {
    const len = this.buf.length;
    for (const b of bytes) {
      if (b === 0) continue;
      this.buf.copyWithin(3, 4, len);
      this.buf[len - 1] = b;
    }
  }

  text(): string {
    return this.prefix + this.buf.toString('latin1');
  }
}
