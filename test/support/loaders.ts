import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach } from 'vitest';
import { pollUntil } from './procs.js';
import { DIST_BIN } from './run.js';

/** The environment every loader runs with: pinned, nothing from the test runner. */
export const ENV = { PATH: '/usr/bin:/bin', LANG: 'C', HOME: '/' };

export interface Finished {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const started: ChildProcess[] = [];
const extraPids: number[] = [];

/** Stops by PID everything this file's tests started (and PIDs they registered), even after a failure. */
afterEach(() => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null && c.pid) tryKill(c.pid);
  for (const pid of extraPids.splice(0)) tryKill(pid);
});

function tryKill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Registers a PID (e.g. a grandchild the test learnt about) to be killed in teardown. */
export function track(pid: number): void {
  extraPids.push(pid);
}

/** The built program `name` in dist/bin, as argv for spawn. */
export function ours(name: string): string[] {
  return [process.execPath, DIST_BIN + name + '.js'];
}

/** The C program from Debian's daemontools, if installed. */
export function theirs(name: string): string[] | undefined {
  const p = `/usr/bin/${name}`;
  return existsSync(p) && existsSync('/usr/bin/envdir') && existsSync('/usr/bin/setlock') ? [p] : undefined;
}

export interface StartOptions {
  env?: Record<string, string>;
  cwd?: string;
  input?: string;
}

/** Starts argv (first word the program); the handle is killed in teardown. */
export function start(argv: string[], opts: StartOptions = {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(argv[0]!, argv.slice(1), {
    env: opts.env ?? ENV,
    cwd: opts.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started.push(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.stdin!.on('error', () => {});
  child.stdin!.end(opts.input ?? '');
  const done = new Promise<Finished>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ pid: child.pid!, code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }),
    );
  });
  return { child, done };
}

/** Runs argv to completion. */
export function runTo(argv: string[], opts: StartOptions = {}): Promise<Finished> {
  return start(argv, opts).done;
}

/** Contents of a file once it holds a complete line, polled. */
export function lineIn(file: string): Promise<string> {
  return pollUntil(file, () => {
    try {
      const t = readFileSync(file, 'utf8');
      return t.endsWith('\n') ? t.trimEnd() : undefined;
    } catch {
      return undefined;
    }
  });
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
