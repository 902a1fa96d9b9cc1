import fs from 'node:fs';
import { errcode, errstr } from '../djb/errstr.js';
import type { ProgramIo } from '../supervision/program.js';
import { openFifoForWrite } from '../supervision/svdir.js';

/** `svok S`: exit 0 if a supervise runs for S, 100 if not. */
export function main(argv: string[], io: ProgramIo): number {
  const dir = argv[0];
  if (dir === undefined) {
    io.stderr('svok: usage: svok dir\n');
    return 100;
  }
  try {
    process.chdir(dir);
  } catch (err) {
    io.stderr(`svok: fatal: unable to chdir to ${dir}: ${errstr(err)}\n`);
    return 111;
  }
  let fd: number;
  try {
    fd = openFifoForWrite('supervise/ok');
  } catch (err) {
    const code = errcode(err);
    if (code === 'ENOENT' || code === 'ENXIO') return 100;
    io.stderr(`svok: fatal: unable to open ${dir}/supervise/ok: ${errstr(err)}\n`);
    return 111;
  }
  fs.closeSync(fd);
  return 0;
}
