import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { O_CLOEXEC, pipe2, prlimit } from '../posix/index.js';
import type { FastPlan } from './fastpath.js';

/**
 * Starts a FastPlan as supervise's child, without a shell or a Node start
 * where possible:
 *
 * - Node's spawn (libuv: fork, then in the child chdir, dup2 of fds 0-2,
 *   setsid when asked, setgroups/setgid/setuid when asked, every signal back
 *   to its default, an empty mask, execve) starts the program itself;
 * - setuidgid's user is libuv's uid/gid: the user change happens in the
 *   child only, never on a thread of svscan (a thread of svscan running as
 *   the service's user, even for a moment, could be stopped or killed by
 *   that user). libuv leaves no supplementary group where 0.76 leaves the
 *   account's gid: the one difference, see docs/fast-path.md;
 * - softlimit's limits: a process's limits can be set from outside only on
 *   a running process (prlimit), and setting them on svscan itself for a
 *   moment would hit svscan's own threads (and its hosted loggers). So when
 *   there are limits, the child is first `/bin/sh`, waiting on a pipe;
 *   supervise sets the limits on it with prlimit, then lets it go, and it
 *   execs the program (argv as given: `exec "$@"`). The program starts with
 *   the limits in force. prlimit on another user's process needs
 *   CAP_SYS_RESOURCE; without it the shell is never let go, exits 111 at
 *   once, and the caller runs `./run` as before.
 *
 * Returns the child, or undefined when the start failed (the caller then
 * runs `./run` as before, which reports the failure in 0.76's words).
 */
export function startPlan(plan: FastPlan, cwd: string, stdio: readonly [number, number, number]): ChildProcess | undefined {
  const fds: (number | 'ignore')[] = [stdio[0], stdio[1], plan.stderrToStdout ? stdio[1] : stdio[2]];
  const env: NodeJS.ProcessEnv = {};
  for (const entry of plan.environ) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  let gate: [number, number] | undefined;
  let released = false;
  const ids = plan.user ? { uid: plan.user.uid, gid: plan.user.gid } : {};
  const run = (): ChildProcess | undefined => {
    if (plan.limits.length === 0) {
      return spawn(plan.file, plan.argv.slice(1), { argv0: plan.argv[0], cwd, env, stdio: fds, detached: plan.setsid, ...ids });
    }
    gate = pipe2(O_CLOEXEC);
    // dash: wait for supervise's go (end of file without it: exit 111, never the program without its limits).
    const script = 'read go <&3 || exit 111; exec "$@" 3<&-';
    const c = spawn('/bin/sh', ['-c', script, 'sh', ...plan.argv], { cwd, env, stdio: [...fds, gate[0]], detached: plan.setsid, ...ids });
    if (c.pid === undefined) return c;
    for (const [res, rl] of plan.limits) prlimit(c.pid, res, rl);
    writeSync(gate[1], 'go\n');
    released = true;
    return c;
  };
  let child: ChildProcess | undefined;
  try {
    child = run();
  } catch {
    child = undefined;
  } finally {
    if (gate) {
      closeSync(gate[0]);
      closeSync(gate[1]);
    }
  }
  if (child) child.on('error', () => {});
  // A shell never released exits 111 at once by itself; the caller runs ./run instead.
  if (!child || child.pid === undefined || (gate && !released)) return undefined;
  return child;
}
