import { getpwnam } from '../posix/index.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';

/** envuidgid account child: GID and UID of the account into the environment; exec child. */
export function link(argv: string[], io: LinkIo): LinkResult {
  const [account, ...child] = argv;
  if (account === undefined || child.length === 0) {
    io.stderr('envuidgid: usage: envuidgid account child\n');
    return { exit: 100 };
  }
  const pw = getpwnam(account);
  if (!pw) {
    io.stderr(`envuidgid: fatal: unknown account ${account}\n`);
    return { exit: 111 };
  }
  return {
    next: child,
    edits: [
      { name: 'GID', value: String(pw.gid) },
      { name: 'UID', value: String(pw.uid) },
    ],
  };
}
