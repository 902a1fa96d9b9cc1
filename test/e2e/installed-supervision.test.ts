import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useInstalledRuntime } from '../support/installed.js';
import { alive, pollUntil, startProcess } from '../support/procs.js';
import { run } from '../support/run.js';
import { tempDir } from '../support/tmp.js';
import { itNeeds } from '../support/needs.js';

/**
 * The supervision programs as installed (ROOT/command wrappers), driving a
 * service whose run script is a djb chain of our installed loaders; C's
 * svstat/svc/svok (Debian's, when installed) drive the same supervise.
 */

const rt = useInstalledRuntime();
const HAVE_C = ['svstat', 'svc', 'svok'].every((p) => existsSync(`/usr/bin/${p}`));
const root = process.getuid?.() === 0;

/**
 * Starts the installed supervise on a service whose run script is
 * `envdir ./env [setuidgid nobody] softlimit -m 100000000 sh -c ...`, waits
 * until it is up and checks the chain exec'd in place: the pid supervise
 * started is the program's own.
 */
async function chainService(): Promise<{ svc: string; pid: number; sup: ReturnType<typeof startProcess>; svstat: (bin: string) => Promise<string> }> {
  const dir = tempDir();
  const svc = path.join(dir, 'svc');
  mkdirSync(path.join(svc, 'env'), { recursive: true });
  writeFileSync(path.join(svc, 'env', 'GREETING'), 'hi\n');
  const out = path.join(dir, 'out');
  mkdirSync(out);
  chmodSync(out, 0o777);
  chmodSync(dir, 0o755);
  const user = root ? 'setuidgid nobody ' : '';
  writeFileSync(
    path.join(svc, 'run'),
    `#!/bin/sh\nexec envdir ./env ${user}softlimit -m 100000000 sh -c 'echo "$$ $GREETING $(id -u)" > ${out}/line; exec sleep 300'\n`,
    { mode: 0o755 },
  );
  const sup = startProcess(rt.command('supervise'), [svc], { env: { PATH: `${rt.commandDir}:/usr/bin:/bin` } });
  const svstat = async (bin: string) => (await run(bin, [svc])).stdout;
  const up = /: up \(pid (\d+)\) \d+ seconds\n$/;
  const pid = Number((await pollUntil('service up', async () => up.exec(await svstat(rt.command('svstat')))?.[1], { timeoutMs: 60_000, intervalMs: 50 })));
  const line = await pollUntil('the program wrote its line', () => (existsSync(path.join(out, 'line')) ? readFileSync(path.join(out, 'line'), 'utf8') : undefined), { timeoutMs: 30_000, intervalMs: 50 });
  expect(line).toBe(`${pid} hi ${root ? 65534 : process.getuid?.()}\n`);
  expect(readFileSync(`/proc/${pid}/limits`, 'utf8')).toMatch(/Max address space\s+100000000 /);
  return { svc, pid, sup, svstat };
}

