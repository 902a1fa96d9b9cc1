import { readdirSync } from 'node:fs';
import { check, libc } from './libc.js';
import { setCloexec } from './calls.js';
import type { Rlimit } from './calls.js';

const NR_CLOSE_RANGE: Record<string, number> = { x64: 436, arm64: 436 };
const CLOSE_RANGE_CLOEXEC = 1 << 2;

/** prlimit(2) on another process. */
export function prlimit(pid: number, resource: number, rl: Rlimit): void {
  check('prlimit', libc().prlimit(pid, resource, { cur: rl.cur, max: rl.max }, null));
}

/**
 * Marks every descriptor from 3 up, except those in `keep`, close-on-exec:
 * close_range(2) with CLOSE_RANGE_CLOEXEC over the gaps, or, where the kernel
 * lacks it, fcntl on each descriptor listed in /proc/self/fd. They go at a
 * successful execve; if the exec fails, Node still has its own descriptors
 * (its event loop's epoll among them) to report the failure and exit.
 */
export function closeOnExecAllBut(keep: readonly number[]): void {
  const k = [...new Set(keep.filter((fd) => fd >= 3))].sort((a, b) => a - b);
  let from = 3;
  const ranges: [number, number][] = [];
  for (const fd of k) {
    if (fd > from) ranges.push([from, fd - 1]);
    from = Math.max(from, fd + 1);
  }
  ranges.push([from, 0xffffffff]);
  const nr = NR_CLOSE_RANGE[process.arch];
  let ok = nr !== undefined;
  for (const [lo, hi] of ranges) {
    if (!ok) break;
    if (Number(libc().syscall3(nr!, 'long', lo, 'unsigned int', hi, 'unsigned int', CLOSE_RANGE_CLOEXEC)) === -1) ok = false;
  }
  if (ok) return;
  const kept = new Set(k);
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < 3 || kept.has(fd)) continue;
    try {
      setCloexec(fd, true);
    } catch {
      // The listing's own descriptor, closed by now.
    }
  }
}
