import { chmodSync, chownSync, closeSync, constants, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { Root } from '../../src/core/root.js';
import { installedRoot } from './installed.js';
import { pollUntil, processTree, procStatus, startProcess, type Background } from './procs.js';
import { run } from './run.js';

/** Helpers for the tests of hosted loggers: an installed root, services, and the supervision-health checks. */

export const NOBODY = 65534;

/** A root of its own with daemontools installed (test/support/installed.ts) and ROOT/service, reachable by nobody. */
export async function hostedRoot(): Promise<Root> {
  const root = new Root((await installedRoot('djbpkg-loghost-')).root);
  mkdirSync(root.serviceDir, { recursive: true });
  return root;
}

/** Prints 1, 2, 3... every 20 ms. */
export const TICKER = '#!/bin/sh\ni=1\nwhile :; do echo $i; i=$((i+1)); sleep 0.02; done\n';

export interface Svc {
  dir: string;
  log: string;
  main: string;
}

/** A service logged by `log/run` = `logRun` (default: the plain hosted form as nobody with `script`). */
export function loggedService(root: Root, name: string, script: string, opts: { run?: string; logRun?: string } = {}): Svc {
  const dir = path.join(root.serviceDir, name);
  const log = path.join(dir, 'log');
  const main = path.join(log, 'main');
  mkdirSync(main, { recursive: true });
  chownSync(main, NOBODY, NOBODY);
  writeFileSync(path.join(dir, 'run'), opts.run ?? TICKER, { mode: 0o755 });
  writeFileSync(path.join(log, 'run'), opts.logRun ?? `#!/bin/sh\nexec setuidgid nobody multilog ${script}\n`, { mode: 0o755 });
  return { dir, log, main };
}

/** A service without a logger: `sleep` for a long time. */
export function plainService(root: Root, name: string): string {
  const dir = path.join(root.serviceDir, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'run'), '#!/bin/sh\nexec sleep 100000\n', { mode: 0o755 });
  return dir;
}

export function startSvscan(root: Root): Background {
  return startProcess(path.join(root.commandDir, 'svscan'), [root.serviceDir], {
    env: { PATH: `${root.commandDir}:/usr/bin:/bin`, DJBPKG_SVSCAN_INTERVAL_MS: '500', DJBPKG_MULTILOG_PAUSE_MS: '300' },
  });
}

export function cmd(root: Root, name: string, args: string[]) {
  return run(path.join(root.commandDir, name), args);
}

export async function upPid(root: Root, dir: string, other = 0, timeoutMs = 60_000): Promise<number> {
  return pollUntil(
    `${dir} up`,
    async () => {
      const m = /^.*: up \(pid (\d+)\)/.exec((await cmd(root, 'svstat', [dir])).stdout);
      return m && Number(m[1]) !== other ? Number(m[1]) : undefined;
    },
    { timeoutMs, intervalMs: 20 },
  );
}

/** Every line of a log directory, oldest first, without the timestamps. */
export function logLines(main: string): string[] {
  const files = readdirSync(main).filter((f) => f.startsWith('@')).sort();
  if (existsSync(path.join(main, 'current'))) files.push('current');
  const text = files.map((f) => readFileSync(path.join(main, f), 'latin1')).join('');
  return text.split('\n').slice(0, -1).map((l) => l.replace(/^@[0-9a-f]{24} /, ''));
}

/** The TAI64N labels of `current`, as Unix seconds (djb's labels are 2^62 + 10 + t). */
export function labelTimes(main: string): number[] {
  const text = readFileSync(path.join(main, 'current'), 'latin1');
  const out: number[] = [];
  for (const m of text.matchAll(/^@([0-9a-f]{16})([0-9a-f]{8}) /gm)) out.push(Number(BigInt(`0x${m[1]}`) - 0x400000000000000an) + parseInt(m[2]!, 16) / 1e9);
  return out;
}

