/**
 * djb's own errno texts (daemontools' error_str), keyed by errno name as Node
 * and PosixError report it. Not strerror: the C tools print these words.
 */
const TEXT: Record<string, string> = {
  ENOMEM: 'out of memory',
  ENOENT: 'file does not exist',
  EINTR: 'interrupted system call',
  EAGAIN: 'temporary failure',
  EWOULDBLOCK: 'temporary failure',
  EINPROGRESS: 'operation in progress',
  ETIMEDOUT: 'timed out',
  ECONNREFUSED: 'connection refused',
  ENOTDIR: 'not a directory',
  EISDIR: 'is a directory',
  ELOOP: 'symbolic link loop',
  EEXIST: 'file already exists',
  EACCES: 'access denied',
  EPERM: 'permission denied',
  ENXIO: 'device not configured',
  EIO: 'input/output error',
  ETXTBSY: 'text busy',
  EPIPE: 'broken pipe',
  EINVAL: 'invalid argument',
  ENOSPC: 'out of disk space',
  EROFS: 'read-only file system',
  EMFILE: 'process cannot open more files',
  ENFILE: 'system cannot open more files',
  ENAMETOOLONG: 'file name too long',
  ENOEXEC: 'exec format error',
  E2BIG: 'argument list too long',
  EBUSY: 'device busy',
  EXDEV: 'cross-device link',
  ESRCH: 'no such process',
  ECHILD: 'no child processes',
  EBADF: 'file descriptor not open',
  EFBIG: 'file too big',
  ENOTEMPTY: 'directory not empty',
  EDQUOT: 'disk quota exceeded',
  ENOLCK: 'no locks available',
  ENOSYS: 'system call not available',
  ESPIPE: 'unseekable descriptor',
  EMLINK: 'too many links',
  EDOM: 'input out of range',
  ERANGE: 'output out of range',
  EDEADLK: 'operation would cause deadlock',
  ENOTSOCK: 'not a socket',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host is unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRINUSE: 'address already used',
  ESTALE: 'stale NFS file handle',
};

/** The djb text for an error (a PosixError, a Node system error, or a code string). */
export function errstr(err: unknown): string {
  if (typeof err === 'string') return TEXT[err] ?? (err === '' ? 'no error' : 'unknown error');
  if (err && typeof err === 'object' && 'code' in err && typeof (err as { code: unknown }).code === 'string') {
    return TEXT[(err as { code: string }).code] ?? 'unknown error';
  }
  return 'unknown error';
}

/** errno name of an error, or undefined when it has none. */
export function errcode(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const c = (err as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}
