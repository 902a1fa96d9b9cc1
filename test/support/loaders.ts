import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pollUntil, startProcess } from './procs.js';
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

/** Starts argv (first word the program) in the test's process group, tracked by test/support/procs.ts. */
export function start(argv: string[], opts: StartOptions = {}): { child: ChildProcess; done: Promise<Finished> } {
  const bg = startProcess(argv[0]!, argv.slice(1), { env: opts.env ?? ENV, exactEnv: true, cwd: opts.cwd, input: opts.input ?? '', detached: false });
  const done = bg.closed.then(({ code, signal }) => ({ pid: bg.pid, code, signal, stdout: bg.stdout(), stderr: bg.stderr() }));
  return { child: bg.child, done };
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