export function isPlaceholder(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] === 'multilog' && readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'sleep';
  } catch {
    return false;
  }
}

function procField(pid: number, name: string): string[] {
  return procStatus(pid).get(name)?.split(/\s+/).filter((x) => x !== '') ?? [];
}

/** Every descendant of `pid` (not itself). */
export function descendants(pid: number): number[] {
  return processTree(pid).slice(1);
}

/** svscan's log hosts: its children running our multilog bundle. */
export function logHosts(svscan: number): number[] {
  return descendants(svscan).filter((p) => {
    try {
      return /multilog\.js/.test(readFileSync(`/proc/${p}/cmdline`, 'latin1'));
    } catch {
      return false;
    }
  });
}

/** No log host, nor anything a log host started, has any id of root's (all of real, effective, saved, fs; groups). */
export function expectNoRootForLoggers(svscan: number): void {
  const hosts = logHosts(svscan);
  expect(hosts.length).toBeGreaterThan(0);
  for (const h of [...hosts, ...hosts.flatMap(descendants)]) {
    let uids: string[];
    let gids: string[];
    let groups: string[];
    try {
      uids = procField(h, 'Uid');
      gids = procField(h, 'Gid');
      groups = procField(h, 'Groups');
    } catch {
      continue;
    }
    expect({ pid: h, uids, gids, groups }).toEqual({ pid: h, uids: Array(4).fill(String(NOBODY)), gids: Array(4).fill(String(NOBODY)), groups: [String(NOBODY)] });
  }
}

/** Every file under `dir` (recursively) is owned by nobody. */
export function expectOwnedByNobody(dir: string): void {
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    let uid: number;
    try {
      uid = lstatSync(path.join(dir, name)).uid;
    } catch {
      continue;
    }
    expect({ name, uid }).toEqual({ name, uid: NOBODY });
  }
}

/**
 * Supervision is as fast as with no fault: an unrelated service's child
 * killed is back within 1.5 s, `svc -t` on it too, and the healthy logger
 * writes with no gap over 1.5 s for `windowMs`.
 */
export async function expectSupervisionUnharmed(root: Root, victim: string, healthyMain: string, windowMs = 4000): Promise<void> {
  const from = Date.now() / 1000;
  // Read straight from supervise/status, and svc -t written straight to supervise/control: what is timed is
  // svscan's answer, not the start-up of an svstat or svc process on a loaded machine.
  const statusPid = () => {
    try {
      return readFileSync(path.join(victim, 'supervise/status')).readUInt32LE(12);
    } catch {
      return 0;
    }
  };
  const nextPid = (other: number) => pollUntil(`${victim} restarted`, () => {
    const p = statusPid();
    return p !== 0 && p !== other ? p : undefined;
  }, { timeoutMs: 1500, intervalMs: 10 });
  let pid = await upPid(root, victim);
  process.kill(pid, 'SIGKILL');
  let t0 = Date.now();
  pid = await nextPid(pid);
  expect(Date.now() - t0).toBeLessThan(1500);
  // supervise waits a second after each start before it acts on svc.
  await new Promise((r) => setTimeout(r, 1100));
  t0 = Date.now();
  const control = openSync(path.join(victim, 'supervise/control'), constants.O_WRONLY | constants.O_NONBLOCK);
  writeSync(control, 't');
  closeSync(control);
  await nextPid(pid);
  expect(Date.now() - t0).toBeLessThan(1500);
  const rest = windowMs - (Date.now() / 1000 - from) * 1000;
  if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  const times = labelTimes(healthyMain).filter((t) => t >= from - 1);
  expect(times.length).toBeGreaterThan(10);
  let worst = 0;
  for (let i = 1; i < times.length; i++) worst = Math.max(worst, times[i]! - times[i - 1]!);
  expect(worst).toBeLessThan(1.5);
  expect(Date.now() / 1000 - times[times.length - 1]!).toBeLessThan(1.5);
}
