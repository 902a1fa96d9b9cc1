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

/**
 * Start time of a live process: field 22 of /proc/PID/stat (clock ticks
 * since boot). undefined when the pid is gone or a zombie: a zombie has
 * exited, whoever reaps it.
 */
export function processStartTime(pid: number): bigint | undefined {
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
  const text = statBuf.toString('latin1', 0, n);
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X' || fields.length < 20) return undefined;
  try {
    return BigInt(fields[19]!);
  } catch {
    return undefined;
  }
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
