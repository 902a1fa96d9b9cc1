import { readdirSync } from 'node:fs';

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

function snapshot(): ReadonlySet<number> | undefined {
  try {
    return new Set(readdirSync('/proc/self/fd').map(Number).filter((n) => Number.isInteger(n)));
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
