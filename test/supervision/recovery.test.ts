import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, pollUntil, startProcess, type Background } from '../support/procs.js';
import { run } from '../support/run.js';
import { installedRoot } from '../support/installed.js';
import { readStatus, SLEEP } from '../support/supervise.js';

/**
 * svscan's death costs nothing: services and loggers that outlive it are
 * adopted by the next svscan on the same directory (none started twice),
 * svstat is right within a scan, and the log pipe is opened again so every
 * line reaches the log exactly once. Run through the installed bundles.
 */

const FAST = { DJBPKG_SVSCAN_INTERVAL_MS: '200' };
const MULTILOG = '/usr/bin/multilog';
const hasC = existsSync(MULTILOG);
const needsC = (name: string) => (hasC ? name : `${name} (skipped: needs Debian's daemontools for ${MULTILOG})`);
const NAMES = ['a', 'b', 'c'];

function script(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** A service writing `PID N` lines (N = 1, 2, ...); on TERM it leaves its last N in `last.PID` and exits. */
function numberedService(dir: string): void {
  mkdirSync(path.join(dir, 'log'), { recursive: true });
  script(
    path.join(dir, 'run'),
    `#!/bin/sh\necho $$ >> starts\ni=0\nstop=0\ntrap 'stop=1' TERM\nwhile [ $stop = 0 ]; do i=$((i+1)); echo "$$ $i"; ${SLEEP} 0.01; done\necho $i > last.$$\n`,
  );
  // C's multilog keeps this test about svscan, whatever our multilog does meanwhile.
  script(path.join(dir, 'log/run'), `#!/bin/sh\necho $$ >> starts\nexec ${MULTILOG} ./main\n`);
}

function startsOf(dir: string): number[] {
  const f = path.join(dir, 'starts');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean).map(Number) : [];
}

function upPid(dir: string): number | undefined {
  const pid = readStatus(dir)?.pid ?? 0;
  return pid !== 0 && startsOf(dir).includes(pid) ? pid : undefined;
}

/** Every logged line of every writer, exactly once and in order, up to the N the writer reported on TERM. */
function checkLog(dir: string): Map<number, number> {
  const lines = readFileSync(path.join(dir, 'log/main/current'), 'utf8').split('\n').filter(Boolean);
  const seen = new Map<number, number[]>();
  for (const line of lines) {
    const [pid, n] = line.split(' ').map(Number) as [number, number];
    if (!seen.has(pid)) seen.set(pid, []);
    seen.get(pid)!.push(n);
  }
  const last = new Map<number, number>();
  for (const [pid, ns] of seen) {
    expect(ns, `lines of writer ${pid} in ${dir}`).toEqual(ns.map((_, i) => i + 1));
    last.set(pid, ns.length);
  }
  return last;
}

async function allUp(service: string): Promise<Map<string, number>> {
  const pids = new Map<string, number>();
  for (const n of NAMES) {
    pids.set(n, await pollUntil(`${n} up`, () => upPid(path.join(service, n)), { timeoutMs: 30_000 }));
    pids.set(`${n}/log`, await pollUntil(`${n}/log up`, () => upPid(path.join(service, n, 'log')), { timeoutMs: 30_000 }));
  }
  return pids;
}

async function linesLogged(service: string, atLeast: number): Promise<void> {
  for (const n of NAMES) {
    const current = path.join(service, n, 'log/main/current');
    await pollUntil(`${atLeast} lines in ${n}`, () => existsSync(current) && readFileSync(current, 'utf8').split('\n').length > atLeast, {
      timeoutMs: 30_000,
    });
  }
}

async function killHard(p: Background): Promise<void> {
  process.kill(p.pid, 'SIGKILL');
  await p.exited;
}

/**
 * After the restart: same pids (none started twice), then the adopted
 * service restarted by svc -t writes into the pipe the adopted logger reads,
 * the logger restarted by svc -t reads the pipe the new svscan holds, and
 * after svc -d every line of every writer is in the log exactly once.
 */
