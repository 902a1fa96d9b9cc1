import { accessSync, closeSync, constants, openSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  closeOnExecAllBut,
  dup2,
  dupAtLeast,
  execve,
  exitImmediately,
  getrlimit,
  inheritedFds,
  PosixError,
  prepareForExec,
  RLIM_INFINITY,
  RLIMIT,
  setCloexec,
  setrlimit,
  type Rlimit,
} from '../posix/index.js';
import { errstr } from '../djb/errstr.js';
import { limitedExec } from './execlimits.js';
import { applyEnvEdits, pathexecRun, type EnvEdit } from '../djb/pathexec.js';

/**
 * One process for a chain of our loaders. Each link does its work on a
 * ChainState instead of on the process where doing it for real would hurt
 * Node: resource limits are recorded and set only right before the final
 * execve; setlock's descriptors are moved to the numbers C would have used
 * only then. Everything else (setuid, setsid, chdir) happens for real, in
 * order, as each C program would have done it.
 */
export class ChainState {
  /** The environment the current link runs with, in C's environ order. */
  environ: string[];
  /** Soft/hard values softlimit chose (one entry per resource, the last value set); applied at the final exec. */
  private readonly limits = new Map<number, Rlimit>();
  /** Descriptors setlock holds and the number each has in C. */
  private readonly held: { fd: number; target: number }[] = [];
  /** What the parent passed above fd 2, found before any link opens or changes user. */
  private readonly inherited: number[];
  /** Set once a setuid has run while an NPROC limit was pending (see nprocGuard). */
  private uidChanged = false;

  constructor(environ: string[]) {
    this.environ = environ;
    this.inherited = inheritedFds();
  }

  /** getenv: the first entry for `name`. */
  env(name: string): string | undefined {
    const e = this.environ.find((x) => x.startsWith(name + '='));
    return e === undefined ? undefined : e.slice(name.length + 1);
  }

  edit(edits: readonly EnvEdit[]): void {
    this.environ = applyEnvEdits(this.environ, edits);
  }

  /** The limit as a C program at this point of the chain would read it. */
  getrlimit(resource: number): Rlimit {
    const pending = this.limits.get(resource);
    return pending ? { ...pending } : getrlimit(resource);
  }

  /** Records a new soft value (never above the hard one: that is softlimit's contract). */
  setrlimit(resource: number, rl: Rlimit): void {
    this.limits.delete(resource);
    this.limits.set(resource, { ...rl });
  }

  /** The limits softlimit set, for what runs after the chain (applied in the order set). */
  pendingLimits(): [number, Rlimit][] {
    return [...this.limits];
  }

  /**
   * Would the `n`-th (1-based) descriptor a C program opens now fail with
   * EMFILE under the pending `-o` limit? C's descriptors go to the lowest free
   * numbers: not 0-2, not an inherited one, not a lock held by setlock.
   */
  openWouldFail(n: number): boolean {
    const lim = this.limits.get(RLIMIT.NOFILE);
    if (!lim || lim.cur === RLIM_INFINITY) return false;
    return BigInt(this.cDescriptor(n)) >= lim.cur;
  }

  /** The number C gives the `n`-th next descriptor it opens. */
  private cDescriptor(n: number): number {
    const taken = new Set<number>([0, 1, 2, ...this.inherited, ...this.held.map((h) => h.target)]);
    let fd = -1;
    for (let i = 0; i < n; i++) {
      fd++;
      while (taken.has(fd)) fd++;
    }
    return fd;
  }

  /** setlock's lock: kept open here, moved to C's number at the final exec. Returns that number. */
  hold(fd: number): number {
    const target = this.cDescriptor(1);
    this.held.push({ fd, target });
    return target;
  }

  /**
   * Runs a setuid as C would run it under the pending `-p` limit: Linux marks
   * a process whose new user has more tasks than RLIMIT_NPROC allows, and its
   * next execve fails with EAGAIN. This process has several threads where C
   * has one, so the limit is raised by the difference while the setuid runs.
   */
  nprocGuard<T>(uid: number, fn: () => T): T {
    const lim = this.limits.get(RLIMIT.NPROC);
    if (!lim || lim.cur === RLIM_INFINITY || uid === 0) return fn();
    this.uidChanged = true;
    return this.withNproc(lim, fn);
  }

