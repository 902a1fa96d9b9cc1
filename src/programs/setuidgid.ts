import { getpwnam, setgid, setgroups, setuid } from '../posix/index.js';
import { errstr } from '../supervision/errstr.js';
import { execChild } from '../supervision/pathexec.js';
import type { ProgramIo } from '../supervision/program.js';

/** setuidgid account child: groups {gid}, then gid, then uid; exec child. */
export function main(argv: string[], io: ProgramIo): number {
  const [account, ...child] = argv;
  if (account === undefined || child.length === 0) {
    io.stderr('setuidgid: usage: setuidgid account child\n');
    return 100;
  }
  const pw = getpwnam(account);
  if (!pw) {
    io.stderr(`setuidgid: fatal: unknown account ${account}\n`);
    return 111;
  }
  try {
    setgroups([pw.gid]);
    setgid(pw.gid);
  } catch (err) {
    io.stderr(`setuidgid: fatal: unable to setgid: ${errstr(err)}\n`);
    return 111;
  }
  try {
    setuid(pw.uid);
  } catch (err) {
    io.stderr(`setuidgid: fatal: unable to setuid: ${errstr(err)}\n`);
    return 111;
  }
  return execChild('setuidgid', child, io);
}
