import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Root } from '../../../src/core/root.js';
import { alive, pollUntil, startProcess, type Background } from '../../support/procs.js';
import { run } from '../../support/run.js';
import { hostedRoot, logHosts, NOBODY } from '../../support/hosted.js';

/**
 * Loggers hosted by svscan, through the installed command wrappers: a log
 * service `exec setuidgid nobody multilog ...` hands its work to svscan and
 * leaves a placeholder; the log must see every line exactly once.
 */


/** A service printing 1, 2, 3... (one line every few ms); on TERM it ends its iteration, records the last number printed in `last` and exits. */
const COUNTER = `#!/bin/sh
i=1
stop=0
trap 'stop=1' TERM
while [ $stop = 0 ]; do echo $i; i=$((i+1)); sleep 0.003; done
echo $((i-1)) > last
`;

interface Svc {
  dir: string;
  log: string;
  main: string;
}

function loggedService(root: Root, name: string, script: string, run = COUNTER): Svc {
  const dir = path.join(root.serviceDir, name);
  const log = path.join(dir, 'log');
  const main = path.join(log, 'main');
  mkdirSync(main, { recursive: true });
  chownSync(main, NOBODY, NOBODY);
  writeFileSync(path.join(dir, 'run'), run, { mode: 0o755 });
  writeFileSync(path.join(log, 'run'), `#!/bin/sh\nexec setuidgid nobody multilog ${script}\n`, { mode: 0o755 });
  return { dir, log, main };
}

function startSvscan(root: Root): Background {
  return startProcess(path.join(root.commandDir, 'svscan'), [root.serviceDir], {
    env: { PATH: `${root.commandDir}:/usr/bin:/bin`, DJBPKG_SVSCAN_INTERVAL_MS: '500', DJBPKG_MULTILOG_PAUSE_MS: '100' },
  });
}

function cmd(root: Root, name: string, args: string[]) {
  return run(path.join(root.commandDir, name), args);
}