  /**
   * The check the kernel makes at the start of every execve, made at each
   * in-process link as C's exec of that link would have met it: an exec of a
   * path that cannot exist fails with EAGAIN if the process is over the
   * limit, else with ENOENT (and the kernel clears its mark, as a real exec).
   */
  execWouldFail(): PosixError | undefined {
    const lim = this.limits.get(RLIMIT.NPROC);
    if (!this.uidChanged || !lim || lim.cur === RLIM_INFINITY) return undefined;
    return this.withNproc(lim, () => {
      try {
        execve('/proc/self/djbpkg-nproc-probe', ['probe'], []);
      } catch (err) {
        if (err instanceof PosixError && (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK')) return err;
      }
      return undefined;
    });
  }

  private withNproc<T>(lim: Rlimit, fn: () => T): T {
    const real = getrlimit(RLIMIT.NPROC);
    const extra = BigInt(threadCount() - 1);
    const cur = lim.cur + extra > real.max ? real.max : lim.cur + extra;
    setrlimit(RLIMIT.NPROC, { cur, max: real.max });
    try {
      return fn();
    } finally {
      setrlimit(RLIMIT.NPROC, real);
    }
  }

  /**
   * Replaces the process with `argv` as the last link `prog` would: fds and
   * signals as C leaves them, locks at C's numbers, the pending limits set
   * right before each execve attempt (and undone if it fails, so that Node
   * can report the failure). Never returns: exits 111 after the message.
   */
  execFinal(prog: string, argv: readonly string[], searchPath: string | undefined, stderr: (t: string) => void): never {
    prepareForExec();
    for (const fd of this.inherited) setCloexec(fd, false);
    this.placeHeld();
    // Nothing but what the program is given: 0-2, what the parent passed, the locks (Node's own descriptors go at the exec).
    closeOnExecAllBut([...this.inherited, ...this.held.map((h) => h.target)]);
    const limits = this.pendingLimits();
    const attempt = (file: string, args: string[], envp: string[]): never => {
      // Through prlimit(1) where it is faithful: no V8 thread ever runs under the memory limits (execlimits.ts).
      const how = limits.length > 0 ? limitedExec(file, args[0] ?? '', envp, searchPath, limits) : { how: 'bare' as const };
      if (how.how === 'bare') return execve(file, args, envp);
      const here = how.how === 'prlimit' ? how.here : limits;
      const saved = here.map(([res]) => [res, getrlimit(res)] as const);
      for (const [res, rl] of here) setrlimit(res, rl);
      try {
        return how.how === 'prlimit' ? execve(how.words[0]!, ['prlimit', ...how.words.slice(1), ...args], envp) : execve(file, args, envp);
      } finally {
        for (const [res, rl] of saved) setrlimit(res, rl);
      }
    };
    const err = pathexecRun(argv, this.environ, searchPath, attempt);
    stderr(`${prog}: fatal: unable to run ${argv[0] ?? ''}: ${errstr(err)}\n`);
    exitImmediately(111);
  }

  /** Moves each held descriptor to its C number and makes it inheritable. Past this, Node's own descriptors may be gone. */
  private placeHeld(): void {
    // Copies above every target first, so that no dup2 lands on a lock not yet moved.
    const above = Math.max(0, ...this.held.map((h) => h.target)) + 1;
    const copies = this.held.map(({ fd, target }) => {
      const copy = dupAtLeast(fd, above);
      closeSync(fd);
      return { copy, target };
    });
    for (const { copy, target } of copies) {
      dup2(copy, target);
      closeSync(copy);
      setCloexec(target, false);
    }
  }

  /** Lock descriptors stay open and inheritable where they are (for a program run in this process). */
  keepHeld(): void {
    for (const { fd } of this.held) setCloexec(fd, false);
  }

  /** setlock's descriptors and the numbers they have in C. */
  heldFds(): readonly { fd: number; target: number }[] {
    return this.held;
  }

  /** The pending limits as text, for a process of ours that goes on with the chain (fghack's child). */
  limitsText(): string {
    return JSON.stringify(this.pendingLimits().map(([res, rl]) => [res, String(rl.cur), String(rl.max)]));
  }

  /** Takes over limits written by limitsText; false if `text` is not such a list. */
  adoptLimits(text: string): boolean {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      return false;
    }
    if (!Array.isArray(list)) return false;
    for (const item of list) {
      if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'number' || !/^\d+$/.test(String(item[1])) || !/^\d+$/.test(String(item[2]))) return false;
    }
    for (const [res, cur, max] of list as [number, string, string][]) this.setrlimit(res, { cur: BigInt(cur), max: BigInt(max) });
    return true;
  }

