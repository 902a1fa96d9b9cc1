import { check, lastErrno, libc, PosixError } from './libc.js';

/** Linux x86_64/aarch64 values (glibc). */
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const FD_CLOEXEC = 1;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
const SIG_SETMASK = 2;
const NSIG = 65;

export const RLIMIT = {
  CPU: 0,
  FSIZE: 1,
  DATA: 2,
  STACK: 3,
  CORE: 4,
  RSS: 5,
  NPROC: 6,
  NOFILE: 7,
  MEMLOCK: 8,
  AS: 9,
} as const;
/** RLIM_INFINITY as a bigint (all ones). */
export const RLIM_INFINITY = 0xffffffffffffffffn;

export function flock(fd: number, op: number): void {
  check('flock', libc().flock(fd, op));
}

/** flock(LOCK_EX|LOCK_NB): true if taken, false if another holder has it. */
export function tryLockExclusive(fd: number): boolean {
  try {
    flock(fd, LOCK_EX | LOCK_NB);
    return true;
  } catch (err) {
    if (err instanceof PosixError && (err.code === 'EWOULDBLOCK' || err.code === 'EAGAIN')) return false;
    throw err;
  }
}

export function mkfifo(path: string, mode: number): void {
  check('mkfifo', libc().mkfifo(path, mode));
}

/** pipe2(flags): [readFd, writeFd]. */
export function pipe2(flags = 0): [number, number] {
  const fds = [0, 0];
  check('pipe2', libc().pipe2(fds, flags));
  return [fds[0]!, fds[1]!];
}

export function dup2(oldfd: number, newfd: number): void {
  check('dup2', libc().dup2(oldfd, newfd));
}

export function setsid(): number {
  return check('setsid', libc().setsid());
}

export function setpgid(pid: number, pgid: number): void {
  check('setpgid', libc().setpgid(pid, pgid));
}

export interface Rlimit {
  cur: bigint;
  max: bigint;
}

export function getrlimit(resource: number): Rlimit {
  const out: { cur?: number | bigint; max?: number | bigint } = {};
  check('getrlimit', libc().getrlimit(resource, out));
  return { cur: BigInt(out.cur ?? 0), max: BigInt(out.max ?? 0) };
}

export function setrlimit(resource: number, rl: Rlimit): void {
  check('setrlimit', libc().setrlimit(resource, { cur: rl.cur, max: rl.max }));
}

export function setCloexec(fd: number, on: boolean): void {
  const flags = check('fcntl', libc().fcntl(fd, F_GETFD, 'int', 0));
  const next = on ? flags | FD_CLOEXEC : flags & ~FD_CLOEXEC;
  if (next !== flags) check('fcntl', libc().fcntl(fd, F_SETFD, 'int', next));
}

export function setNonblock(fd: number, on: boolean): void {
  const flags = check('fcntl', libc().fcntl(fd, F_GETFL, 'int', 0));
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if (next !== flags) check('fcntl', libc().fcntl(fd, F_SETFL, 'int', next));
}

export function getFdFlags(fd: number): { cloexec: boolean; nonblock: boolean } {
  const fdflags = check('fcntl', libc().fcntl(fd, F_GETFD, 'int', 0));
  const flflags = check('fcntl', libc().fcntl(fd, F_GETFL, 'int', 0));
  return { cloexec: (fdflags & FD_CLOEXEC) !== 0, nonblock: (flflags & O_NONBLOCK) !== 0 };
}

export function setgroups(groups: number[]): void {
  check('setgroups', libc().setgroups(groups.length, groups));
}
export function setgid(gid: number): void {
  check('setgid', libc().setgid(gid));
}
export function setuid(uid: number): void {
  check('setuid', libc().setuid(uid));
}

export interface Passwd {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
}

/** getpwnam; undefined when the account does not exist. */
export function getpwnam(name: string): Passwd | undefined {
  const p = libc().getpwnam(name);
  if (!p) return undefined;
  const d = libc().decodePasswd(p);
  return { name: d.pw_name, uid: d.pw_uid, gid: d.pw_gid, dir: d.pw_dir, shell: d.pw_shell };
}

/**
 * Undo what Node does to a process before handing it to another program:
 * fds 0-2 lose close-on-exec and O_NONBLOCK, every signal goes back to its
 * default disposition, and the signal mask is emptied.
 */
export function prepareForExec(extraFds: number[] = []): void {
  for (const fd of [0, 1, 2, ...extraFds]) {
    try {
      setCloexec(fd, false);
      setNonblock(fd, false);
    } catch (err) {
      if (!(err instanceof PosixError && err.code === 'EBADF')) throw err;
    }
  }
  const c = libc();
  for (let sig = 1; sig < NSIG; sig++) {
    if (sig === 9 || sig === 19) continue;
    c.signal(sig, null);
  }
  check('sigprocmask', c.sigprocmask(SIG_SETMASK, Buffer.alloc(128), null));
}

/**
 * execve(2). Returns only by throwing PosixError. The caller must have called
 * prepareForExec() first.
 */
export function execve(file: string, argv: string[], env: Record<string, string | undefined> | string[]): never {
  const envp = Array.isArray(env)
    ? env
    : Object.entries(env)
        .filter((kv): kv is [string, string] => kv[1] !== undefined)
        .map(([k, v]) => `${k}=${v}`);
  libc().execve(file, [...argv, null], [...envp, null]);
  throw new PosixError('execve', lastErrno());
}

/**
 * _exit(2): ends the process now, without Node's exit path. For programs
 * whose only unfinished work is a blocking read of stdin on a libuv worker
 * thread (Node's normal exit would wait for it forever). Flush first.
 */
export function exitImmediately(code: number): never {
  libc()._exit(code);
  throw new Error('_exit returned');
}

const POLLIN = 1;

/**
 * Resolves once `fd` is readable, at end of input, or invalid (a read then
 * says which). The wait is a poll(2) on a worker thread: unlike a read there,
 * it takes no bytes, so nothing is lost if the process ends while it waits.
 */
export function waitReadable(fd: number): Promise<void> {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLIN, 4);
  return new Promise((resolve) => {
    libc().poll.async(pfd, 1, -1, () => resolve());
  });
}
