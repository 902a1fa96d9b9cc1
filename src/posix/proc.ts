import fs from 'node:fs';

/**
 * Processes seen through /proc: identity of a process that is not our child
 * (a pid plus its start time, which no later process with the same pid can
 * share), signals, and the test-only fault switch.
 */

/** Tests only: `OP@TEXT` makes the posix operation OP on a subject containing TEXT throw. */
export const TEST_FAULT_ENV = 'DJBPKG_TEST_FAULT';

/** An error injected through DJBPKG_TEST_FAULT: stands for a bug, not for an errno. */
export class InjectedFault extends Error {
  constructor(op: string, subject: string) {
    super(`injected fault: ${op} ${subject}`);
    this.name = 'InjectedFault';
  }
}

/** Throws InjectedFault when the test switch names this operation and subject; costs one lookup otherwise. */
export function faultPoint(op: string, subject: string): void {
  const spec = process.env[TEST_FAULT_ENV];
  if (spec === undefined) return;
  const at = spec.indexOf('@');
  if (at < 0) return;
  if (spec.slice(0, at) === op && subject.includes(spec.slice(at + 1))) throw new InjectedFault(op, subject);
}

/** What /proc/PID/stat says of a process (proc(5)): the fields djbpkg reads. */
export interface ProcStat {
  /** Field 3: R, S, D, T, t, Z (zombie: exited, not yet reaped), X (dead), ... */
  state: string;
  /** Field 4. */
  ppid: number;
  /** Field 5: process group. */
  pgrp: number;
  /** Field 6: session. */
  session: number;
  /** Field 22: start time in clock ticks since boot. */
  start: bigint;
}

/**
 * Reads and parses /proc/PID/stat: the one parser of that file in djbpkg.
 * undefined when the pid is not a positive integer, the process is gone, or
 * the file does not parse.
 */
export function procStat(pid: number): ProcStat | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  let fd: number;
  try {
    fd = fs.openSync(`/proc/${pid}/stat`, fs.constants.O_RDONLY);
  } catch {
    return undefined;
  }
  const statBuf = Buffer.alloc(1024);
  let n: number;
  try {
    n = fs.readSync(fd, statBuf, 0, statBuf.length, 0);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
  return parseProcStat(statBuf.toString('latin1', 0, n));
}

/** Parses the text of a /proc/PID/stat; undefined when it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(' ');
  if (fields.length < 20) return undefined;
  const [state, ppid, pgrp, session] = [fields[0]!, Number(fields[1]), Number(fields[2]), Number(fields[3])];
  if (state === '' || ![ppid, pgrp, session].every(Number.isSafeInteger)) return undefined;
  let start: bigint;
  try {
    start = BigInt(fields[19]!);
  } catch {
    return undefined;
  }
  return { state, ppid, pgrp, session, start };
}

/** A process that has exited (zombie or dead) but may still have a /proc entry. */
export function hasExited(stat: ProcStat): boolean {
  return stat.state === 'Z' || stat.state === 'X';
}

/**
 * Start time of a live process: field 22 of /proc/PID/stat (clock ticks
 * since boot). undefined when the pid is gone or a zombie: a zombie has
 * exited, whoever reaps it.
 */
export function processStartTime(pid: number): bigint | undefined {
  const stat = procStat(pid);
  return stat === undefined || hasExited(stat) ? undefined : stat.start;
}

/** True while `pid` is a process that has not exited (a zombie has); false when gone or unreadable. */
export function processRunning(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && !hasExited(stat);
}

/**
 * kill(2) for a supervised process, child or not. `subject` names the
 * service for the fault switch. Errors carry their errno name in `code`.
 */
export function signalProcess(pid: number, sig: NodeJS.Signals, subject: string): void {
  faultPoint('signal', subject);
  process.kill(pid, sig);
}

let boot: string | undefined;
/** This boot's identity (/proc/sys/kernel/random/boot_id), '' when unreadable. */
export function bootId(): string {
  if (boot === undefined) {
    try {
      boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    } catch {
      boot = '';
    }
  }
  return boot;
}
