import { getpwnam } from '../posix/index.js';
import { execChild } from '../supervision/pathexec.js';
import type { ProgramIo } from '../supervision/program.js';

/** envuidgid account child: GID and UID of the account into the environment; exec child. */
export function main(argv: string[], io: ProgramIo): number {
  const [account, ...child] = argv;
  if (account === undefined || child.length === 0) {
    io.stderr('envuidgid: usage: envuidgid account child\n');
    return 100;
  }
  const pw = getpwnam(account);
  if (!pw) {
    io.stderr(`envuidgid: fatal: unknown account ${account}\n`);
    return 111;
  }
  return execChild('envuidgid', child, io, [
    { name: 'GID', value: String(pw.gid) },
    { name: 'UID', value: String(pw.uid) },
  ]);
}
