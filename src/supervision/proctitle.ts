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
    const fresh = Buffer.from(bytes.filter((b) => b !== 0));
    const len = this.buf.length;
    const room = len - 3;
    if (fresh.length >= room) {
      fresh.copy(this.buf, 3, fresh.length - room);
    } else {
      this.buf.copyWithin(3, 3 + fresh.length, len);
      fresh.copy(this.buf, len - fresh.length);
    }
  }

  text(): string {
    return this.prefix + this.buf.toString('latin1');
  }
}
