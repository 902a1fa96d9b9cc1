import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DjbError, ioError } from '../core/errors.js';
import { PACKAGE_VERB, djbpkgCommand } from '../core/hint.js';
import type { Root } from '../core/root.js';
import { pipe2 } from '../posix/index.js';
import { hasExited, procStat, processRunning } from '../posix/proc.js';

/**
 * `djbpkg boot`: start now what the boot line would start at boot. For the
 * real root that is /command/svscanboot, detached; for a sandbox root it is
 * `svscan ROOT/service` piped into `readproctitle service errors: ....`, both
 * detached, their PIDs recorded so that `boot --stop` can stop exactly them.
 */

export interface BootRecord {
  root: string;
  /** svscan's PID (or svscanboot's, for the real root). */
  pid: number;
  /** readproctitle's PID, when we started it ourselves. */
  readproctitlePid: number | undefined;
  startedAt: string;
}

export const READPROCTITLE_DOTS = 400;

function recordPath(root: Root): string {
  return path.join(root.stateDir, 'boot.json');
}

export function readBootRecord(root: Root): BootRecord | undefined {
  try {
    return JSON.parse(readFileSync(recordPath(root), 'utf8')) as BootRecord;
  } catch {
    return undefined;
  }
}

function writeBootRecord(root: Root, rec: BootRecord): void {
  const file = recordPath(root);
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file + '{new}', JSON.stringify(rec, null, 2) + '\n');
    renameSync(file + '{new}', file);
  } catch (err) {
    throw ioError(`unable to record boot state in ${file}`, err);
  }
}

export function isAlive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie is not running: read its state.
  return processRunning(pid);
}

function requireCommand(root: Root, name: string): string {
  const file = path.join(root.commandDir, name);
  if (!existsSync(file)) {
    throw new DjbError('E_NOT_INSTALLED', `${file} does not exist`, {
      hint: `install daemontools first: ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}`,
    });
  }
  return file;
}

/**
 * True when `pid` is alive and still runs `program` (a recorded PID may have
 * been reused by an unrelated process after a reboot or a crash).
 */
export function runs(pid: number | undefined, program: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program);
  } catch {
    return false;
  }
}

/** PATH for supervised services: the root's commands first, then the usual places. */
export function servicePath(root: Root): string {
  const dirs = [root.commandDir, root.usrLocalBin, '/usr/local/bin', '/usr/local/sbin', '/bin', '/sbin', '/usr/bin', '/usr/sbin'];
  return [...new Set(dirs)].join(':');
}

export interface StartResult {
  record: BootRecord;
  alreadyRunning: boolean;
}

/** Starts svscan for the root, unless the recorded one still runs. */
export function startSvscan(root: Root, now: Date = new Date()): StartResult {
  const prior = readBootRecord(root);
  if (prior && runs(prior.pid, 'svscan')) return { record: prior, alreadyRunning: true };
  if (!existsSync(root.serviceDir)) {
    throw new DjbError('E_NOT_INSTALLED', `${root.serviceDir} does not exist`, {
      hint: `install daemontools first: ${djbpkgCommand(root, ['install', 'daemontools'], PACKAGE_VERB)}`,
    });
  }
  const env = { PATH: servicePath(root) };
  let record: BootRecord;
  if (root.isSystemRoot) {
    const svscanboot = requireCommand(root, 'svscanboot');
    const child = spawn(svscanboot, [], { detached: true, stdio: 'ignore', env, cwd: '/' });
    if (child.pid === undefined) throw new DjbError('E_IO', `unable to start ${svscanboot}`);
    child.unref();
    record = { root: root.dir, pid: child.pid, readproctitlePid: undefined, startedAt: now.toISOString() };
  } else {
    const svscan = requireCommand(root, 'svscan');
    const readproctitle = requireCommand(root, 'readproctitle');
    const devnull = openSync('/dev/null', 'r+');
    const [r, w] = pipe2();
    try {
      const title = spawn(readproctitle, ['service', 'errors:', '.'.repeat(READPROCTITLE_DOTS)], {
        detached: true,
        stdio: [r, devnull, devnull],
        env,
        cwd: '/',
      });
      const scan = spawn(svscan, [root.serviceDir], { detached: true, stdio: [devnull, w, w], env, cwd: '/' });
      if (scan.pid === undefined || title.pid === undefined) {
        if (scan.pid) process.kill(scan.pid, 'SIGKILL');
        if (title.pid) process.kill(title.pid, 'SIGKILL');
        throw new DjbError('E_IO', `unable to start ${svscan}`);
      }
      scan.unref();
      title.unref();
      record = { root: root.dir, pid: scan.pid, readproctitlePid: title.pid, startedAt: now.toISOString() };
    } finally {
      closeSync(r);
      closeSync(w);
      closeSync(devnull);
    }
  }
  writeBootRecord(root, record);
  return { record, alreadyRunning: false };
}

export interface StopResult {
  stopped: number[];
  wasRunning: boolean;
}

export interface StopOptions {
  /** Seconds to wait for what was told to stop before sending KILL. */
  killAfterMs?: number;
  /** One line per wait and per escalation, as they happen. */
  log?: (line: string) => void;
}

