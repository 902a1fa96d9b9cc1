import { readBlocking, writeAllBlocking } from '../djb/fdio.js';
import { Arena } from '../supervision/multilog/arena.js';
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
  // Worst case for `out`: every input byte is a newline and gets its own label.
  const arena = new Arena(READ_SIZE * (STAMP_BYTES + 2) + 64);
  const inbuf = arena.take(READ_SIZE);
  const out = arena.take(READ_SIZE * (STAMP_BYTES + 1));
  const stamp = arena.take(STAMP_BYTES);
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
    clock.refresh().copy(stamp, 0);
    stamp[25] = 0x20;
    let o = 0;
    let i = 0;
    while (i < n) {
      if (atLineStart) {
        arena.copy(stamp, 0, STAMP_BYTES, out, o);
        o += STAMP_BYTES;
        atLineStart = false;
      }
      const nl = src.indexOf(10, i);
      const stop = nl < 0 ? n : nl + 1;
      arena.copy(src, i, stop - i, out, o);
      o += stop - i;
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
