import { createRequire } from 'node:module';
import os from 'node:os';
import type Koffi from 'koffi';

/**
 * koffi, loaded on first use rather than imported: an ES import of it would
 * run before the program's first module, and loading it makes Node 22 and 24
 * open descriptors of their own (see startfds.ts).
 */
let koffiModule: typeof Koffi | undefined;
function koffi(): typeof Koffi {
  koffiModule ??= createRequire(import.meta.url)('koffi') as typeof Koffi;
  return koffiModule;
}

/**
 * The libc calls Node lacks, bound through koffi. This is the only module
 * that imports koffi; everything else uses the typed wrappers in this folder.
 * Every wrapper throws a PosixError carrying the errno name on failure.
 */

const ERRNO_NAMES: Map<number, string> = new Map(
  Object.entries(os.constants.errno).map(([name, num]) => [num as number, name]),
);

/** A failed libc call: `code` is the errno name (`EAGAIN`), `errno` its number. */
export class PosixError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number) {
    const code = ERRNO_NAMES.get(errno) ?? `E${errno}`;
    super(`${syscall}: ${code}`);
    this.name = 'PosixError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

let lib: ReturnType<typeof bind> | undefined;

function bind() {
  const c = koffi().load('libc.so.6');
  const rlimit = koffi().struct('djb_rlimit', { cur: 'uint64_t', max: 'uint64_t' });
  const passwd = koffi().struct('djb_passwd', {
    pw_name: 'const char *',
    pw_passwd: 'const char *',
    pw_uid: 'uint32_t',
    pw_gid: 'uint32_t',
    pw_gecos: 'const char *',
    pw_dir: 'const char *',
    pw_shell: 'const char *',
  });
  return {
    rlimit,
    flock: c.func('int flock(int fd, int op)'),
    mkfifo: c.func('int mkfifo(const char *path, uint32_t mode)'),
    pipe2: c.func('int pipe2(_Out_ int *fds, int flags)'),
    dup2: c.func('int dup2(int oldfd, int newfd)'),
    close: c.func('int close(int fd)'),
    _exit: c.func('void _exit(int status)'),
    setsid: c.func('int setsid()'),
    setpgid: c.func('int setpgid(int pid, int pgid)'),
    getrlimit: c.func('int getrlimit(int resource, _Out_ djb_rlimit *rl)'),
    setrlimit: c.func('int setrlimit(int resource, const djb_rlimit *rl)'),
    fcntl: c.func('int fcntl(int fd, int cmd, ...)'),
    execve: c.func('int execve(const char *path, const char **argv, const char **envp)'),
    signal: c.func('void *signal(int sig, void *handler)'),
    sigprocmask: c.func('int sigprocmask(int how, const uint8_t *set, uint8_t *old)'),
    setgroups: c.func('int setgroups(size_t n, const uint32_t *groups)'),
    setgid: c.func('int setgid(uint32_t gid)'),
    setuid: c.func('int setuid(uint32_t uid)'),
    getpwnam: c.func('djb_passwd *getpwnam(const char *name)'),
    fchdir: c.func('int fchdir(int fd)'),
    renameat2: c.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
    poll: c.func('int poll(_Inout_ uint8_t *fds, unsigned long n, int timeout)'),
    syscall3: c.func('long syscall(long nr, ...)'),
    prlimit: c.func('int prlimit(int pid, int resource, const djb_rlimit *rl, djb_rlimit *old)'),
    decodePasswd: (p: unknown) => koffi().decode(p, passwd) as {
      pw_name: string;
      pw_uid: number;
      pw_gid: number;
      pw_dir: string;
      pw_shell: string;
    },
  };
}

/**
 * One binding per process, shared through globalThis: a chain-loader runs
 * our multilog's bundle in its own process, and koffi's type names (the
 * structs above) may be declared only once per process.
 */
const SHARED = Symbol.for('djbpkg.posix.libc');

/** The bound functions, loaded on first use so that importing costs nothing. */
export function libc(): ReturnType<typeof bind> {
  const g = globalThis as { [SHARED]?: ReturnType<typeof bind> };
  lib ??= g[SHARED] ??= bind();
  return lib;
}

/** errno of the last failed call made through koffi on this thread. */
export function lastErrno(): number {
  return koffi().errno();
}

/** Throws PosixError if `ret` is -1; returns `ret` otherwise. */
export function check(syscall: string, ret: number): number {
  if (ret === -1) throw new PosixError(syscall, lastErrno());
  return ret;
}
