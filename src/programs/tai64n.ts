import { readBlocking, writeAllBlocking } from '../supervision/fdio.js';
import { StampClock } from '../supervision/multilog/stamp.js';
import type { ProgramIo } from '../supervision/program.js';

const READ_SIZE = 1 << 16;
const STAMP_BYTES = 26;

/**
 * tai64n: prefixes each line with the TAI64N label of the moment its first
 * byte was read (the time of the read that brought it), and a space. A final partial line is copied as it is.
 * Output is written out before every read. 0 at end of input, 111 on any
 * read or write error; arguments are ignored, nothing is printed.
 */
export function main(_argv: string[], _io: ProgramIo): number {
  const clock = new StampClock();
  const inbuf = Buffer.allocUnsafe(READ_SIZE);
  // Worst case: every input byte is a newline and gets its own label.
  const out = Buffer.allocUnsafe(READ_SIZE * (STAMP_BYTES + 1));
  let atLineStart = true;
  for (;;) {
    let n: number;
    try {
      n = readBlocking(0, inbuf);
    } catch {
      return 111;
    }
    if (n === 0) return 0;
    const src = inbuf.subarray(0, n);
    const label = clock.refresh();
    let o = 0;
    let i = 0;
    while (i < n) {
      if (atLineStart) {
        label.copy(out, o);
        out[o + 25] = 0x20;
        o += STAMP_BYTES;
        atLineStart = false;
      }
      const nl = src.indexOf(10, i);
      const stop = nl < 0 ? n : nl + 1;
      o += src.copy(out, o, i, stop);
      i = stop;
      if (nl >= 0) atLineStart = true;
    }
    try {
      writeAllBlocking(1, out, o);
    } catch {
      return 111;
    }
  }
}
