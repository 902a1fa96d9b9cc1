import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { processStartTime } from '../../src/posix/index.js';
import { describe, expect, it } from 'vitest';
import { alive, pollUntil, startProcess } from '../support/procs.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { bin, ours, readStatus, recordNamingStranger, SLEEP } from '../support/supervise.js';

const FAST = { DJBPKG_SVSCAN_INTERVAL_MS: '200' };
const INFO = /^svscan: info: descriptor limit (\d+) leaves room for (\d+) services, or (\d+) with a logger$/;

function script(file: string, text: string): void {
  writeFileSync(file, text);
  chmodSync(file, 0o755);
}

/** A directory of `svc`, `svok`, `supervise` wrappers around our built programs, for PATH. */
function ourCommands(): string {
  const dir = tempDir('djbpkg-cmds-');
  for (const name of ['svc', 'svok', 'supervise']) script(path.join(dir, name), `#!/bin/sh\nexec ${process.execPath} ${bin(name)} "$@"\n`);
  return dir;
}

function sleeper(dir: string): void {
  mkdirSync(dir, { recursive: true });
  script(path.join(dir, 'run'), `#!/bin/sh\nexec ${SLEEP} 1000\n`);
}

describe('0.76 conformance', () => {
  // djb's rts.tests "svc -u works", without its racy `svc -u`: the restarted run sends `x` and exits within the pause.
  for (const [who, commands] of [
    ['C', '/usr/bin'],
    ['ours', undefined],
  ] as const) {
    const missing = commands !== undefined && !existsSync(path.join(commands, 'supervise'));
    it.skipIf(missing)(`a run restarted on an exit that sends svc -x to its own service is not started again (${who})${missing ? ' (skipped: no C supervise)' : ''}`, async () => {
      const base = tempDir();
      const dir = path.join(base, 'test.sv');
      mkdirSync(dir);
      script(path.join(dir, 'run'), '#!/bin/sh\necho first\nmv run2 run\n');
      script(path.join(dir, 'run2'), '#!/bin/sh\necho second\nsvc -x .\n');
      const cmds = commands ?? ourCommands();
      const sup = startProcess(path.join(cmds, 'supervise'), ['test.sv'], { cwd: base, env: { PATH: `${cmds}:${process.env.PATH}` } });
      const end = await Promise.race([sup.exited, new Promise((r) => setTimeout(() => r('still running'), 20_000))]);
      expect(end).toEqual({ code: 0, signal: null });
      expect(sup.stdout()).toBe('first\nsecond\n');
    }, 30_000);
  }

  it('a supervise/control that is a regular file: one fatal line, nothing held, and the service starts once the FIFO is back', async () => {
    const root = tempDir();
    const dir = path.join(root, 's');
    sleeper(dir);
    mkdirSync(path.join(dir, 'supervise'));
    writeFileSync(path.join(dir, 'supervise/control'), '');
    const alone = await ours('supervise', ['s'], { cwd: root });
    expect([alone.stderr, alone.code]).toEqual(['supervise: fatal: unable to read s/supervise/control: not a FIFO\n', 111]);

    const scan = startProcess(process.execPath, [bin('svscan'), root], { env: FAST });
    const complaints = () => scan.stderr().split('\n').filter((l) => l === 'supervise: fatal: unable to read s/supervise/control: not a FIFO');
    await pollUntil('the complaint repeated by later scans', () => complaints().length >= 3);
    expect(readStatus(dir)?.pid ?? 0).toBe(0);
    rmSync(path.join(dir, 'supervise/control'));
    const pid = await pollUntil('s up once control can be a FIFO', () => readStatus(dir)?.pid || undefined);
    expect(alive(pid)).toBe(true);
    expect((await ours('svok', ['s'], { cwd: root })).code).toBe(0);
  });
});

