import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
// Registered first so that its directory clean-up runs after the processes below are dead
// (vitest runs after-hooks in reverse order of registration).
import './tmp.js';

/**
 * Background processes for tests. Every process started here (and every pid
 * handed to `track`) is killed with its whole process group and all its
 * descendants after each test, pass or fail.
 */

export interface Background {
  child: ChildProcess;
  pid: number;
  /** Everything written to stdout/stderr so far (when piped). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The same, once its stdout and stderr are closed too (all output collected). */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface StartOptions {
  cwd?: string;
  /** Added to PATH, HOME, LANG=C and TZ=UTC; with `exactEnv`, the whole environment. */
  env?: Record<string, string | undefined>;
  exactEnv?: boolean;
  /** stdio for the process; default: stdin ignored, stdout/stderr piped and collected. */
  stdio?: ('pipe' | 'ignore' | 'inherit' | number)[];
  /** Written to a piped stdin, which is then closed. */
  input?: string;
  /** In a process group (and session) of its own; default true. */
  detached?: boolean;
  argv0?: string;
}

const tracked = new Set<number>();

/**
 * The one process starter of the test suite: starts a process (by default in
 * its own process group) and tracks it, so that it, its group and its
 * descendants are killed after the test, pass or fail.
 */
export function startProcess(cmd: string, args: string[], opts: StartOptions = {}): Background {
  const stdio = opts.stdio ?? [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'];
  const child = spawn(cmd, args, {
    cwd: opts.cwd,
    env: opts.exactEnv ? opts.env : { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', TZ: 'UTC', ...opts.env },
    stdio: stdio as never,
    detached: opts.detached ?? true,
    argv0: opts.argv0,
  });
  if (child.pid === undefined) throw new Error(`unable to start ${cmd}`);
  tracked.add(child.pid);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (b: Buffer) => out.push(b));
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdin?.on('error', () => {});
  if (opts.input !== undefined) child.stdin?.end(opts.input);
  const ended = (event: 'exit' | 'close') =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.on(event, (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
    });
  return {
    child,
    pid: child.pid,
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
    exited: ended('exit'),
    closed: ended('close'),
  };
}

/** Tracks a pid this test did not start directly (it is killed in teardown). */
export function track(pid: number): void {
  tracked.add(pid);
}

/**
 * The one poll of the test suite: calls `check` until it returns a value other
 * than undefined, null (a regexp that did not match) or false, and returns
 * that value; a check that throws counts as "not yet". Fails after the
 * deadline (`opts` is the timeout in ms, or the timeout and the interval),
 * naming `what` and the last error.
 */
export async function pollUntil<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  opts: number | { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const { timeoutMs = 15_000, intervalMs = 25 } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== null && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** State letter of a process from /proc (R S T Z ...), undefined once it is gone. */
export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0];
  } catch {
    return undefined;
  }
}

/** Is a pid alive (and not a zombie)? */
export function alive(pid: number): boolean {
  const state = procState(pid);
  return state !== undefined && state !== 'Z';
}

/** `/proc/PID/status` fields as a map. */
export function procStatus(pid: number): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) m.set(line.slice(0, at), line.slice(at + 1).trim());
  }
  return m;
}

/** Parent pid of every live process, from /proc. */
function parents(): Map<number, number> {
  const map = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      map.set(Number(name), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  return map;
}

/** pid and all its descendants (children first found before anything is killed). */
export function processTree(pid: number): number[] {
  const ppid = parents();
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    for (const [p, pp] of ppid) if (pp === out[i] && !out.includes(p)) out.push(p);
  }
  return out;
}

/** SIGKILLs pid, its process group and its descendants; waits until they are gone. */
export async function killTree(pid: number): Promise<void> {
  const all = processTree(pid);
  for (const p of all) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Not a group leader, or the group is empty.
  }
  await pollUntil(`pids ${all.join(',')} to die`, () => all.every((p) => !alive(p)), { timeoutMs: 10_000 });
}

afterEach(async () => {
  const pids = [...tracked];
  tracked.clear();
  for (const pid of pids) await killTree(pid);
});
