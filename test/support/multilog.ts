import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startProcess } from './procs.js';
import { DIST_BIN } from './run.js';

export const MULTILOG = DIST_BIN + 'multilog.js';
export const TAI64N = DIST_BIN + 'tai64n.js';
export const TAI64NLOCAL = DIST_BIN + 'tai64nlocal.js';
export const C_MULTILOG = '/usr/bin/multilog';
export const HAVE_C_MULTILOG = fs.existsSync(C_MULTILOG);

export interface Running {
  child: ChildProcessWithoutNullStreams;
  stderr(): string;
  /** Resolves with [code, signal] when the process has exited. */
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Starts a program with a stdin pipe we hold; tracked by test/support/procs.ts (stopped by PID after the test). */
export function start(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Running {
  const isJs = cmd.endsWith('.js');
  const bg = startProcess(isJs ? process.execPath : cmd, isJs ? [cmd, ...args] : args, {
    cwd,
    env: { DJBPKG_MULTILOG_PAUSE_MS: '50', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: false,
  });
  return {
    child: bg.child as ChildProcessWithoutNullStreams,
    exited: bg.closed.then(({ code, signal }) => [code, signal] as [number | null, NodeJS.Signals | null]),
    stderr: bg.stderr,
  };
}

export function startMultilog(args: string[], cwd: string, env: Record<string, string> = {}): Running {
  return start(MULTILOG, args, cwd, env);
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return -1;
  }
}

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o7777;
}

/** Archived files (`@…`) of a log dir, oldest first. */
export function archives(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((n) => n.startsWith('@'))
    .sort();
}

/** Everything a log dir holds, oldest first: archives then current. */
export function logContents(dir: string): Buffer {
  const parts = archives(dir).map((n) => fs.readFileSync(path.join(dir, n)));
  const cur = path.join(dir, 'current');
  if (fs.existsSync(cur)) parts.push(fs.readFileSync(cur));
  return Buffer.concat(parts);
}

/** Writes to the child's stdin and waits until it is handed to the pipe. */
export function send(r: Running, data: string | Buffer): Promise<void> {
  return new Promise((resolve, reject) => r.child.stdin.write(data, (err) => (err ? reject(err) : resolve())));
}

/** Deterministic lines of mixed length (some longer than multilog's 1000-byte line). */
export function mixedLines(count: number, seed = 1): string[] {
  let x = seed;
  const rnd = () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const k = rnd() % 100;
    const len = k < 70 ? rnd() % 80 : k < 97 ? rnd() % 500 : 900 + (rnd() % 2500);
    const head = `line ${i} `;
    out.push((head + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(len / 36) + 1)).slice(0, Math.max(head.length, len)));
  }
  return out;
}