describe('faults stay where they happen', () => {
  it('an error thrown in one supervisor (injected at the posix seam) leaves svscan and the other services going', async () => {
    const root = tempDir();
    for (const n of ['faulty', 'good']) sleeper(path.join(root, n));
    const scan = startProcess(process.execPath, [bin('svscan'), root], { env: { ...FAST, DJBPKG_TEST_FAULT: 'signal@/faulty' } });
    const faulty = await pollUntil('faulty up', () => readStatus(path.join(root, 'faulty'))?.pid || undefined);
    const good = await pollUntil('good up', () => readStatus(path.join(root, 'good'))?.pid || undefined);

    expect((await ours('svc', ['-t', 'faulty'], { cwd: root })).code).toBe(0);
    const warning = await pollUntil('one warning line', () => scan.stderr().split('\n').find((l) => l.includes('internal error')));
    expect(warning).toMatch(/^supervise: warning: faulty: internal error in control t: injected fault: signal \S+\/faulty$/);
    expect(alive(scan.pid)).toBe(true);
    expect(readStatus(path.join(root, 'faulty'))?.pid).toBe(faulty);

    // The others still work: a killed service is restarted, svc reaches it.
    process.kill(good, 'SIGKILL');
    const good2 = await pollUntil('good restarted', () => {
      const pid = readStatus(path.join(root, 'good'))?.pid ?? 0;
      return pid !== 0 && pid !== good ? pid : undefined;
    });
    expect((await ours('svc', ['-t', 'good'], { cwd: root })).code).toBe(0);
    await pollUntil('good restarted by svc -t', () => {
      const pid = readStatus(path.join(root, 'good'))?.pid ?? 0;
      return pid !== 0 && pid !== good2 ? pid : undefined;
    });
    // So does the faulty one, for everything but the failing operation.
    expect((await ours('svc', ['-p', 'faulty'], { cwd: root })).code).toBe(0);
    await pollUntil('faulty marked paused', () => readStatus(path.join(root, 'faulty'))?.paused === true);
    process.kill(faulty, 'SIGKILL');
    await pollUntil('faulty restarted', () => {
      const pid = readStatus(path.join(root, 'faulty'))?.pid ?? 0;
      return pid !== 0 && pid !== faulty ? pid : undefined;
    });
    const r = await ours('svstat', ['faulty', 'good'], { cwd: root });
    expect(r.stdout).toMatch(/^faulty: up \(pid \d+\) \d+ seconds\ngood: up \(pid \d+\) \d+ seconds\n$/);
    expect(scan.stderr().split('\n').filter((l) => l.includes('internal error')).length).toBe(2);
  });
});

describe('descriptors', () => {
  it('250 services under nofile=1024: what fits runs and is restarted, the rest get one warning each per scan', async () => {
    const root = tempDir();
    const names = Array.from({ length: 250 }, (_, i) => `s${String(i).padStart(3, '0')}`);
    for (const n of names) sleeper(path.join(root, n));
    const scan = startProcess('prlimit', ['--nofile=1024', '--', process.execPath, bin('svscan'), root], { env: { DJBPKG_SVSCAN_INTERVAL_MS: '1000' } });
    const info = await pollUntil('start-up line', () => INFO.exec(scan.stderr().split('\n')[0] ?? '') ?? undefined);
    expect(Number(info[1])).toBe(1024);
    const room = Number(info[2]);
    expect(room).toBeGreaterThan(200);
    expect(room).toBeLessThan(250);
    const up = () => names.filter((n) => (readStatus(path.join(root, n))?.pid ?? 0) !== 0);
    await pollUntil(`${room} up`, () => up().length === room, { timeoutMs: 60_000 });
    const refused = names.filter((n) => !up().includes(n));
    expect(refused.length).toBe(250 - room);
    // One warning per refused service per scan.
    const warnings = () => scan.stderr().split('\n').filter((l) => l.startsWith('svscan: warning: unable to start '));
    await pollUntil('two scans of warnings', () => warnings().length >= 2 * refused.length);
    for (const n of refused) expect(warnings()).toContain(`svscan: warning: unable to start ${n}: descriptor limit 1024 reached`);
    expect(scan.stderr()).not.toMatch(/cannot open more files/);

    // What runs keeps being restarted.
    for (const n of [up()[0]!, up()[room - 1]!]) {
      const old = readStatus(path.join(root, n))!.pid;
      process.kill(old, 'SIGKILL');
      const fresh = await pollUntil(`${n} restarted`, () => {
        const pid = readStatus(path.join(root, n))?.pid ?? 0;
        return pid !== 0 && pid !== old ? pid : undefined;
      });
      const r = await run(process.execPath, [bin('svstat'), n], { cwd: root });
      expect(r.stdout).toMatch(new RegExp(`^${n}: up \\(pid ${fresh}\\) \\d+ seconds\\n$`));
    }
  }, 120_000);
});

