import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alive, pollUntil, startProcess, track } from '../support/procs.js';
import { djbpkg } from '../support/run.js';
import { copyRoot, lines, ok, openTemp, parse, useInstalledDistribution } from '../support/service.js';

/**
 * One service through its whole life, driven only by djbpkg: add, enable
 * (waiting until up), status, logs (with -f through a rotation), restart,
 * stop, start, disable (nothing restarts afterwards), remove. Once under
 * djbpkg's own svscan/supervise (started by `djbpkg boot` from the installed
 * root) and once under Debian's C svscan, supervise, envdir, setuidgid and
 * multilog from /usr/bin.
 */

interface State {
  supervised: boolean;
  up: boolean;
  pid: number | null;
  want: string | null;
}
interface Change {
  name: string;
  changed: boolean;
  state: State;
  log: State | null;
}

const dist = useInstalledDistribution();

interface Runtime {
  name: string;
  available: boolean;
  /** Prepares ROOT and starts svscan on ROOT/service; returns a stop function. */
  start(root: string): Promise<() => Promise<void>>;
}

const C_SVSCAN = '/usr/bin/svscan';

const RUNTIMES: Runtime[] = [
  {
    name: "djbpkg's runtime (djbpkg boot, installed root)",
    available: true,
    async start(root) {
      copyRoot(dist.installed, root);
      const boot = parse<{ pid: number; readproctitlePid: number }>(await djbpkg(['boot', '--root', root, '--json']));
      track(boot.pid);
      track(boot.readproctitlePid);
      return async () => {
        ok(await djbpkg(['boot', '--stop', '--root', root]));
      };
    },
  },
  {
    name: "C daemontools (Debian's /usr/bin/svscan)",
    available: existsSync(C_SVSCAN),
    async start(root) {
      mkdirSync(path.join(root, 'service'), { recursive: true });
      const scan = startProcess(C_SVSCAN, [path.join(root, 'service')], { env: { PATH: '/usr/bin:/bin' } });
      return async () => {
        // svscan has no clean stop; the tracked process tree is killed in teardown.
        process.kill(scan.pid, 'SIGTERM');
      };
    },
  },
];

const LINE = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} line (\d+) from hi$/;

