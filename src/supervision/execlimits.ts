import { accessSync, closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { RLIMIT, type Rlimit } from '../posix/index.js';
import { prlimitWords, utilLinux } from '../posix/utillinux.js';

/**
 * How the Node chain's final execve of `file` (argv[0] `argv0`) puts
 * softlimit's limits in force. Setting them on this process just before the
 * execve lets a V8 background thread run under them for that moment, and an
 * address-space or data limit can kill it ("Fatal process out of memory").
 * So, where it can be done faithfully, the exec goes through util-linux's
 * prlimit(1), which sets them on itself and execs the program:
 *
 * - `prlimit`: exec these words (prlimit's path first) followed by argv; the
 *   program is a regular file this process may execute starting with `#!`
 *   or ELF (prlimit's execvp would hand anything else to /bin/sh, and its
 *   failure messages are not 0.76's), and execvp finds it as pathexec does:
 *   argv[0] has a `/`, or the environment's PATH is the one pathexec searches.
 *   The process limit (-p) alone is still set here: the kernel checks it at
 *   this execve when a setuid found the user over it, as at C's.
 * - `bare`: the file cannot be exec'd at all (missing, not executable by
 *   this process, not a regular file): exec it without the limits, which
 *   fails with the same error (the limits change nothing there) and no Node
 *   thread ever runs under them.
 * - `self`: anything else (no prlimit(1) here, PATH changed by the last
 *   envdir, a file it cannot read, another format for binfmt_misc or
 *   ENOEXEC): the limits are set on this process right before the execve.
 */
export type LimitedExec = { how: 'prlimit'; words: string[]; here: [number, Rlimit][] } | { how: 'bare' } | { how: 'self' };

export function limitedExec(file: string, argv0: string, envp: readonly string[], searchPath: string | undefined, limits: readonly (readonly [number, Rlimit])[]): LimitedExec {
  const kind = runnable(file);
  if (kind !== 'yes') return { how: kind };
  const tool = utilLinux().prlimit;
  if (!tool) return { how: 'self' };
  if (!argv0.includes('/')) {
    const envPath = envp.find((e) => e.startsWith('PATH='))?.slice(5);
    if (envPath !== searchPath) return { how: 'self' };
  }
  // The process limit stays here: the kernel checks it at this very execve after a setuid (ChainState.nprocGuard).
  const here = limits.filter(([res]) => res === RLIMIT.NPROC).map(([res, rl]) => [res, rl] as [number, Rlimit]);
  const others = limits.filter(([res]) => res !== RLIMIT.NPROC);
  return { how: 'prlimit', words: prlimitWords(tool, others), here };
}

/** `yes`: a regular file this process may execute, starting with `#!` or ELF; `bare`: its execve must fail; `self`: unsure. */
function runnable(file: string): 'yes' | 'bare' | 'self' {
  let fd: number;
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return 'bare';
  }
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return 'self';
  }
  try {
    if (!fstatSync(fd).isFile()) return 'bare';
    const head = Buffer.alloc(4);
    const n = readSync(fd, head, 0, 4, 0);
    const magic = head.subarray(0, n).toString('latin1');
    return magic.startsWith('#!') || magic === '\x7fELF' ? 'yes' : 'self';
  } catch {
    return 'self';
  } finally {
    closeSync(fd);
  }
}
