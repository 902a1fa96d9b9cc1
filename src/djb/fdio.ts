import fs from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const EAGAIN_RETRY_MS = 2;

/** Blocking read from fd, even when the fd is non-blocking. Returns 0 at end of input; throws on error. */
export function readBlocking(fd: number, buf: Uint8Array, len: number = buf.length): number {
  for (;;) {
    try {
      return fs.readSync(fd, buf, 0, len, null);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, EAGAIN_RETRY_MS);
    }
  }
}

/** Writes all of `buf[0, len)` to fd, waiting out EAGAIN. Throws on error. */
export function writeAllBlocking(fd: number, buf: Uint8Array, len: number = buf.length): void {
  let off = 0;
  while (off < len) {
    try {
      off += fs.writeSync(fd, buf, off, len - off);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(sleeper, 0, 0, EAGAIN_RETRY_MS);
    }
  }
}

/** multilog's `e` output: all of `bytes` to fd 2; a failed write drops them, as 0.76 ignores errors on stderr. */
export function writeStderrBestEffort(bytes: Uint8Array): void {
  try {
    writeAllBlocking(2, bytes);
  } catch {
    // nowhere to report it
  }
}
