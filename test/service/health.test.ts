import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pollUntil, startProcess, track } from '../support/procs.js';
import { djbpkg } from '../support/run.js';
import { copyRoot, ok, openTemp, parse, useInstalledDistribution } from '../support/service.js';

/**
 * Whether a service really works (docs/health.md). Crash loops, a failing logger
 * and readiness (notification-fd), seen through `djbpkg service status`,
 * `logs` and `start --wait`, under djbpkg's own svscan started by
 * `djbpkg boot` from an installed root; `status` also under Debian's C
 * svscan/supervise, which keep no history.
 */

interface Health {
  health: string;
  restarts: number | null;
  lastExit: { status: string; at: number; seconds: number } | null;
  ready: boolean | null;
  history: string | null;
  note: string | null;
}
interface Svc extends Health {
  name: string;
  ok: boolean;
  up: boolean;
  pid: number | null;
  log: (Health & { up: boolean }) | null;
}
interface StatusJson {
  ok: boolean;
  services: Svc[];
}

const dist = useInstalledDistribution();

function runner(root: string) {
  return (...args: string[]) => djbpkg(['--root', root, 'service', ...args], { env: { DJBPKG_ROOT: root } });
}

async function statusOf(run: ReturnType<typeof runner>, name: string): Promise<{ code: number | null; svc: Svc; stdout: string; stderr: string }> {
  const r = await run('status', name, '--json');
  const j = JSON.parse(r.stdout) as StatusJson;
  return { code: r.code, svc: j.services[0]!, stdout: r.stdout, stderr: r.stderr };
}

