import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, writeSync } from 'node:fs';
import { O_CLOEXEC, pipe2, prlimit } from '../posix/index.js';
import type { FastPlan } from './fastpath.js';

/**
 * Starts a FastPlan as supervise's child, without a shell or a Node start:
 *
 * - Node's spawn (libuv: fork, then in the child chdir, dup2 of fds 0-2,
 *   setsid when asked, every signal back to its default, an empty mask,
 *   execve) starts the first word; nothing of svscan's own is ever run as
 *   the service's user or under its limits.
 * - With setuidgid or softlimit, the first words are util-linux's `setpriv`
 *   (0.76 setuidgid's ids and its one supplementary group) and `prlimit`
 *   (the limits, set by the process on itself once it is loaded), each
 *   exec'ing the next (plan.via, see src/posix/utillinux.ts): the program
 *   is then supervise's child with the limits in force from its first
 *   instruction. setpriv starts as root with svscan's own descriptors 0-2
 *   and the program's environment, exactly as 0.76's setuidgid does after
 *   envdir, and reads nothing but its fixed arguments.
 * - Without prlimit(1) (and without a user: a plan with one needs both
 *   tools), the child is first `/bin/sh` waiting on a pipe, still root as
 *   svscan: supervise sets the limits on it with prlimit(2) (same
 *   credentials: no CAP_SYS_RESOURCE needed), then lets it go, and it execs
 *   the program. If a limit cannot be set the shell is never let go and
 *   exits 111 at once by itself.
 *
 * Returns the child, or undefined when the start failed (the caller then
 * runs `./run` as before, which reports the failure in 0.76's words).
 */
export function startPlan(plan: FastPlan, cwd: string, stdio: readonly (number | 'ignore')[]): ChildProcess | undefined {
  // 0-2, then whatever supervise passes above them (a notification-fd's pipe), each at its number.
  const fds: (number | 'ignore')[] = [stdio[0]!, stdio[1]!, plan.stderrToStdout ? stdio[1]! : stdio[2]!, ...stdio.slice(3)];
  const env: NodeJS.ProcessEnv = {};
  for (const entry of plan.environ) {
    const at = entry.indexOf('=');
    env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  let gate: [number, number] | undefined;
  let released = false;
  const run = (): ChildProcess | undefined => {
    if (plan.via.length > 0) {
      const tool = plan.via[0]!;
      return spawn(tool, [...plan.via.slice(1), ...plan.argv], { argv0: tool.slice(tool.lastIndexOf('/') + 1), cwd, env, stdio: fds, detached: plan.setsid });
    }
    if (plan.limits.length === 0) {
      return spawn(plan.file, plan.argv.slice(1), { argv0: plan.argv[0], cwd, env, stdio: fds, detached: plan.setsid });
    }
    // The waiting shell reads fd 3: with descriptors above 2 to pass, ./run instead.
    if (fds.length > 3) return undefined;
    gate = pipe2(O_CLOEXEC);
    // dash: wait for supervise's go (end of file without it: exit 111, never the program without its limits).
    const script = 'read go <&3 || exit 111; exec "$@" 3<&-';
    const c = spawn('/bin/sh', ['-c', script, 'sh', ...plan.argv], { cwd, env, stdio: [...fds, gate[0]], detached: plan.setsid });
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
