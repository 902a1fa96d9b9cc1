import { closeSync, constants, openSync } from 'node:fs';
import { flock, LOCK_EX, LOCK_NB } from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import { getopt } from '../djb/getopt.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';

const USAGE = 'setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n';

/** 0.76's append-open: write-only, non-blocking, append, create 0600, never truncated. */
const APPEND_OPEN = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND | constants.O_CREAT;

/**
 * setlock [-nNxX] file child: flock the file (`-n` without waiting) and exec
 * child holding the lock on the descriptor number C would have used (3 when
 * only 0-2 are inherited). `-x`: a failure to open or lock exits 0 silently.
 */
export function link(argv: string[], io: LinkIo): LinkResult {
  const parsed = getopt(argv, 'nNxX', io.prog);
  if (parsed.error !== undefined) {
    io.stderr(parsed.error + '\n' + USAGE);
    return { exit: 100 };
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
    return { exit: 100 };
  }
  let fd: number;
  try {
    if (io.state.openWouldFail(1)) throw Object.assign(new Error('EMFILE'), { code: 'EMFILE' });
    fd = openSync(file, APPEND_OPEN, 0o600);
  } catch (err) {
    if (silent) return { exit: 0 };
    io.stderr(`setlock: fatal: unable to open ${file}: ${errstr(err)}\n`);
    return { exit: 111 };
  }
  try {
    flock(fd, noDelay ? LOCK_EX | LOCK_NB : LOCK_EX);
  } catch (err) {
    closeSync(fd);
    if (silent) return { exit: 0 };
    io.stderr(`setlock: fatal: unable to lock ${file}: ${errstr(err)}\n`);
    return { exit: 111 };
  }
  io.state.hold(fd);
  return { next: child };
}
