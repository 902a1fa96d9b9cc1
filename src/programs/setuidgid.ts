import { getpwnam, setgid, setgroups, setuid } from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';

/** setuidgid account child: groups {gid}, then gid, then uid; exec child. */
export function link(argv: string[], io: LinkIo): LinkResult {
  const [account, ...child] = argv;
  if (account === undefined || child.length === 0) {
    io.stderr('setuidgid: usage: setuidgid account child\n');
    return { exit: 100 };
  }
  const pw = getpwnam(account);
  if (!pw) {
    io.stderr(`setuidgid: fatal: unknown account ${account}\n`);
    return { exit: 111 };
  }
  try {
    setgroups([pw.gid]);
    setgid(pw.gid);
  } catch (err) {
    io.stderr(`setuidgid: fatal: unable to setgid: ${errstr(err)}\n`);
    return { exit: 111 };
  }
  try {
    io.state.nprocGuard(pw.uid, () => setuid(pw.uid));
  } catch (err) {
    io.stderr(`setuidgid: fatal: unable to setuid: ${errstr(err)}\n`);
    return { exit: 111 };
  }
  return { next: child };
}