describe('installed supervise, svc, svstat, svok with a chain-loaded service', { timeout: 180_000 }, () => {
  it('runs `envdir ./env setuidgid nobody softlimit -m 100000000 PROG` as one PID, and is driven by our clients', async () => {
    const { svc, pid, sup, svstat } = await chainService();
    expect((await run(rt.command('svok'), [svc])).code).toBe(0);
    expect((await run(rt.command('svc'), ['-d', svc])).code).toBe(0);
    await pollUntil('service down', async () => (/: down \d+ seconds, normally up\n$/.test(await svstat(rt.command('svstat'))) ? true : undefined), { timeoutMs: 30_000, intervalMs: 50 });
    expect(alive(pid)).toBe(false);
    // svc --help DIR: `--help` ends the options (0.76's getopt); -x then stops supervise.
    const help = await run(rt.command('svc'), ['--help', svc]);
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect((await run(rt.command('svc'), ['-x', svc])).code).toBe(0);
    const exited = await sup.exited;
    expect(exited.code).toBe(0);
  });

  itNeeds(HAVE_C, 'needs Debian daemontools in /usr/bin (svstat, svok, svc)')('the same supervise is read and driven by C\'s svstat, svok and svc', async () => {
    const { svc, pid, sup, svstat } = await chainService();
    expect(await svstat('/usr/bin/svstat')).toMatch(new RegExp(`: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    expect((await run('/usr/bin/svok', [svc])).code).toBe(0);
    expect((await run('/usr/bin/svc', ['-d', svc])).code).toBe(0);
    await pollUntil('service down', async () => (/: down \d+ seconds, normally up\n$/.test(await svstat(rt.command('svstat'))) ? true : undefined), { timeoutMs: 30_000, intervalMs: 50 });
    expect(alive(pid)).toBe(false);
    expect((await run('/usr/bin/svc', ['-x', svc])).code).toBe(0);
    expect((await sup.exited).code).toBe(0);
  });

  itNeeds(root && existsSync('/bin/sleep'), 'needs root (setuidgid nobody) and /bin/sleep')('a log/run chain `envdir ./env setuidgid nobody softlimit -m 50000000 multilog t ./main` (not the plain hosted form) runs as its own process, as nobody, in one Node start', async () => {
    const base = tempDir();
    chmodSync(base, 0o755);
    const services = path.join(base, 'service');
    const svc = path.join(services, 'hello');
    const log = path.join(svc, 'log');
    const main = path.join(log, 'main');
    mkdirSync(path.join(log, 'env'), { recursive: true });
    mkdirSync(main);
    chownSync(main, 65534, 65534);
    writeFileSync(path.join(svc, 'run'), '#!/bin/sh\ni=0\nwhile :; do i=$((i+1)); echo "line $i"; sleep 0.05; done\n', { mode: 0o755 });
    writeFileSync(path.join(log, 'run'), '#!/bin/sh\nexec envdir ./env setuidgid nobody softlimit -m 50000000 multilog t ./main\n', { mode: 0o755 });
    const starts = path.join(base, 'node-starts');
    const counter = path.join(base, 'count.mjs');
    writeFileSync(counter, `import { appendFileSync } from 'node:fs';\nappendFileSync(${JSON.stringify(starts)}, process.pid + ' ' + process.argv[1] + '\\n');\n`);
    const svscan = startProcess(rt.command('svscan'), [services], {
      env: { PATH: `${rt.commandDir}:/usr/bin:/bin`, NODE_OPTIONS: `--import ${counter}` },
    });
    const up = /: up \(pid (\d+)\) \d+ seconds\n$/;
    const logPid = Number(await pollUntil('log up', async () => up.exec((await run(rt.command('svstat'), [log])).stdout)?.[1], { timeoutMs: 60_000, intervalMs: 50 }));
    // Not hosted: svscan hosts only `exec [setuidgid USER] multilog ...` (docs/logger-rights.md); the chain is the logger.
    expect(alive(logPid) && readFileSync(`/proc/${logPid}/comm`, 'utf8').trim()).not.toBe('sleep');
    await pollUntil('stamped lines', () => (existsSync(path.join(main, 'current')) && /^@[0-9a-f]{24} line 3$/m.test(readFileSync(path.join(main, 'current'), 'utf8')) ? true : undefined), { timeoutMs: 60_000, intervalMs: 50 });
    expect(statSync(path.join(main, 'current')).uid).toBe(65534);
    expect(readFileSync(`/proc/${logPid}/status`, 'utf8')).toMatch(/^Uid:\t65534\t65534\t65534\t65534$/m);
    // svscan and the log chain (envdir ... multilog, one process): two Node starts, nothing per link.
    const lines = readFileSync(starts, 'utf8').split('\n').filter(Boolean);
    expect(lines.map((l) => path.basename(l.split(' ')[1]!))).toEqual(['svscan.js', 'envdir.js']);
    expect(Number(lines[1]!.split(' ')[0])).toBe(logPid);
    expect(svscan.stderr().replace(/^svscan: info: descriptor limit .*\n/, '')).toBe('');
  });
});
