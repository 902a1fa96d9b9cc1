import { setsid } from '../posix/index.js';
import { execChild } from '../supervision/pathexec.js';
import type { ProgramIo } from '../supervision/program.js';

/** pgrphack child: a new session (failure ignored, as 0.76), then exec child. */
export function main(argv: string[], io: ProgramIo): number {
  if (argv.length < 1) {
    io.stderr('pgrphack: usage: pgrphack child\n');
    return 100;
  }
  try {
    setsid();
  } catch {
    // 0.76 ignores setsid's result: already a group leader is fine.
  }
  return execChild('pgrphack', argv, io);
}
