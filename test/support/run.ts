import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT = fileURLToPath(new URL('../../', import.meta.url));
export const DIST_BIN = fileURLToPath(new URL('../../dist/bin/', import.meta.url));
/** The bundled runtime programs a `ts` build copies into a package. */
export const DIST_RUNTIME = fileURLToPath(new URL('../../dist/runtime/', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string | Buffer;
  timeoutMs?: number;
}

/** Runs a command to completion, as a user would, and collects its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: 'C', TZ: 'UTC', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs the built `djbpkg` with the given arguments. */
/**
 * The node that runs djbpkg in tests: DJBPKG_TEST_NODE when set (CI runs the
 * installed-runtime tests under each supported Node this way: an install
 * records that node in the command wrappers), else the one running vitest.
 */
export const TEST_NODE = process.env.DJBPKG_TEST_NODE || process.execPath;

export function djbpkg(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(TEST_NODE, [DIST_BIN + 'djbpkg.js', ...args], opts);
}
