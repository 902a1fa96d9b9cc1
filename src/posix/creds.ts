import { readdirSync } from 'node:fs';
import { check, lastErrno, libc, PosixError } from './libc.js';
import type { Rlimit } from './calls.js';

/** Linux system call numbers for the calls made on one thread only (glibc's wrappers apply them to every thread). */
const NR: Record<string, { setgroups: number; setresuid: number; setresgid: number; getresuid: number; getresgid: number; closeRange: number }> = {
  x64: { setgroups: 116, setresuid: 117, setresgid: 119, getresuid: 118, getresgid: 120, closeRange: 436 },
  arm64: { setgroups: 159, setresuid: 147, setresgid: 149, getresuid: 148, getresgid: 150, closeRange: 436 },
};
const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;

function nr(): NonNullable<(typeof NR)[string]> {
  const n = NR[process.arch];
  if (!n) throw new PosixError('syscall', 38);
  return n;
}

function sys(name: string, ret: bigint | number): void {
  if (Number(ret) === -1) throw new PosixError(name, lastErrno());
}

function getres(which: 'getresuid' | 'getresgid'): [number, number, number] {
  const b = Buffer.alloc(12);
  const n = nr()[which];
  const ret = libc().syscall3(n, 'void *', b.subarray(0, 4), 'void *', b.subarray(4, 8), 'void *', b.subarray(8, 12));
  sys(which, ret);
  return [b.readUInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8)];
}

function threadGroups(groups: number[]): void {
  const list = new Uint32Array(groups.length === 0 ? 1 : groups.length);
  list.set(groups);
  sys('setgroups', libc().syscall3(nr().setgroups, 'long', groups.length, 'void *', Buffer.from(list.buffer)));
}

function processGroups(): number[] {
  const n = check('getgroups', libc().getgroups(0, null));
  const out = new Array<number>(n).fill(0);
  check('getgroups', libc().getgroups(n, out));
  return out;
}

/**
 * Runs `fn` with the calling thread (only) switched to `uid`, `gid` and the
 * supplementary groups `{gid}`, as setuidgid leaves a process: a child
 * forked by `fn` on this thread starts as that user, and its execve makes it
 * that user entirely. The saved uid stays 0 meanwhile so that the thread can
 * come back. The process must be root; throws (thread unchanged) otherwise.
 */
export function asUserOnThisThread<T>(uid: number, gid: number, fn: () => T): T {
  const n = nr();
  const [ru, eu, su] = getres('getresuid');
  const [rg, eg, sg] = getres('getresgid');
  if (eu !== 0) throw new PosixError('setuid', 1);
  const groups = processGroups();
  const dumpable = libc().prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
  threadGroups([gid]);
  try {
    sys('setresgid', libc().syscall3(n.setresgid, 'long', gid, 'long', gid, 'long', gid));
    try {
      sys('setresuid', libc().syscall3(n.setresuid, 'long', uid, 'long', uid, 'long', 0));
      try {
        return fn();
      } finally {
        sys('setresuid', libc().syscall3(n.setresuid, 'long', ru, 'long', eu, 'long', su));
      }
    } finally {
      sys('setresgid', libc().syscall3(n.setresgid, 'long', rg, 'long', eg, 'long', sg));
    }
  } finally {
    threadGroups(groups);
    // A change of effective uid made the process undumpable; put it back as it was.
    if (dumpable >= 0) libc().prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
  }
}

/** prlimit(2) on another process. */
export function prlimit(pid: number, resource: number, rl: Rlimit): void {
  check('prlimit', libc().prlimit(pid, resource, { cur: rl.cur, max: rl.max }, null));
}

/**
 * Closes every descriptor from 3 up except those in `keep`: close_range(2)
 * over the gaps, or, where the kernel lacks it, one close per descriptor
 * listed in /proc/self/fd.
 */
export function closeAllBut(keep: readonly number[]): void {
  const k = [...new Set(keep.filter((fd) => fd >= 3))].sort((a, b) => a - b);
  let from = 3;
  const ranges: [number, number][] = [];
  for (const fd of k) {
    if (fd > from) ranges.push([from, fd - 1]);
    from = Math.max(from, fd + 1);
  }
  ranges.push([from, 0xffffffff]);
  const n = NR[process.arch];
  let ok = n !== undefined;
  for (const [lo, hi] of ranges) {
    if (!ok) break;
    if (Number(libc().syscall3(n!.closeRange, 'long', lo, 'unsigned int', hi, 'unsigned int', 0)) === -1) ok = false;
  }
  if (ok) return;
  const kept = new Set(k);
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (Number.isInteger(fd) && fd >= 3 && !kept.has(fd)) libc().close(fd);
  }
}