describe("health under djbpkg's runtime (djbpkg boot, installed root)", { timeout: 300_000 }, () => {
  let base: string;
  let root: string;
  let run: ReturnType<typeof runner>;
  let marks: string;

  // Every tracked process is killed after each test: each test boots its own svscan.
  beforeEach(async () => {
    base = openTemp('djbpkg-health-');
    root = path.join(base, 'root');
    copyRoot(dist.installed, root);
    const boot = parse<{ pid: number; readproctitlePid: number }>(await djbpkg(['boot', '--root', root, '--json']));
    track(boot.pid);
    track(boot.readproctitlePid);
    run = runner(root);
    marks = path.join(base, 'marks');
    mkdirSync(marks);
    chmodSync(marks, 0o777);
  }, 60_000);

  afterEach(async () => {
    if (root) await djbpkg(['boot', '--stop', '--root', root]);
    if (base) rmSync(base, { recursive: true, force: true });
  });

  it('a program that exits at once is crash-looping (111), its restarts rise, its last exit is right; once fixed it is up again (0)', async () => {
    const fixed = path.join(marks, 'fixed');
    ok(await run('add', 'crash', '--', 'sh', '-c', `if [ -e ${fixed} ]; then exec sleep 1000; fi; echo failing; exit 3`));
    ok(await run('enable', 'crash'));
    const first = await pollUntil('crash-looping', async () => {
      const s = await statusOf(run, 'crash');
      return s.svc.health === 'crash-looping' ? s : false;
    }, 40_000);
    expect(first.code).toBe(111);
    expect(first.svc.ok).toBe(false);
    expect(first.svc.lastExit?.status).toBe('code 3');
    expect(first.svc.lastExit!.seconds).toBeLessThan(5);
    expect(first.svc.history).toBe('djbpkg');
    expect(first.stderr).toBe('djbpkg: fatal: service crash (crash-looping) should be up but is not\n');
    const later = await pollUntil('more restarts', async () => {
      const s = await statusOf(run, 'crash');
      return s.svc.restarts! >= first.svc.restarts! + 2 ? s : false;
    }, 40_000);
    expect(later.svc.health).toBe('crash-looping');
    const text = await run('status', 'crash');
    expect(text.code).toBe(111);
    expect(text.stdout).toMatch(/^crash: crash-looping, (up \(pid \d+\)|down) \d+ seconds, normally up(, want up)?, \d+ restarts, last exit code 3 \d+ seconds ago after \d+\.\d seconds; log: up /);

    // Fixed: the next run stays; 5 seconds after its start the service is up again.
    writeFileSync(fixed, '');
    const back = await pollUntil('up again', async () => {
      const s = await statusOf(run, 'crash');
      return s.svc.health === 'up' && s.code === 0 ? s : false;
    }, 30_000);
    expect(back.svc.ok).toBe(true);
    expect(back.svc.lastExit?.status).toBe('code 3');
    expect((await run('status', 'crash')).code).toBe(0);
    ok(await run('remove', 'crash', '--purge-logs'));
  });

  it('a logger that cannot write its directory: status names it, logs shows multilog\'s warning', async () => {
    ok(await run('add', 'rolog', '--log-user', 'nobody', '--', 'sh', '-c', 'while :; do echo tick; sleep 1; done'));
    const logDir = path.join(root, 'var/multilog/rolog');
    chownSync(logDir, 0, 0);
    chmodSync(logDir, 0o555);
    ok(await run('enable', 'rolog'));
    const st = await pollUntil('logger crash-looping', async () => {
      const s = await statusOf(run, 'rolog');
      return s.svc.log?.health === 'crash-looping' ? s : false;
    }, 40_000);
    expect(st.code).toBe(111);
    expect(st.svc.health).toBe('up');
    expect(st.stderr).toBe('djbpkg: fatal: service rolog (logger crash-looping) should be up but is not\n');
    const text = await run('status', 'rolog');
    expect(text.stdout).toMatch(/; log: crash-looping, /);

    const logs = await run('logs', 'rolog');
    expect(logs.code).toBe(111);
    expect(logs.stdout).toBe('');
    expect(logs.stderr).toContain(`djbpkg: rolog: no log lines yet in `);
    expect(logs.stderr).toMatch(/djbpkg: rolog: the logger is crash-looping; its last \d+ warnings \(from its stderr\):\n/);
    expect(logs.stderr).toMatch(/^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} multilog: fatal: unable to lock directory \.\/main: access denied$/m);
    expect(logs.stderr).toContain('djbpkg: fatal: the logger of rolog is crash-looping\n');
    // The warnings file is supervise's own, root's, in the logger's supervise directory.
    expect(existsSync(path.join(root, 'var/svc.d/rolog/log/supervise/warnings'))).toBe(true);

    // Writable again: the logger recovers and logs says nothing of old warnings once its run is past them.
    chownSync(logDir, 65534, 65534);
    chmodSync(logDir, 0o755);
    await pollUntil('logger up', async () => ((await statusOf(run, 'rolog')).svc.log?.health === 'up' ? true : false), 30_000);
    const fine = await pollUntil('log lines', async () => {
      const r = await run('logs', 'rolog', '-n', '2');
      return r.code === 0 && r.stdout.includes('tick') ? r : false;
    }, 40_000);
    expect(fine.stderr).toBe('');
    ok(await run('remove', 'rolog', '--purge-logs'));
  });

  it('attack: a log user flooding its stderr with 20000 lines and escapes cannot stall supervision nor grow or poison the warnings', async () => {
    ok(await run('add', 'flood', '--log-user', 'nobody', '--', 'sleep', '1000'));
    const def = path.join(root, 'var/svc.d/flood');
    const logRun = readFileSync(path.join(def, 'log/run'), 'utf8');
    expect(logRun).toMatch(/exec setuidgid nobody multilog t \.\/main\n$/);
    const flood = `i=0; while [ $i -lt 20000 ]; do printf 'flood %s \\033]0;owned\\007\\n' $i >&2; i=$((i+1)); done; exec multilog t ./main`;
    writeFileSync(path.join(def, 'log/run'), `#!/bin/sh\nexec setuidgid nobody sh -c '${flood.replace(/'/g, "'\\''")}'\n`);
    ok(await run('enable', 'flood', '--wait', '60'));
    const warnings = path.join(def, 'log/supervise/warnings');
    await pollUntil('last flood line kept', () => existsSync(warnings) && readFileSync(warnings, 'utf8').includes('flood 19999 ?]0;owned?\n'), 60_000);
    const kept = readFileSync(warnings, 'utf8').split('\n').filter(Boolean);
    expect(kept.length).toBeLessThanOrEqual(20);
    expect(readFileSync(warnings, 'utf8')).not.toMatch(/[\x1b\x07]/);
    const st = statSync(warnings);
    expect([st.uid, st.mode & 0o777]).toEqual([0, 0o644]);
    expect(statSync(path.dirname(warnings)).mode & 0o777).toBe(0o700);
    // Supervision went on: a restart of the service is seen at once, and the logger is up.
    const t0 = Date.now();
    ok(await run('restart', 'flood', '--wait', '20'));
    expect(Date.now() - t0).toBeLessThan(15_000);
    await pollUntil('flood and its logger up', async () => ((await statusOf(run, 'flood')).code === 0 ? true : false), 40_000);
    ok(await run('remove', 'flood', '--purge-logs'));
  });

  it('start --wait waits for the readiness line (written after 2 s); one that never writes it fails at the deadline, naming it', async () => {
    ok(await run('add', 'ready', '--down', '--ready-fd', '3', '--', 'sh', '-c', 'sleep 2; echo >&3; exec sleep 1000'));
    ok(await run('add', 'never', '--down', '--ready-fd', '3', '--', 'sleep', '1000'));
    for (const n of ['ready', 'never']) ok(await run('enable', n, '--wait', '60'));

    const t0 = Date.now();
    const r = await run('start', 'ready', '--wait', '10', '--json');
    const took = Date.now() - t0;
    expect(r.code, r.stderr).toBe(0);
    expect(took).toBeGreaterThanOrEqual(2000);
    const s = await statusOf(run, 'ready');
    expect(s.svc).toMatchObject({ health: 'up', ready: true });
    expect((await run('status', 'ready')).stdout).toMatch(/^ready: up \(pid \d+\) \d+ seconds, normally down, ready; log: up /);
    // restart --wait waits for the new run's readiness, not the old one's.
    const t2 = Date.now();
    const rr = await run('restart', 'ready', '--wait', '10', '--json');
    expect(rr.code, rr.stderr).toBe(0);
    expect(Date.now() - t2).toBeGreaterThanOrEqual(2000);
    expect(JSON.parse(rr.stdout).state.pid).not.toBe(s.svc.pid);

    const t1 = Date.now();
    const n = await run('start', 'never', '--wait', '3');
    expect(n.code).toBe(111);
    expect(Date.now() - t1).toBeGreaterThanOrEqual(3000);
    expect(n.stderr).toContain('djbpkg: fatal: never did not say it was ready within 3 seconds (nothing written on notification-fd 3)\n');
    expect((await statusOf(run, 'never')).svc).toMatchObject({ health: 'up', ready: false });
    for (const x of ['ready', 'never']) ok(await run('remove', x, '--purge-logs'));
  });

  it('start --wait on a crash-looping program fails fast, naming the crash loop', async () => {
    ok(await run('add', 'loop', '--down', '--', 'sh', '-c', 'exit 4'));
    ok(await run('enable', 'loop', '--wait', '60'));
    const t0 = Date.now();
    const r = await run('start', 'loop', '--wait', '60');
    expect(r.code).toBe(111);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stderr).toMatch(/^djbpkg: fatal: loop is crash-looping: \d+ runs ended within 5 seconds of their start since the wait began \(last exit code 4 after \d+\.\d seconds\)\n/);
    ok(await run('remove', 'loop', '--purge-logs'));
  });
});

