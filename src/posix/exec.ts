import { readdirSync, readlinkSync } from 'node:fs';
import { check, libc } from './libc.js';
import { startFds } from './startfds.js';

const F_GETFD = 1;
const FD_CLOEXEC = 1;

/** fchdir(2): make the directory open on `fd` the working directory. */
export function fchdir(fd: number): void {
  check('fchdir', libc().fchdir(fd));
}

/**
 * Descriptors above 2 that this process inherited from its parent. Node marks
 * the inherited descriptors up to 15 close-on-exec at start-up
 * (uv_disable_stdio_inheritance), so a close-on-exec flag there does not tell
 * them from Node's own; anything still inheritable is the parent's. Node's own
 * are event-poll/eventfd/io_uring inodes, left out, and pipes whose two ends
 * are both open here, which count as inherited only when the parent holds
 * that pipe too. (An inherited event-poll descriptor is therefore not
 * recognised, nor a pipe whose both ends the parent passed and closed.)
 */
export function inheritedFds(): number[] {
  const targets = new Map<number, string>();
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3) continue;
    try {
      targets.set(fd, readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      // the descriptor readdir itself used, closed by now
    }
  }
  // Access modes seen per pipe inode: bit 1 = a read end, bit 2 = a write end.
  const ends = new Map<string, number>();
  for (const [fd, t] of targets) {
    if (!t.startsWith('pipe:')) continue;
    const mode = accessMode(fd);
    if (mode < 0) continue;
    const bit = mode === 0 ? 1 : mode === 1 ? 2 : 3;
    ends.set(t, (ends.get(t) ?? 0) | bit);
  }
  let parents: Set<string> | undefined;
  const parentHolds = (t: string): boolean => {
    parents ??= parentPipes();
    return parents.has(t);
  };
  const out: number[] = [];
  const atStart = startFds();
  for (const [fd, t] of targets) {
    if (t.startsWith('anon_inode:')) continue;
    // Opened since the program started (Node's own /dev/null under Node 22 and 24): never the parent's.
    if (atStart && !atStart.has(fd)) continue;
    const inheritable = (libc().fcntl(fd, F_GETFD, 'int', 0) & FD_CLOEXEC) === 0;
    if (!inheritable && t.startsWith('pipe:') && ends.get(t) === 3 && !parentHolds(t)) continue;
    out.push(fd);
  }
  return out.sort((a, b) => a - b);
}

/** The pipes the parent process has open (empty when it cannot be read). */
function parentPipes(): Set<string> {
  const out = new Set<string>();
  const dir = `/proc/${process.ppid}/fd`;
  try {
    for (const name of readdirSync(dir)) {
      try {
        const t = readlinkSync(`${dir}/${name}`);
        if (t.startsWith('pipe:')) out.add(t);
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // another user's process, or gone
  }
  return out;
}

/** O_ACCMODE bits of an open descriptor (0 read, 1 write, 2 both); -1 if closed. */
function accessMode(fd: number): number {
  const F_GETFL = 3;
  const fl = libc().fcntl(fd, F_GETFL, 'int', 0);
  return fl === -1 ? -1 : fl & 3;
}

/** fcntl(F_DUPFD_CLOEXEC): a close-on-exec copy of `fd` at the lowest free number >= `min`. */
export function dupAtLeast(fd: number, min: number): number {
  const F_DUPFD_CLOEXEC = 1030;
  return check('fcntl', libc().fcntl(fd, F_DUPFD_CLOEXEC, 'int', min));
}