for (const rt of RUNTIMES) {
  describe.skipIf(!rt.available)(`a service's life under ${rt.name}${rt.available ? '' : ' (skipped: /usr/bin/svscan is not installed)'}`, { timeout: 300_000 }, () => {
    it('add, enable, status, logs -f, restart, stop, start, disable (nothing restarts), remove', async () => {
      const base = openTemp('djbpkg-svc-life-');
      try {
        const root = path.join(base, 'root');
        const stop = await rt.start(root);
        // --root first (never after --) and DJBPKG_ROOT too: nothing may reach the real /.
        const run = (...args: string[]) => djbpkg(['--root', root, 'service', ...args], { env: { DJBPKG_ROOT: root } });
        const marks = path.join(base, 'marks');
        mkdirSync(marks);
        chmodSync(marks, 0o777);
        const starts = path.join(marks, 'hello.starts');
        const script = `echo start >> ${starts}; i=0; while :; do i=$((i+1)); echo "line $i from $GREETING"; sleep 0.1; done`;

        const added = parse<{ changed: boolean }>(await run('add', 'hello', '--json', '--user', 'nobody', '--env', 'GREETING=hi', '--', 'sh', '-c', script));
        expect(added.changed).toBe(true);

        const enabled = parse<Change>(await run('enable', 'hello', '--wait', '60', '--json'));
        expect(enabled).toMatchObject({ changed: true, state: { supervised: true, up: true } });
        const pid1 = enabled.state.pid!;
        // It runs as nobody (setuidgid, once the run script's chain has exec'd it).
        await pollUntil('service running as nobody', () => /^Uid:\s+65534\s/m.test(readFileSync(`/proc/${pid1}/status`, 'utf8')), 40_000);

        const st = await pollUntil('hello and its logger up', async () => {
          const r = await run('status', 'hello');
          return r.code === 0 && /^hello: up \(pid \d+\) \d+ seconds, normally up; log: up \(pid \d+\) \d+ seconds, normally up\n$/.test(r.stdout) ? r : false;
        }, 40_000);
        expect(st.stderr).toBe('');
        const sj = parse<{ ok: boolean; services: { name: string; up: boolean; pid: number; log: State }[] }>(await run('status', '--json'));
        expect(sj.ok).toBe(true);
        expect(sj.services).toMatchObject([{ name: 'hello', up: true, pid: pid1, log: { up: true } }]);

        // logs: human times, as tai64nlocal prints them (TZ=UTC in tests).
        const tail = await pollUntil('three log lines', async () => {
          const r = await run('logs', 'hello', '-n', '3');
          const ls = r.stdout.split('\n').filter(Boolean);
          return ls.length === 3 ? ls : false;
        }, 40_000);
        for (const l of tail) expect(l).toMatch(LINE);

        // logs -f follows through a rotation (svc -a to the logger) without losing or repeating a line.
        const logDir = path.join(root, 'var/multilog/hello');
        const follower = startProcess(process.execPath, [path.join(process.cwd(), 'dist/bin/djbpkg.js'), 'service', 'logs', 'hello', '-f', '-n', '0', '--root', root]);
        const followed = () => follower.stdout().split('\n').filter(Boolean);
        await pollUntil('follower prints new lines', () => followed().length >= 3, 40_000);
        writeFileSync(path.join(root, 'service/hello/log/supervise/control'), 'a');
        const archived = await pollUntil('a rotated log file', () => readdirSync(logDir).find((n) => /^@[0-9a-f]{24}\.s$/.test(n)), 40_000);
        const lastArchived = Number(/ line (\d+) /.exec(lines(path.join(logDir, archived)).at(-1)!)![1]);
        await pollUntil('follower past the rotation', () => followed().some((l) => Number(LINE.exec(l)?.[1]) > lastArchived + 3), 40_000);
        process.kill(follower.pid, 'SIGTERM');
        await follower.exited;
        const nums = followed().map((l) => {
          const m = LINE.exec(l);
          expect(m, l).not.toBeNull();
          return Number(m![1]);
        });
        for (let i = 1; i < nums.length; i++) expect(nums[i]).toBe(nums[i - 1]! + 1);

        const restarted = parse<Change>(await run('restart', 'hello', '--wait', '30', '--json'));
        expect(restarted.changed).toBe(true);
        expect(restarted.state.up).toBe(true);
        expect(restarted.state.pid).not.toBe(pid1);
        await pollUntil('old pid gone', () => !alive(pid1), 40_000);
        await pollUntil('two starts', () => lines(starts).length === 2, 40_000);

        // Paused (svc -p) shows in status; svc -c continues it.
        const control = path.join(root, 'service/hello/supervise/control');
        writeFileSync(control, 'p');
        await pollUntil('status says paused', async () => /^hello: up \(pid \d+\) \d+ seconds, normally up, paused(, [^;]*)?; log: up/.test((await run('status', 'hello')).stdout), 40_000);
        expect(parse<{ services: { paused: boolean }[] }>(await run('status', '--json')).services[0]!.paused).toBe(true);
        writeFileSync(control, 'c');
        await pollUntil('status no longer paused', async () => !(await run('status', 'hello')).stdout.includes('paused'), 40_000);

        const stopped = parse<Change>(await run('stop', 'hello', '--wait', '30', '--json'));
        expect(stopped).toMatchObject({ changed: true, state: { up: false, want: 'down' } });
        const stoppedAgain = parse<Change>(await run('stop', 'hello', '--json'));
        expect(stoppedAgain.changed).toBe(false);
        // Down because it was told so: not a failure for monitoring.
        const downStatus = await run('status', 'hello');
        expect(downStatus.code).toBe(0);
        expect(downStatus.stdout).toMatch(/^hello: down \d+ seconds, normally up(, [^;]*)?; log: up/);
        const started = parse<Change>(await run('start', 'hello', '--wait', '30', '--json'));
        expect(started).toMatchObject({ changed: true, state: { up: true, want: 'up' } });
        const pid3 = started.state.pid!;
        await pollUntil('three starts', () => lines(starts).length === 3, 40_000);

        // disable: link first, then svc -dx service and logger; both supervise processes gone.
        const disabled = parse<Change>(await run('disable', 'hello', '--json'));
        expect(disabled).toMatchObject({ changed: true, state: { supervised: false }, log: { supervised: false } });
        expect(existsSync(path.join(root, 'service/hello'))).toBe(false);
        await pollUntil('service process gone', () => !alive(pid3), 40_000);
        // Proof that svscan scanned again after disable: a second service comes up; hello does not.
        ok(await run('add', 'witness', '--', 'sleep', '1000'));
        parse(await run('enable', 'witness', '--wait', '60', '--json'));
        const after = parse<{ ok: boolean; services: { name: string; enabled: boolean; supervised: boolean; log: State | null }[] }>(await run('status', '--json'));
        expect(after.ok).toBe(true);
        expect(after.services.find((s) => s.name === 'hello')).toMatchObject({ enabled: false, supervised: false });
        expect(lines(starts).length).toBe(3);
        const def = path.join(root, 'var/svc.d/hello');
        const again = await run('status', 'hello');
        expect(again.stdout).toBe('hello: disabled (not in /service)\n');
        expect(readFileSync(path.join(def, 'supervise/status')).length).toBe(18);

        const removed = parse<{ changed: boolean; logsPurged: boolean }>(await run('remove', 'hello', '--json'));
        expect(removed).toMatchObject({ changed: true, logsPurged: false });
        expect(existsSync(def)).toBe(false);
        expect(readdirSync(logDir)).toContain('current');
        expect(parse(await run('remove', 'witness', '--purge-logs', '--json'))).toMatchObject({ changed: true, logsPurged: true });
        expect(existsSync(path.join(root, 'var/multilog/witness'))).toBe(false);
        expect(readdirSync(path.join(root, 'service'))).toEqual([]);
        await stop();
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    });
  });
}