const C_SVSCAN = '/usr/bin/svscan';
const hasC = existsSync(C_SVSCAN);

describe.skipIf(!hasC)(`status under C daemontools (Debian's /usr/bin/svscan)${hasC ? '' : ' (skipped: /usr/bin/svscan is not installed)'}`, { timeout: 300_000 }, () => {
  it('up and crash-looping are told apart by the pid; restarts and last exit are stated unknown', async () => {
    const base = openTemp('djbpkg-health-c-');
    try {
      const root = path.join(base, 'root');
      mkdirSync(path.join(root, 'service'), { recursive: true });
      const scan = startProcess(C_SVSCAN, [path.join(root, 'service')], { env: { PATH: '/usr/bin:/bin' } });
      const run = runner(root);
      ok(await run('add', 'steady', '--', 'sleep', '1000'));
      ok(await run('add', 'crash', '--', 'sh', '-c', 'exit 3'));
      ok(await run('enable', 'steady', '--wait', '60'));
      ok(await run('enable', 'crash'));
      const steady = await pollUntil('steady up 2 s', async () => {
        const s = await statusOf(run, 'steady');
        return s.code === 0 && s.svc.health === 'up' ? s : false;
      }, 40_000);
      expect(steady.svc).toMatchObject({ restarts: null, lastExit: null, history: null });
      expect(steady.svc.note).toBe('C supervise keeps no history: restart count, last exit and readiness are unknown');
      const crash = await pollUntil('crash-looping seen', async () => {
        const s = await statusOf(run, 'crash');
        return s.svc.health === 'crash-looping' ? s : false;
      }, 40_000);
      expect(crash.code).toBe(111);
      expect(crash.svc.note).toMatch(/^pid changed from \d+ to (\d+|none) within 1\.5 seconds \(C supervise keeps no history/);
      // --wait under C: no history, so a crash loop fails at the deadline, naming the pids seen.
      ok(await run('add', 'loopw', '--down', '--', 'sh', '-c', 'exit 3'));
      ok(await run('enable', 'loopw', '--wait', '60'));
      const w = await run('start', 'loopw', '--wait', '5');
      expect(w.code).toBe(111);
      expect(w.stderr).toMatch(/^djbpkg: fatal: loopw did not stay up for 2 seconds within 5 seconds \(\d+ different pids seen\)\n/);
      expect((await run('start', 'steady', '--wait', '10')).code).toBe(0);
      process.kill(scan.pid, 'SIGTERM');
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
