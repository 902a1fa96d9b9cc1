import { readBlocking, writeAllBlocking } from '../djb/fdio.js';
import { LABEL_DIGITS, LocalTimeFormatter } from '../djb/tai64nlocal.js';
import type { ProgramIo } from '../supervision/program.js';

const READ_SIZE = 1 << 16;
const OUT_SIZE = 1 << 17;
const AT = 0x40;
const NL = 10;

const START = 0;
const LABEL = 1;
const REST = 2;

function isLowerHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66);
}

/**
 * tai64nlocal: a line starting with `@` and 24 lowercase hex digits gets the
 * label replaced by local time (TZ honoured); the rest of the line is copied.
 * Other lines, and labels of another length (on which 0.76 crashes), are
 * copied unchanged. 0 at end of input, 111 on a read or write error.
 */
export function main(_argv: string[], _io: ProgramIo): number {
  const formatter = new LocalTimeFormatter();
  const inbuf = Buffer.allocUnsafe(READ_SIZE);
  const out = Buffer.allocUnsafe(OUT_SIZE);
  let o = 0;
  let state = START;
  let digits = '';

  const flushOut = () => {
    writeAllBlocking(1, out, o);
    o = 0;
  };
  const emit = (src: Uint8Array, start: number, end: number) => {
    while (start < end) {
      if (o === OUT_SIZE) flushOut();
      const n = Math.min(end - start, OUT_SIZE - o);
      out.set(src.subarray(start, start + n), o);
      o += n;
      start += n;
    }
  };
  const emitText = (text: string) => {
    if (o + text.length * 3 > OUT_SIZE) flushOut();
    o += out.write(text, o, 'latin1');
  };
  const endLabel = () => {
    const local = digits.length === LABEL_DIGITS ? formatter.format(digits) : undefined;
    emitText(local ?? '@' + digits);
    digits = '';
  };

  try {
    for (;;) {
      const n = readBlocking(0, inbuf);
      if (n === 0) {
        if (state === LABEL) endLabel();
        flushOut();
        return 0;
      }
      const src = inbuf.subarray(0, n);
      let i = 0;
      while (i < n) {
        if (state === START) {
          if (src[i] === AT) {
            state = LABEL;
            i++;
            continue;
          }
          state = REST;
        }
        if (state === LABEL) {
          const c = src[i]!;
          if (isLowerHex(c) && digits.length <= LABEL_DIGITS) {
            digits += String.fromCharCode(c);
            i++;
            continue;
          }
          endLabel();
          state = REST;
        }
        const nl = src.indexOf(NL, i);
        const stop = nl < 0 ? n : nl + 1;
        emit(src, i, stop);
        i = stop;
        if (nl >= 0) state = START;
      }
      flushOut();
    }
  } catch {
    return 111;
  }
}