describe('supervise adopts what its predecessor left running', () => {
  it('supervise killed with -9 and started again takes the same run over; svc then acts on it', async () => {
    const base = tempDir();
    const dir = path.join(base, 's');
    sleeper(dir);
    const first = startProcess(process.execPath, [bin('supervise'), 's'], { cwd: base });
    const pid = await pollUntil('s up', () => readStatus(dir)?.pid || undefined);
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    expect(alive(pid)).toBe(true);
    const second = startProcess(process.execPath, [bin('supervise'), 's'], { cwd: base });
    await pollUntil('supervised again', async () => (await ours('svok', ['s'], { cwd: base })).code === 0);
    expect(readStatus(dir)?.pid).toBe(pid);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(new RegExp(`^s: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    // Not our child, yet -t ends it and it is restarted; -dx stops it and supervise.
    expect((await ours('svc', ['-t', 's'], { cwd: base })).code).toBe(0);
    const next = await pollUntil('restarted', () => {
      const p = readStatus(dir)?.pid ?? 0;
      return p !== 0 && p !== pid ? p : undefined;
    });
    expect(alive(pid)).toBe(false);
    expect((await ours('svc', ['-dx', 's'], { cwd: base })).code).toBe(0);
    expect(await second.exited).toEqual({ code: 0, signal: null });
    expect(alive(next)).toBe(false);
    expect(second.stderr()).toBe('');
  });

  it('a recorded pid that now belongs to another process (start time differs) is not adopted', async () => {
    const base = tempDir();
    const { dir, stranger, pid } = await recordNamingStranger(base);
    // As if the pid had been reused by `stranger`: the child record names it too, with the old start time.
    const child = readFileSync(path.join(dir, 'supervise/child'), 'utf8').replace(/^pid \d+$/m, `pid ${stranger.pid}`);
    writeFileSync(path.join(dir, 'supervise/child'), child);
    startProcess(process.execPath, [bin('supervise'), 's'], { cwd: base });
    const fresh = await pollUntil('a new run', () => {
      const p = readStatus(dir)?.pid ?? 0;
      return p !== 0 && p !== stranger.pid && p !== pid ? p : undefined;
    });
    expect(alive(fresh)).toBe(true);
    expect(alive(stranger.pid)).toBe(true);
  });

  it('a record from another boot naming a live unrelated process (its very start time) is not adopted, and svc -k spares it', async () => {
    const base = tempDir();
    const { dir, stranger, pid } = await recordNamingStranger(base);
    // After a reboot, pids and start times (ticks since boot) repeat: only the boot id tells the records apart.
    const start = processStartTime(stranger.pid)!;
    const thisBoot = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    const record = readFileSync(path.join(dir, 'supervise/child'), 'utf8');
    expect(record).toContain(`boot ${thisBoot}\n`);
    writeFileSync(
      path.join(dir, 'supervise/child'),
      record.replace(/^pid \d+$/m, `pid ${stranger.pid}`).replace(/^start \d+$/m, `start ${start}`).replace(/^boot .*$/m, 'boot 00000000-0000-4000-8000-000000000000'),
    );
    startProcess(process.execPath, [bin('supervise'), 's'], { cwd: base });
    const fresh = await pollUntil('a new run', () => {
      const p = readStatus(dir)?.pid ?? 0;
      return p !== 0 && p !== stranger.pid && p !== pid ? p : undefined;
    });
    await new Promise((r) => setTimeout(r, 1100));
    expect((await ours('svc', ['-k', 's'], { cwd: base })).code).toBe(0);
    await pollUntil('the fresh run killed', () => !alive(fresh));
    expect(alive(stranger.pid)).toBe(true);
  });
});

describe('svscan restarted after what it supervised changed meanwhile', () => {
  it('a service that died while svscan was dead is started once; one still running is adopted', async () => {
    const root = tempDir();
    for (const n of ['gone', 'kept']) {
      sleeper(path.join(root, n));
      writeFileSync(path.join(root, n, 'run'), `#!/bin/sh\necho $$ >> starts\nexec ${SLEEP} 1000\n`);
    }
    const first = startProcess(process.execPath, [bin('svscan'), root], { env: FAST });
    const gone = await pollUntil('gone up', () => readStatus(path.join(root, 'gone'))?.pid || undefined);
    const kept = await pollUntil('kept up', () => readStatus(path.join(root, 'kept'))?.pid || undefined);
    process.kill(first.pid, 'SIGKILL');
    await first.exited;
    process.kill(gone, 'SIGKILL');
    await pollUntil('gone is gone', () => !alive(gone));
    startProcess(process.execPath, [bin('svscan'), root], { env: FAST });
    const fresh = await pollUntil('gone started again', () => {
      const pid = readStatus(path.join(root, 'gone'))?.pid ?? 0;
      return pid !== 0 && pid !== gone ? pid : undefined;
    });
    await pollUntil('kept supervised again', async () => (await ours('svok', ['kept'], { cwd: root })).code === 0);
    const r = await ours('svstat', ['gone', 'kept'], { cwd: root });
    expect(r.stdout).toMatch(new RegExp(`^gone: up \\(pid ${fresh}\\) \\d+ seconds\\nkept: up \\(pid ${kept}\\) \\d+ seconds\\n$`));
    const startsOf = (n: string) => readFileSync(path.join(root, n, 'starts'), 'utf8').split('\n').filter(Boolean).map(Number);
    await pollUntil('gone recorded its start', () => startsOf('gone').length === 2);
    expect(startsOf('gone')).toEqual([gone, fresh]);
    expect(startsOf('kept')).toEqual([kept]);
  });
});
