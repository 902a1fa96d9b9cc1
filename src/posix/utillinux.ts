import { statSync } from 'node:fs';
import { RLIM_INFINITY, type Rlimit } from './calls.js';

/**
 * util-linux's `setpriv` and `prlimit` as the last steps before a program:
 * small C programs (Debian's util-linux is Essential) that change the user
 * or lower limits on themselves and then execvp the program, so that no
 * Node thread ever runs under the program's user or limits.
 *
 * - `setpriv --reuid=U --regid=G --groups=G -- ...` does what 0.76's
 *   setuidgid does: the one supplementary group G, then gid and uid, real,
 *   effective and saved (setpriv copies the effective id to the saved one);
 *   it leaves the signal mask and dispositions, descriptors, capability
 *   bounding set and no_new_privs alone.
 * - `prlimit --RES=SOFT:HARD ... -- ...` sets each limit on itself (only
 *   after it is loaded: it never runs short of its own memory or
 *   descriptors) and execs the program with them in force.
 *
 * Both exec the next word with execvp: argv[0] is the word, a word without
 * `/` is searched in the environment's PATH, and a file the kernel refuses
 * with ENOEXEC would be run by /bin/sh (callers make sure the file starts
 * with `#!` or is ELF).
 *
 * Only a root-owned file nobody else may write, at a fixed path, is used.
 */
export interface UtilLinux {
  setpriv?: string;
  prlimit?: string;
}

let found: UtilLinux | undefined;

/** A root-owned regular file, not writable by group or others, in a root-owned directory likewise. */
function trusted(file: string): boolean {
  try {
    const st = statSync(file);
    const dir = statSync(file.slice(0, file.lastIndexOf('/')) || '/');
    return st.isFile() && st.uid === 0 && (st.mode & 0o022) === 0 && (st.mode & 0o111) !== 0 && dir.uid === 0 && (dir.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The tools present on this machine (looked for once per process). DJBPKG_TEST_UTILLINUX=none hides them (tests). */
export function utilLinux(): UtilLinux {
  if (found) return found;
  found = {};
  if (process.env.DJBPKG_TEST_UTILLINUX === 'none') return found;
  for (const tool of ['setpriv', 'prlimit'] as const) {
    for (const dir of ['/usr/bin', '/bin']) {
      if (trusted(`${dir}/${tool}`)) {
        found[tool] = `${dir}/${tool}`;
        break;
      }
    }
  }
  return found;
}

/** prlimit(1)'s option per resource (Linux numbers). */
const PRLIMIT_OPTION: Record<number, string> = {
  0: 'cpu',
  1: 'fsize',
  2: 'data',
  3: 'stack',
  4: 'core',
  5: 'rss',
  6: 'nproc',
  7: 'nofile',
  8: 'memlock',
  9: 'as',
};

const value = (v: bigint): string => (v === RLIM_INFINITY ? 'unlimited' : v.toString());

/** `prlimit --RES=SOFT:HARD ... --` (the tool's path first). */
export function prlimitWords(tool: string, limits: readonly (readonly [number, Rlimit])[]): string[] {
  return [tool, ...limits.map(([res, rl]) => `--${PRLIMIT_OPTION[res]!}=${value(rl.cur)}:${value(rl.max)}`), '--'];
}

/** `setpriv --reuid=U --regid=G --groups=G --` (the tool's path first): 0.76 setuidgid's ids and groups. */
export function setprivWords(tool: string, uid: number, gid: number): string[] {
  return [tool, `--reuid=${uid}`, `--regid=${gid}`, `--groups=${gid}`, '--'];
}