async function upPid(root: Root, dir: string, other = 0): Promise<number> {
  return pollUntil(
    `${dir} up`,
    async () => {
      const m = /^.*: up \(pid (\d+)\)/.exec((await cmd(root, 'svstat', [dir])).stdout);
      return m && Number(m[1]) !== other ? Number(m[1]) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

/** Every line of a log directory, oldest first, without the timestamps. */
function logLines(main: string): string[] {
  const files = readdirSync(main).filter((f) => f.startsWith('@')).sort();
  if (existsSync(path.join(main, 'current'))) files.push('current');
  const text = files.map((f) => readFileSync(path.join(main, f), 'latin1')).join('');
  return text.split('\n').slice(0, -1).map((l) => l.replace(/^@[0-9a-f]{24} /, ''));
}

/** Stops the counter and waits until its last line is in the log; returns the numbers logged. */
async function stopCounter(root: Root, s: Svc): Promise<{ last: number; numbers: number[] }> {
  await cmd(root, 'svc', ['-d', s.dir]);
  const last = await pollUntil('the counter to stop', () => existsSync(path.join(s.dir, 'last')) && Number(readFileSync(path.join(s.dir, 'last'), 'utf8')), { timeoutMs: 30_000 });
  const numbers = await pollUntil(
    'the last line in the log',
    () => {
      const n = logLines(s.main).map(Number);
      return n.includes(last) ? n : undefined;
    },
    { timeoutMs: 30_000 },
  );
  return { last, numbers };
}

function expectEachOnce(numbers: number[], last: number): void {
  const seen = new Map<number, number>();
  for (const n of numbers) seen.set(n, (seen.get(n) ?? 0) + 1);
  const lost = [];
  const doubled = [];
  for (let i = 1; i <= last; i++) {
    const c = seen.get(i) ?? 0;
    if (c === 0) lost.push(i);
    if (c > 1) doubled.push(i);
  }
  expect({ lost, doubled, count: numbers.length }).toEqual({ lost: [], doubled: [], count: last });
}

/** The pid of the process svstat shows, checked to be the placeholder, not a Node multilog. */
function isPlaceholder(pid: number): boolean {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0] === 'multilog' && readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'sleep';
}

describe('loggers hosted by svscan', { timeout: 420_000 }, () => {
  it('hosts setuidgid nobody multilog: placeholder up, files owned by nobody, 100 restarts (svc -t, every fourth svc -k) lose and double nothing', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'count', 't ./main');
    const svscan = startSvscan(root);
    let pid = await upPid(root, s.log);
    await pollUntil('a placeholder', () => alive(pid) && isPlaceholder(pid), { timeoutMs: 30_000 });
    expect(statSync(`/proc/${pid}`).uid).toBe(NOBODY);
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    for (const f of ['current', 'lock', 'state']) expect(statSync(path.join(s.main, f)).uid).toBe(NOBODY);
    // svscan itself reads the pipe: the placeholder never does.
    // Each restart costs supervise's 1-second start pause: about 100 s in all.
    for (let i = 0; i < 100; i++) {
      await cmd(root, 'svc', [i % 4 === 3 ? '-k' : '-t', s.log]);
      pid = await upPid(root, s.log, pid);
    }
    await pollUntil('a placeholder again', () => alive(pid) && isPlaceholder(pid), { timeoutMs: 30_000 });
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
    expect(svscan.stderr().replace(/^svscan: info: descriptor limit .*\n/, '')).toBe('');
  });

  it('svc -a and kill -ALRM rotate; kill -TERM restarts; svc -d leaves current complete (0744)', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'rot', 't ./main');
    const svscan = startSvscan(root);
    let pid = await upPid(root, s.log);
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    await cmd(root, 'svc', ['-a', s.log]);
    const archived = await pollUntil('an archive', () => readdirSync(s.main).find((f) => /^@[0-9a-f]{24}\.s$/.test(f)));
    expect(statSync(path.join(s.main, archived)).uid).toBe(NOBODY);
    expect(statSync(path.join(s.main, archived)).mode & 0o777).toBe(0o744);
    pid = await upPid(root, s.log, pid);
    await pollUntil('placeholder', () => isPlaceholder(pid), { timeoutMs: 30_000 });
    process.kill(pid, 'SIGALRM');
    await pollUntil('a second archive', () => readdirSync(s.main).filter((f) => f.endsWith('.s')).length === 2);
    pid = await upPid(root, s.log, pid);
    await pollUntil('placeholder', () => isPlaceholder(pid), { timeoutMs: 30_000 });
    process.kill(pid, 'SIGTERM');
    pid = await upPid(root, s.log, pid);
    await cmd(root, 'svc', ['-d', s.log]);
    await pollUntil('logger down', async () => /: down /.test((await cmd(root, 'svstat', [s.log])).stdout));
    expect(statSync(path.join(s.main, 'current')).mode & 0o777).toBe(0o744);
    await cmd(root, 'svc', ['-u', s.log]);
    await upPid(root, s.log);
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
    expect(svscan.stderr().replace(/^svscan: info: descriptor limit .*\n/, '')).toBe('');
  });

  it('checks permissions as the logger user: a ./main nobody cannot write gives multilog\'s messages, then logging resumes', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'perm', 't ./main');
    chownSync(s.main, 0, 0);
    chmodSync(s.main, 0o755);
    const svscan = startSvscan(root);
    await pollUntil('the fatal line', () => svscan.stderr().includes('multilog: fatal: unable to lock directory ./main: access denied\n'));
    expect(readdirSync(s.main)).toEqual([]);
    chownSync(s.main, NOBODY, NOBODY);
    let pid = await pollUntil('a placeholder', async () => {
      const p = await upPid(root, s.log);
      return alive(p) && isPlaceholder(p) ? p : undefined;
    }, { timeoutMs: 30_000 });
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    // Rotation in a directory nobody may not write: 0.76's warning, a pause, and a retry until it can.
    chmodSync(s.main, 0o555);
    await cmd(root, 'svc', ['-a', s.log]);
    await pollUntil('the pause warning', () =>
      svscan.stderr().includes('multilog: warning: unable to rename current to previous in directory ./main, pausing: access denied\n'),
    );
    chmodSync(s.main, 0o755);
    await pollUntil('the archive', () => readdirSync(s.main).some((f) => f.endsWith('.s')));
    pid = await upPid(root, s.log, pid);
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
  });

  it('runs a processor as the logger user', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'proc', `'!tr 0-9 a-j; id -u >&5' ./main`);
    startSvscan(root);
    await upPid(root, s.log);
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    await cmd(root, 'svc', ['-a', s.log]);
    const archived = await pollUntil('a processed archive', () => readdirSync(s.main).find((f) => /^@[0-9a-f]{24}\.s$/.test(f)));
    const text = readFileSync(path.join(s.main, archived), 'latin1');
    expect(text).toMatch(/^b\nc\nd\n/);
    expect(statSync(path.join(s.main, archived)).uid).toBe(NOBODY);
    expect(readFileSync(path.join(s.main, 'state'), 'latin1')).toBe(`${NOBODY}\n`);
  });

  it('e and =FILE under a hosted logger: lines on svscan\'s stderr, the status file as nobody', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'acts', 't e =./main/st ./main');
    const svscan = startSvscan(root);
    await upPid(root, s.log);
    await pollUntil('a stamped line on stderr', () => /^@[0-9a-f]{24} 3$/m.test(svscan.stderr()));
    const st = path.join(s.main, 'st');
    expect(statSync(st).uid).toBe(NOBODY);
    const text = readFileSync(st, 'latin1');
    expect(text.length).toBe(1001);
    expect(text).toMatch(/^@[0-9a-f]{24} \d+\n+$/);
  });

  it('a multilog that is not the log service\'s own process (no exec) runs on its own, as before', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'plain', 't ./main');
    writeFileSync(path.join(s.log, 'run'), '#!/bin/sh\nsetuidgid nobody multilog t ./main\n', { mode: 0o755 });
    const svscan = startSvscan(root);
    const pid = await upPid(root, s.log);
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    expect(readFileSync(`/proc/${pid}/comm`, 'latin1').trim()).toBe('run');
    expect(existsSync(path.join(s.log, 'supervise/loghost'))).toBe(false);
    expect(statSync(path.join(s.main, 'current')).uid).toBe(NOBODY);
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
    expect(svscan.stderr().replace(/^svscan: info: descriptor limit .*\n/, '')).toBe('');
  });

  it('svc -p stops the logging (the service blocks once the pipe is full, as with C), svc -c resumes it; nothing lost', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'pause', 't ./main');
    startSvscan(root);
    const pid = await upPid(root, s.log);
    await pollUntil('a placeholder', () => alive(pid) && isPlaceholder(pid), { timeoutMs: 30_000 });
    await pollUntil('lines in current', () => logLines(s.main).length > 5);
    await cmd(root, 'svc', ['-p', s.log]);
    await pollUntil('the placeholder stopped', () => /^State:\s+T/m.test(readFileSync(`/proc/${pid}/status`, 'latin1')));
    // Lines in flight when -p arrived may still land; then nothing for as long as the logger is paused.
    await new Promise((r) => setTimeout(r, 500));
    const held = logLines(s.main).length;
    await new Promise((r) => setTimeout(r, 1500));
    expect(logLines(s.main).length).toBe(held);
    await cmd(root, 'svc', ['-c', s.log]);
    await pollUntil('logging again', () => logLines(s.main).length > held + 20, { timeoutMs: 30_000 });
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
  });

  it('the log host killed with -9 three times while three services write: restarted at once, every line once', async () => {
    const root = await hostedRoot();
    const svcs = ['a', 'b', 'c'].map((n) => loggedService(root, n, 't ./main'));
    const svscan = startSvscan(root);
    for (const s of svcs) await upPid(root, s.log);
    await pollUntil('lines in every log', () => svcs.every((s) => logLines(s.main).length > 20), { timeoutMs: 30_000 });
    for (let i = 0; i < 3; i++) {
      const hosts = await pollUntil('one log host', () => (logHosts(svscan.pid).length === 1 ? logHosts(svscan.pid) : undefined));
      process.kill(hosts[0]!, 'SIGKILL');
      const counts = svcs.map((s) => logLines(s.main).length);
      await pollUntil(
        'a new host writing every log',
        () => {
          const now = logHosts(svscan.pid);
          return now.length === 1 && now[0] !== hosts[0] && svcs.every((s, j) => logLines(s.main).length > counts[j]! + 20);
        },
        { timeoutMs: 30_000 },
      );
    }
    for (const s of svcs) {
      const { last, numbers } = await stopCounter(root, s);
      expectEachOnce(numbers, last);
    }
    expect(svscan.stderr().replace(/^svscan: info: descriptor limit .*\n/, '')).toBe('');
  });

  it('svscan kill -9 and again: the placeholder is re-adopted and the logger goes on, every line once', async () => {
    const root = await hostedRoot();
    const s = loggedService(root, 'crash', 't ./main');
    const first = startSvscan(root);
    const service = await upPid(root, s.dir);
    const pid = await upPid(root, s.log);
    await pollUntil('a placeholder', () => alive(pid) && isPlaceholder(pid), { timeoutMs: 30_000 });
    await pollUntil('lines in current', () => logLines(s.main).length > 20);
    expect(JSON.parse(readFileSync(path.join(s.log, 'supervise/loghost'), 'utf8'))).toMatchObject({ pid, account: 'nobody', argv: ['t', './main'] });
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    // The pipe's read end outlives svscan: the service goes on writing (into the pipe) and is not hurt.
    const before = logLines(s.main).length;
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(service) && alive(pid)).toBe(true);
    const second = startSvscan(root);
    await pollUntil('the logger resumed', () => logLines(s.main).length > before + 50, { timeoutMs: 30_000 });
    expect(await upPid(root, s.log)).toBe(pid);
    expect(await upPid(root, s.dir)).toBe(service);
    // svc -a on the adopted placeholder (not svscan's child: no exit status) still rotates: svscan knows what it sent.
    const archives = () => readdirSync(s.main).filter((f) => /^@[0-9a-f]{24}\.s$/.test(f)).length;
    const archivedBefore = archives();
    await cmd(root, 'svc', ['-a', s.log]);
    await pollUntil('an archive after svc -a', () => archives() > archivedBefore, { timeoutMs: 30_000 });
    const rotated = await upPid(root, s.log, pid);
    await pollUntil('a placeholder after the rotation', () => alive(rotated) && isPlaceholder(rotated), { timeoutMs: 30_000 });
    // A restart after the adoption hosts again.
    await new Promise((r) => setTimeout(r, 1100));
    await cmd(root, 'svc', ['-t', s.log]);
    const next = await upPid(root, s.log, rotated);
    await pollUntil('a new placeholder', () => alive(next) && isPlaceholder(next), { timeoutMs: 30_000 });
    const { last, numbers } = await stopCounter(root, s);
    expectEachOnce(numbers, last);
    expect(second.stderr()).not.toMatch(/multilog|warning/);
  });
});
