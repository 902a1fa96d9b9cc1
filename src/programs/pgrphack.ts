import { setsid } from '../posix/index.js';
import type { LinkIo, LinkResult } from '../supervision/link.js';

/** pgrphack child: a new session (failure ignored, as 0.76), then exec child. */
export function link(argv: string[], io: LinkIo): LinkResult {
  if (argv.length < 1) {
    io.stderr('pgrphack: usage: pgrphack child\n');
    return { exit: 100 };
  }
  try {
    setsid();
  } catch {
    // 0.76 ignores setsid's result: already a group leader is fine.
  }
  return { next: argv };
}
