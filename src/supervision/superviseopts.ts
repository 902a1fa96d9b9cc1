import type { ChildProcess } from 'node:child_process';

/**
 * Descriptors a running supervisor holds: its service directory, `lock`,
 * `control` (read-write), `ok`. While a child runs, a logger also holds the
 * read end of its stderr pipe (STDERR_TEE_FDS), and a service that declares
 * notification-fd the read end of its readiness pipe until it is ready
 * (taken from svscan's reserve).
 */
export const SUPERVISOR_FDS = 4;
/** The read end of a logger's stderr pipe (warnings.ts). */
export const STDERR_TEE_FDS = 1;

/** What one supervise (supervisor.ts) is given. */
export interface SupervisorOptions {
  /** The service directory (absolute, or relative to the process's cwd). */
  dir: string;
  /** The name 0.76 would print for it: supervise's own argument (`NAME`, or `log` under svscan). */
  label: string;
  /** Name in messages about our own faults (`NAME/log` under svscan); default `label`. */
  title?: string;
  /** Environment for `./run`. */
  env: NodeJS.ProcessEnv;
  /** fds 0, 1, 2 for `./run`. */
  stdio: [number, number, number];
  /** Inode of the log pipe in `stdio` (fd 1 of a service, fd 0 of a logger), recorded for a restarted svscan. */
  pipeIno?: bigint;
  /** Honour the sigq12 control bytes `q 1 2`. */
  sigq12: boolean;
  /** Prints one complete line (with `\n`) where supervise's stderr goes. */
  stderr(line: string): void;
  /** Told of every `./run` child: started, re-adopted, gone (svscan's hosted loggers use this). */
  childHooks?: ChildHooks;
  /** Give `./run` a stderr that is passed on to stdio[2] and kept in `supervise/warnings` (for loggers). */
  captureStderr?: boolean;
}

/** A program supervise runs instead of `./run` (a hosted logger's placeholder). */
export interface ChildCommand {
  file: string;
  args: string[];
  argv0: string;
  uid?: number;
  gid?: number;
}

/** What a hosted logger needs to know of the `./run` children of its supervisor. */
export interface ChildHooks {
  /** What to start instead of `./run` this time, if anything. */
  prepare(): ChildCommand | undefined;
  started(child: ChildProcess): void;
  /** supervise sent `sig` to its child `pid` (svc). */
  signalled?(pid: number, sig: NodeJS.Signals): void;
  /** A `./run` left running by a supervisor that died was taken over (not our child). */
  adopted?(pid: number): void;
  /** Called before supervise acts on the exit (and perhaps starts `./run` again); signal is null for an adopted child. */
  exited(pid: number, signal: NodeJS.Signals | null): void;
}
