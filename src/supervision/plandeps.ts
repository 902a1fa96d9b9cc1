import { statSync } from 'node:fs';
import { getpwnam, getrlimit, type Passwd, type Rlimit } from '../posix/index.js';

/**
 * What a fast-path plan was worked out from (docs/fast-path.md, "Planning
 * once"): every file and directory it looked at, every account it looked up
 * and every limit of svscan it read. A plan is reused at the next start only
 * while each of them is as it was: a file's device, inode, size, mode,
 * owner, and modification and change times (a directory's change when an
 * entry is added, removed or renamed), an account's ids, a limit's values.
 * So an edited `./run`, env file or PATH directory takes effect at the next
 * start, as with 0.76, which reads them all again every time.
 */
export interface PlanDeps {
  files: Map<string, string>;
  accounts: Map<string, string>;
  limits: Map<number, string>;
}

let current: PlanDeps | undefined;

/** The state of `file` as far as a plan depends on it ('-' plus the error code when it cannot be stat'ed). */
export function fileState(file: string): string {
  try {
    const s = statSync(file, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mode}:${s.uid}:${s.gid}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch (err) {
    return `-${(err as NodeJS.ErrnoException).code ?? '?'}`;
  }
}

const accountState = (pw: Passwd | undefined): string => (pw ? `${pw.uid}:${pw.gid}` : '-');
const limitState = (rl: Rlimit): string => `${rl.cur}:${rl.max}`;

/** Runs `fn`, recording what it depends on. */
export function recording<T>(fn: () => T): { value: T; deps: PlanDeps } {
  const deps: PlanDeps = { files: new Map(), accounts: new Map(), limits: new Map() };
  const outer = current;
  current = deps;
  try {
    return { value: fn(), deps };
  } finally {
    current = outer;
  }
}

/** Notes that the plan looks at `file` (before it is looked at). */
export function dep(file: string): void {
  if (current && !current.files.has(file)) current.files.set(file, fileState(file));
}

/** getpwnam, noted. */
export function lookupAccount(name: string): Passwd | undefined {
  const pw = getpwnam(name);
  current?.accounts.set(name, accountState(pw));
  return pw;
}

/** getrlimit of this process, noted. */
export function ownLimit(resource: number): Rlimit {
  const rl = getrlimit(resource);
  current?.limits.set(resource, limitState(rl));
  return rl;
}

/** Whether everything the plan depended on is as it was. */
export function unchanged(deps: PlanDeps): boolean {
  for (const [file, state] of deps.files) if (fileState(file) !== state) return false;
  for (const [name, state] of deps.accounts) if (accountState(getpwnam(name)) !== state) return false;
  for (const [res, state] of deps.limits) if (limitState(getrlimit(res)) !== state) return false;
  return true;
}