async function afterRestart(svc: string, service: string, before: Map<string, number>): Promise<void> {
  const svok = svc.replace(/svc$/, 'svok');
  for (const d of NAMES.flatMap((n) => [path.join(service, n), path.join(service, n, 'log')])) {
    await pollUntil(`${d} supervised again`, async () => (await run(svok, [d])).code === 0, { timeoutMs: 30_000 });
  }
  const again = await allUp(service);
  expect(Object.fromEntries(again)).toEqual(Object.fromEntries(before));
  for (const n of NAMES) {
    expect(startsOf(path.join(service, n))).toEqual([before.get(n)]);
    expect(startsOf(path.join(service, n, 'log'))).toEqual([before.get(`${n}/log`)]);
  }
  const stat = await run(svc.replace(/svc$/, 'svstat'), NAMES.map((n) => path.join(service, n)));
  for (const n of NAMES) expect(stat.stdout).toContain(`${path.join(service, n)}: up (pid ${before.get(n)})`);

  const a = path.join(service, 'a');
  expect((await run(svc, ['-t', a])).code).toBe(0);
  const second = await pollUntil('adopted a restarted', () => {
    const pid = upPid(a);
    return pid !== undefined && pid !== before.get('a') ? pid : undefined;
  });
  await pollUntil('the new a logs through the adopted logger', () => readFileSync(path.join(a, 'log/main/current'), 'utf8').includes(`\n${second} 5\n`));
  // svscan holds the write end again: the adopted logger saw no end of file when the old a went.
  expect(startsOf(path.join(a, 'log'))).toEqual([before.get('a/log')]);
  expect(alive(before.get('a/log')!)).toBe(true);
  expect((await run(svc, ['-t', path.join(a, 'log')])).code).toBe(0);
  await pollUntil('a/log restarted', () => {
    const pid = upPid(path.join(a, 'log'));
    return pid !== undefined && pid !== before.get('a/log') ? pid : undefined;
  });
  await pollUntil('a still logging through the new logger', () => {
    const text = readFileSync(path.join(a, 'log/main/current'), 'utf8');
    const m = new RegExp(`\\n${second} (\\d+)\\n$`).exec(text);
    return m && Number(m[1]) > 50;
  });

  for (const n of NAMES) expect((await run(svc, ['-d', path.join(service, n)])).code).toBe(0);
  for (const n of NAMES) {
    const dir = path.join(service, n);
    await pollUntil(`${n} down`, () => readStatus(dir)?.pid === 0);
    const writers = startsOf(dir);
    const finals = new Map<number, number>();
    await pollUntil(`every writer of ${n} reported its last line`, () => writers.every((w) => existsSync(path.join(dir, `last.${w}`))));
    for (const w of writers) finals.set(w, Number(readFileSync(path.join(dir, `last.${w}`), 'utf8')));
    await pollUntil(`log of ${n} complete`, () => {
      const got = checkLog(dir);
      return [...finals].every(([w, last]) => got.get(w) === last);
    });
    expect([...checkLog(dir).keys()].sort()).toEqual([...writers].sort());
  }
  expect(alive(before.get('a')!)).toBe(false);
}

describe('svscan survives its own death', { timeout: 180_000 }, () => {
  it.skipIf(!hasC)(needsC('kill -9 of svscan, then svscan again on the same directory: everything adopted, no line lost or doubled'), async () => {
    const { root, command } = await installedRoot();
    const service = path.join(root, 'service');
    for (const n of NAMES) numberedService(path.join(service, n));
    const first = startProcess(command('svscan'), [service], { env: FAST });
    const before = await allUp(service);
    await linesLogged(service, 20);
    await killHard(first);
    // The pairs keep going without svscan.
    await linesLogged(service, 60);
    for (const pid of before.values()) expect(alive(pid)).toBe(true);

    const second = startProcess(command('svscan'), [service], { env: FAST });
    await afterRestart(command('svc'), service, before);
    expect(second.stderr()).toMatch(/^svscan: info: descriptor limit \d+ leaves room for \d+ services, or \d+ with a logger\n$/);
    expect(readdirSync(path.join(service, 'a/supervise')).sort()).toEqual(['child', 'control', 'history', 'lock', 'ok', 'status']);
  });

  it.skipIf(!hasC)(needsC('svscan started again by svscanboot (which svc -dx every service first) adopts the same way'), async () => {
    const { root, command } = await installedRoot();
    const service = path.join(root, 'service');
    for (const n of NAMES) numberedService(path.join(service, n));
    const env = { ...FAST, DJBPKG_ROOT: root };
    const first = startProcess(command('svscanboot'), [], { env });
    const before = await allUp(service);
    await linesLogged(service, 20);
    await killHard(first);
    await linesLogged(service, 60);

    startProcess(command('svscanboot'), [], { env });
    await afterRestart(command('svc'), service, before);
  });
});
