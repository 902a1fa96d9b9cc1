import { closeSync, constants, openSync, opendirSync, readSync } from 'node:fs';
import type { Dir } from 'node:fs';
import { fchdir } from '../posix/index.js';
import type { ChainState } from '../supervision/chain.js';
import { errcode, errstr } from '../djb/errstr.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';
import type { EnvEdit } from '../djb/pathexec.js';
import { envdirValue } from '../supervision/loader-rules.js';

class Fatal extends Error {}

/** EMFILE where C would meet it under a pending `-o` limit: its `n`-th descriptor open at once. */
function limitOpen(state: ChainState, n: number): void {
  if (state.openWouldFail(n)) throw Object.assign(new Error('EMFILE'), { code: 'EMFILE' });
}

/** Whole contents of `name` (read-open as 0.76: O_RDONLY|O_NONBLOCK); undefined if it does not exist. */
function readAll(name: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(name, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (errcode(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const chunks: Buffer[] = [];
    for (;;) {
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) return Buffer.concat(chunks);
      chunks.push(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
}

function readEdits(dirName: string, state: ChainState): EnvEdit[] {
  let dir: Dir;
  try {
    limitOpen(state, 2);
    dir = opendirSync('.');
  } catch (err) {
    throw new Fatal(`unable to read directory ${dirName}: ${errstr(err)}`);
  }
  const edits: EnvEdit[] = [];
  try {
    for (;;) {
      let entry;
      try {
        entry = dir.readSync();
      } catch (err) {
        throw new Fatal(`unable to read directory ${dirName}: ${errstr(err)}`);
      }
      if (entry === null) break;
      const name = entry.name;
      if (name.startsWith('.')) continue;
      // 0.76 would set the variable named before the `=` to the rest; refused.
      if (name.includes('=')) throw new Fatal(`unable to read ${dirName}/${name}: ${errstr('EINVAL')}`);
      let contents: Buffer | undefined;
      try {
        limitOpen(state, 3);
        contents = readAll(name);
      } catch (err) {
        throw new Fatal(`unable to read ${dirName}/${name}: ${errstr(err)}`);
      }
      edits.push({ name, value: envdirValue(contents) });
    }
  } finally {
    dir.closeSync();
  }
  return edits;
}

/** envdir dir child: environment edits from the files of dir; exec child. */
export function link(argv: string[], io: LinkIo): LinkResult {
  const [dirName, ...child] = argv;
  if (dirName === undefined || child.length === 0) {
    io.stderr('envdir: usage: envdir dir child\n');
    return { exit: 111 };
  }
  let start: number;
  try {
    limitOpen(io.state, 1);
    start = openSync('.', constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    io.stderr(`envdir: fatal: unable to switch to current directory: ${errstr(err)}\n`);
    return { exit: 111 };
  }
  let edits: EnvEdit[];
  try {
    try {
      process.chdir(dirName);
    } catch (err) {
      throw new Fatal(`unable to switch to directory ${dirName}: ${errstr(err)}`);
    }
    edits = readEdits(dirName, io.state);
    try {
      fchdir(start);
    } catch (err) {
      throw new Fatal(`unable to switch to starting directory: ${errstr(err)}`);
    }
  } catch (err) {
    if (!(err instanceof Fatal)) throw err;
    io.stderr(`envdir: fatal: ${err.message}\n`);
    return { exit: 111 };
  } finally {
    closeSync(start);
  }
  return { next: child, edits };
}
