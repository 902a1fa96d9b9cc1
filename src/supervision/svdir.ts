import fs from 'node:fs';
import { errcode } from '../djb/errstr.js';

/*
 * What the client programs (svc, svok, svstat) do in a service directory,
 * as 0.76 does it: chdir into it (relative to the directory they started
 * in), then open a FIFO under `supervise/`. These programs are their own
 * processes, so they may change their cwd as 0.76 does.
 */

/** Write-open a FIFO without blocking; ENXIO means nobody holds the read end. */
export function openFifoForWrite(path: string): number {
  return fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
}

/** Writes every byte to `fd` (a FIFO opened non-blocking), waiting while it is full. */
export function writeAllBlocking(fd: number, data: Uint8Array): void {
  const pauseCell = new Int32Array(new SharedArrayBuffer(4));
  let rest = data;
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(fd, rest));
    } catch (err) {
      if (errcode(err) !== 'EAGAIN') throw err;
      Atomics.wait(pauseCell, 0, 0, 10);
    }
  }
}
