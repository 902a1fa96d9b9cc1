import { fstatSync, readdirSync } from 'node:fs';

/**
 * The descriptors this process had when its first module of ours ran,
 * before Node opened anything lazily (Node 22 and 24 open /dev/null,
 * close-on-exec, the first time process.stderr is a pipe). Imported first by
 * every program entry (src/bin/program.ts), so that a descriptor opened by
 * Node afterwards is never taken for one the parent passed.
 * Undefined when /proc could not be read, or in a process not started through
 * a program entry.
 */
const SHARED = Symbol.for('djbpkg.posix.startFds');

/** Whether `fd` is open now. */
function open(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}

function snapshot(): ReadonlySet<number> | undefined {
  try {
    // The listing names its own directory descriptor, closed once readdir returns: only what is still open counts
    // (else that number, reused later by Node for a moment, would pass for one the parent gave).
    return new Set(readdirSync('/proc/self/fd').map(Number).filter((n) => Number.isInteger(n) && open(n)));
  } catch {
    return undefined;
  }
}

const g = globalThis as { [SHARED]?: ReadonlySet<number> };
// One snapshot per process: a bundle loaded later in the same process (our multilog after a chain) keeps the first.
g[SHARED] ??= snapshot();

export function startFds(): ReadonlySet<number> | undefined {
  return g[SHARED];
}