/** Fails at once, with the reason, when this user may not stop what boot started. */
function checkMayStop(root: Root, rec: BootRecord): void {
  const file = recordPath(root);
  try {
    accessSync(path.dirname(file), constants.W_OK);
  } catch (err) {
    throw new DjbError('E_IO', `unable to stop svscan for ${root.dir}: ${path.dirname(file)} is not writable: ${(err as NodeJS.ErrnoException).code ?? 'EACCES'}`, {
      hint: `run ${djbpkgCommand(root, ['boot', '--stop'])} as the user who ran djbpkg boot (root for a system root)`,
    });
  }
  try {
    process.kill(rec.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPERM') {
      throw new DjbError('E_IO', `unable to signal svscan (pid ${rec.pid}) for ${root.dir}: EACCES`, {
        hint: `run ${djbpkgCommand(root, ['boot', '--stop'])} as the user who ran djbpkg boot (root for a system root)`,
      });
    }
  }
}

/**
 * Stops what startSvscan started: first every service and its log are brought
 * down and told to exit (`svc -dx`), then svscan and readproctitle by PID.
 * Whatever has not stopped after `killAfterMs` is sent KILL, and each wait and
 * each escalation is told through `log`.
 */
export async function stopSvscan(root: Root, opts: StopOptions = {}): Promise<StopResult> {
  const killAfterMs = opts.killAfterMs ?? 10_000;
  const log = opts.log ?? (() => {});
  const secs = `${Math.round(killAfterMs / 100) / 10} s`;
  try {
    readFileSync(recordPath(root));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      throw new DjbError('E_IO', `unable to stop svscan for ${root.dir}: cannot read ${recordPath(root)}: ${code === 'EPERM' ? 'EACCES' : code}`, {
        hint: `run ${djbpkgCommand(root, ['boot', '--stop'])} as the user who ran djbpkg boot (root for a system root)`,
      });
    }
  }
  const rec = readBootRecord(root);
  if (!rec || !runs(rec.pid, 'svscan')) {
    if (rec) rmSync(recordPath(root), { force: true });
    return { stopped: [], wasRunning: false };
  }
  checkMayStop(root, rec);
  const svc = path.join(root.commandDir, 'svc');
  const dirs = serviceDirs(root);
  if (dirs.length > 0 && existsSync(svc)) {
    log(`telling ${dirs.length} service${dirs.length === 1 ? '' : 's'} to stop and exit (svc -dx), waiting up to ${secs}: ${dirs.map((d) => path.relative(root.serviceDir, d)).join(' ')}`);
    await runQuiet(svc, ['-dx', ...dirs], { PATH: servicePath(root) });
    if (!(await waitFor(() => dirs.every((d) => !supervised(d)), killAfterMs))) {
      log(`still supervised after ${secs}: ${dirs.filter(supervised).map((d) => path.relative(root.serviceDir, d)).join(' ')}; stopping svscan anyway`);
    }
  }
  const stopped: number[] = [];
  for (const [pid, program] of [[rec.pid, 'svscan'], [rec.readproctitlePid, 'readproctitle']] as const) {
    if (!pid || !runs(pid, program)) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    log(`sent TERM to ${program} (pid ${pid}), waiting up to ${secs}`);
    if (!(await waitFor(() => !isAlive(pid), killAfterMs))) {
      log(`${program} (pid ${pid}) did not stop in ${secs}; sending KILL`);
      signal(pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid), 5_000);
    }
    stopped.push(pid);
  }
  // svscan may have restarted a supervisor between `svc -dx` and its own end;
  // a service so orphaned is still in the session boot gave svscan.
  const left = sessionMembers(rec.pid);
  if (left.length) {
    log(`sent TERM to ${left.length} process${left.length === 1 ? '' : 'es'} left in svscan's session (pids ${left.join(' ')}), waiting up to ${secs}`);
    for (const pid of left) signal(pid, 'SIGTERM');
    if (!(await waitFor(() => sessionMembers(rec.pid).length === 0, killAfterMs))) {
      const still = sessionMembers(rec.pid);
      log(`pids ${still.join(' ')} ignored TERM for ${secs}; sending KILL`);
      for (const pid of still) signal(pid, 'SIGKILL');
      await waitFor(() => sessionMembers(rec.pid).length === 0, 5_000);
    }
  }
  stopped.push(...left);
  rmSync(recordPath(root), { force: true });
  return { stopped, wasRunning: true };
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

/** Live processes whose session is `sid` (boot starts svscan as a session leader). */
function sessionMembers(sid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st !== undefined && st.session === sid && !hasExited(st)) pids.push(Number(name));
  }
  return pids;
}

/** Every service dir under ROOT/service and its log dir, as svscan would see them. */
function serviceDirs(root: Root): string[] {
  let names: string[];
  try {
    names = readdirSync(root.serviceDir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    const dir = path.join(root.serviceDir, name);
    out.push(dir);
    if (existsSync(path.join(dir, 'log'))) out.push(path.join(dir, 'log'));
  }
  return out;
}

/** True while a supervise holds DIR/supervise/ok open for reading. */
function supervised(dir: string): boolean {
  try {
    const fd = openSync(path.join(dir, 'supervise', 'ok'), constants.O_WRONLY | constants.O_NONBLOCK);
    closeSync(fd);
    return true;
  } catch {
    return false;
  }
}

function runQuiet(cmd: string, args: string[], env: Record<string, string>): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env });
    child.on('error', () => resolve(null));
    child.on('close', (code) => resolve(code));
  });
}

async function waitFor(cond: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}
