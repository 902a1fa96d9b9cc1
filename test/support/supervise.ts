import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DIST_BIN, run, type RunResult } from './run.js';
import { pollUntil, startProcess, type Background } from './procs.js';
import { unpackStatus, type Status } from '../../src/supervision/status.js';

/** sleep(1) by absolute path: services under svscanboot get a PATH of the test root only. */
export const SLEEP = ['/bin/sleep', '/usr/bin/sleep'].find((p) => existsSync(p)) ?? 'sleep';

export const SIGNALS_TRAPPED = ['HUP', 'ALRM', 'INT', 'QUIT', 'USR1', 'USR2', 'CONT'];

/**
 * A service whose run script records its pid in `pid`, one line per start in
 * `starts`, and the name of every trappable signal it gets in `events`
 * (TERM is recorded, then the script exits).
 */
export function recordingService(dir: string, opts: { down?: boolean } = {}): string {
  mkdirSync(dir, { recursive: true });
  const traps = SIGNALS_TRAPPED.map((s) => `trap 'echo ${s} >> events' ${s}`).join('\n');
  writeFileSync(
    path.join(dir, 'run'),
    `#!/bin/sh
${traps}
trap 'echo TERM >> events; exit 0' TERM
echo $$ > pid.new && mv pid.new pid
echo $$ >> starts
while :; do ${SLEEP} 0.05; done
`,
  );
  chmodSync(path.join(dir, 'run'), 0o755);
  if (opts.down) writeFileSync(path.join(dir, 'down'), '');
  return dir;
}

/** Built program `name` from dist/bin. */
export function bin(name: string): string {
  return path.join(DIST_BIN, `${name}.js`);
}

export function ours(name: string, args: string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<RunResult> {
  return run(process.execPath, [bin(name), ...args], opts);
}

/** Starts our supervise on dir (cwd = parent of dir, argument = its basename). */
export function startSupervise(dir: string, env: Record<string, string | undefined> = {}): Background {
  return startProcess(process.execPath, [bin('supervise'), path.basename(dir)], { cwd: path.dirname(dir), env });
}

export function readStatus(dir: string): Status | undefined {
  try {
    return unpackStatus(readFileSync(path.join(dir, 'supervise/status')));
  } catch {
    return undefined;
  }
}

export function events(dir: string): string[] {
  const f = path.join(dir, 'events');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

export function starts(dir: string): number[] {
  const f = path.join(dir, 'starts');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

/** Waits until the run child recorded in `pid` is the one supervise reports, and returns it. */
export function waitUp(dir: string, timeoutMs = 15_000): Promise<number> {
  return pollUntil(
    `${dir} up`,
    () => {
      const st = readStatus(dir);
      const pidFile = path.join(dir, 'pid');
      if (!st || st.pid === 0 || !existsSync(pidFile)) return undefined;
      return Number(readFileSync(pidFile, 'utf8')) === st.pid ? st.pid : undefined;
    },
    { timeoutMs },
  );
}

/**
 * A service `BASE/s` (a long sleep) left behind by a supervise killed with
 * SIGKILL, its run child killed too, and supervise/status naming instead a
 * live unrelated process, `stranger`: as if the child's pid had been reused.
 * Returns the directory, the stranger and the dead child's pid.
 */
export async function recordNamingStranger(base: string): Promise<{ dir: string; stranger: Background; pid: number }> {
  const dir = path.join(base, 's');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'run'), `#!/bin/sh\nexec ${SLEEP} 1000\n`);
  chmodSync(path.join(dir, 'run'), 0o755);
  const stranger = startProcess(SLEEP, ['1000']);
  const first = startProcess(process.execPath, [bin('supervise'), 's'], { cwd: base });
  const pid = await pollUntil('s up', () => readStatus(dir)?.pid || undefined);
  process.kill(first.pid, 'SIGKILL');
  await first.exited;
  process.kill(pid, 'SIGKILL');
  const status = readFileSync(path.join(dir, 'supervise/status'));
  status.writeUInt32LE(stranger.pid, 12);
  writeFileSync(path.join(dir, 'supervise/status'), status);
  return { dir, stranger, pid };
}
