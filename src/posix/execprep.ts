import { readdirSync } from 'node:fs';
import { check, libc } from './libc.js';
import type { Rlimit } from './calls.js';

const NR_CLOSE_RANGE: Record<string, number> = { x64: 436, arm64: 436 };

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
  const nr = NR_CLOSE_RANGE[process.arch];
  let ok = nr !== undefined;
  for (const [lo, hi] of ranges) {
    if (!ok) break;
    if (Number(libc().syscall3(nr!, 'long', lo, 'unsigned int', hi, 'unsigned int', 0)) === -1) ok = false;
  }
  if (ok) return;
  const kept = new Set(k);
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (Number.isInteger(fd) && fd >= 3 && !kept.has(fd)) libc().close(fd);
  }
}