  /** The descriptors the parent passed (above 2). */
  passed(): readonly number[] {
    return this.inherited;
  }
}

function threadCount(): number {
  const m = /^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : 1;
}

/** What exec'ing argv would start, when that is one of our programs. */
export interface OurProgram {
  name: string;
  /** The program's own file (a bundle or a dist/bin entry). */
  file: string;
  /** argv as that program sees it: argv[0] as the loader passed it, then its arguments. */
  argv: string[];
  /** The package directory an installed wrapper would name. */
  packageDir: string | undefined;
}

/** The directory of the program file this process runs (dist/bin or PACKAGE/runtime). */
export function ownDir(scriptPath: string | undefined): string | undefined {
  if (!scriptPath) return undefined;
  try {
    return path.dirname(realpathSync(scriptPath));
  } catch {
    return undefined;
  }
}

const WRAPPER_TAG = /^#!\/bin\/sh\n# djbpkg: [^\n]* ([a-z0-9]+) \(TypeScript runtime\)\n/;
const WRAPPER_NODE = /^node='((?:[^']|'\\'')*)'$/m;

/**
 * The file execvp would run for `file` (PATH searched as 0.76's pathexec:
 * ENOENT tries on, a non-executable file is skipped), or undefined where the
 * search would stop on another error (left to the real exec to report).
 */
export function resolveExec(file: string, searchPath: string | undefined): string | undefined {
  if (file === '') return undefined;
  const candidates = file.includes('/') ? [file] : (searchPath ?? '/bin:/usr/bin').split(':').map((d) => `${d === '' ? '.' : d}/${file}`);
  for (const c of candidates) {
    let st;
    try {
      st = statSync(c);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return undefined;
    }
    if (!st.isFile()) continue;
    try {
      accessSync(c, constants.X_OK);
    } catch {
      continue;
    }
    return c;
  }
  return undefined;
}

function head(file: string, n = 512): string {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const got = readSync(fd, buf, 0, n, 0);
    return buf.subarray(0, got).toString('latin1');
  } finally {
    closeSync(fd);
  }
}

/**
 * Recognises an exec of one of our programs named in `names`, living in
 * `dir` (the directory of the running program, so exactly this code would
 * run): an installed wrapper (PACKAGE/command/NAME whose bundle is
 * dir/NAME.js and whose node exists), dir/NAME.js itself, or this node
 * binary given dir/NAME.js as its script.
 */
export function ourProgram(argv: readonly string[], searchPath: string | undefined, dir: string | undefined, names: ReadonlySet<string>): OurProgram | undefined {
  if (!dir) return undefined;
  try {
    const found = resolveExec(argv[0] ?? '', searchPath);
    if (!found) return undefined;
    const real = realpathSync(found);
    const direct = /^([a-z0-9]+)\.js$/.exec(path.basename(real));
    if (direct && path.dirname(real) === dir && names.has(direct[1]!)) {
      return { name: direct[1]!, file: real, argv: [...argv], packageDir: undefined };
    }
    if (real === realpathSync(process.execPath)) {
      const script = argv[1];
      if (script === undefined || script.startsWith('-')) return undefined;
      const s = realpathSync(script);
      const m = /^([a-z0-9]+)\.js$/.exec(path.basename(s));
      if (m && path.dirname(s) === dir && names.has(m[1]!)) return { name: m[1]!, file: s, argv: argv.slice(1), packageDir: undefined };
      return undefined;
    }
    const text = head(real);
    const tag = WRAPPER_TAG.exec(text);
    if (!tag || !names.has(tag[1]!)) return undefined;
    const at = real.lastIndexOf('/command/');
    if (at < 0) return undefined;
    const pkg = real.slice(0, at);
    const bundle = realpathSync(path.join(pkg, 'runtime', `${tag[1]}.js`));
    if (bundle !== path.join(dir, `${tag[1]}.js`)) return undefined;
    const node = WRAPPER_NODE.exec(text);
    if (!node) return undefined;
    accessSync(node[1]!.replace(/'\\''/g, "'"), constants.X_OK);
    return { name: tag[1]!, file: bundle, argv: [...argv], packageDir: pkg };
  } catch {
    return undefined;
  }
}
