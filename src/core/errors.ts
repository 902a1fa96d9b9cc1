import { EXIT_PERMANENT, EXIT_TEMPORARY } from './exit.js';

/**
 * Every error code djbpkg can raise. Append only: scripts and tests match on
 * these names.
 */
export const ERROR_CODES = [
  'E_USAGE',
  'E_RECIPE',
  'E_UNKNOWN_PACKAGE',
  'E_NO_VERSION',
  'E_CHECKSUM',
  'E_SIZE',
  'E_NETWORK',
  'E_OFFLINE',
  'E_IO',
  'E_LOCKED',
  'E_ARCHIVE',
  'E_PATCH',
  'E_CONFLICT',
  'E_NOT_INSTALLED',
  'E_BUILD',
  'E_BOOT',
  'E_POSIX',
  'E_INTERNAL',
  'E_UNHEALTHY',
  'E_INTERRUPTED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DjbErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Temporary errors exit 111; permanent ones 100. Defaults by code. */
  temporary?: boolean;
}

const TEMPORARY_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'E_NETWORK',
  'E_IO',
  'E_LOCKED',
  'E_POSIX',
  'E_INTERRUPTED',
]);

/** The one error class of djbpkg: a code, a one-line message, an optional hint. */
export class DjbError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly temporary: boolean;

  constructor(code: ErrorCode, message: string, options: DjbErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DjbError';
    this.code = code;
    this.hint = options.hint;
    this.temporary = options.temporary ?? TEMPORARY_BY_DEFAULT.has(code);
  }

  get exitCode(): number {
    return this.temporary ? EXIT_TEMPORARY : EXIT_PERMANENT;
  }
}

/** Short text for a Node system error: its errno name, else its message. */
export function describeCause(err: unknown): string {
  if (err && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    // A full disk is named in words too: ENOSPC alone is easy to misread.
    if (e.code === 'ENOSPC') return 'no space left on the device: ENOSPC';
    if (e.code === 'EDQUOT') return 'disk quota exceeded: EDQUOT';
    if (typeof e.code === 'string' && /^E[A-Z0-9]+$/.test(e.code)) return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}

/**
 * errno names that are a fact about the input, not a condition that passes:
 * retrying the same command cannot help. Everything else (ENOSPC, EIO, EROFS,
 * EACCES, EAGAIN, ...) is temporary: the admin can free space, remount, or
 * run it as another user.
 */
const PERMANENT_ERRNOS: ReadonlySet<string> = new Set(['ENOTDIR', 'EISDIR', 'ELOOP', 'ENAMETOOLONG', 'EINVAL', 'EXDEV']);

/** Wraps an fs failure as an E_IO error naming the object and path; temporary unless its errno says otherwise. */
export function ioError(what: string, err: unknown): DjbError {
  if (err instanceof DjbError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  const temporary = !(typeof code === 'string' && PERMANENT_ERRNOS.has(code));
  return new DjbError('E_IO', `${what}: ${describeCause(err)}`, { cause: err, temporary });
}
