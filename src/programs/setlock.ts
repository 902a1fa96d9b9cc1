import { closeSync, constants, openSync } from 'node:fs';
import { dup2, exitImmediately, flock, LOCK_EX, LOCK_NB, lowestFreeAfterExec, setCloexec } from '../posix/index.js';
import { errstr } from '../supervision/errstr.js';
import { getopt, progName } from '../supervision/getopt.js';
import { execReady, readyForExec } from '../supervision/pathexec.js';
import type { ProgramIo } from '../supervision/program.js';

const USAGE = 'setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n';

/** 0.76's append-open: write-only, non-blocking, append, create 0600, never truncated. */
const APPEND_OPEN = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND | constants.O_CREAT;

/**
 * setlock [-nNxX] file child: flock the file (`-n` without waiting) and exec
 * child holding the lock on the descriptor number C would have used (3 when
 * only 0-2 are inherited). `-x`: a failure to open or lock exits 0 silently.
 */
export function main(argv: string[], io: ProgramIo): number {
  const parsed = getopt(argv, 'nNxX', progName(io.argv0, 'setlock'));
  if (parsed.error !== undefined) {
    io.stderr(parsed.error + '\n' + USAGE);
    return 100;
  }
  let noDelay = false;
  let silent = false;
  for (const { opt } of parsed.opts) {
    if (opt === 'n') noDelay = true;
    else if (opt === 'N') noDelay = false;
    else if (opt === 'x') silent = true;
    else silent = false;
  }
  const [file, ...child] = parsed.rest;
  if (file === undefined || child.length === 0) {
    io.stderr(USAGE);
    return 100;
  }
  let fd: number;
  try {
    fd = openSync(file, APPEND_OPEN, 0o600);
  } catch (err) {
    if (silent) return 0;
    io.stderr(`setlock: fatal: unable to open ${file}: ${errstr(err)}\n`);
    return 111;
  }
  try {
    flock(fd, noDelay ? LOCK_EX | LOCK_NB : LOCK_EX);
  } catch (err) {
    if (silent) return 0;
    io.stderr(`setlock: fatal: unable to lock ${file}: ${errstr(err)}\n`);
    return 111;
  }
  // From here on Node's own (close-on-exec) descriptors may be overwritten:
  // the process must exec or leave at once, never return to the event loop.
  readyForExec();
  const target = lowestFreeAfterExec();
  if (target < fd) {
    dup2(fd, target);
    closeSync(fd);
    fd = target;
  }
  setCloexec(fd, false);
  const code = execReady('setlock', child, io);
  exitImmediately(code);
}
