import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { alive, pollUntil } from '../../support/procs.js';
import { cmd, descendants, expectNoRootForLoggers, expectOwnedByNobody, expectSupervisionUnharmed, hostedRoot, isPlaceholder, loggedService, logHosts, logLines, NOBODY, plainService, startSvscan, upPid } from '../../support/hosted.js';

/**
 * What a log user (nobody) can make root do through svscan's hosted
 * loggers: nothing. Each attack on the hosted loggers (docs/logger-rights.md), as a regression test.
 */

/** Runs a shell command as nobody (all ids, groups {nobody}). */
function asNobody(script: string): { status: number | null; stderr: string } {
  const r = spawnSync('/bin/sh', ['-c', script], { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

function fdTargets(pid: number, from = 0): string[] {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => Number(fd) >= from).map((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
}

describe('hosted loggers under attack by their log user', { timeout: 240_000 }, () => {
  it('a previous directory and SIGALRM as nobody: the rotation pauses in nobody\'s host, supervision and the other loggers go on', async () => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const att = loggedService(root, 'att', 't ./main');
    const svscan = startSvscan(root);
    const pid = await upPid(root, att.log);
    await pollUntil('a placeholder', () => isPlaceholder(pid));
    await pollUntil('lines in both logs', () => logLines(att.main).length > 5 && logLines(healthy.main).length > 5);
    // The layout `djbpkg service add` makes: the directory is nobody's, and so is the logger.
    const r = asNobody(`mkdir ${att.main}/previous && touch ${att.main}/previous/x && kill -ALRM ${pid}`);
    expect(r).toEqual({ status: 0, stderr: '' });
    await pollUntil('the pause warning', () => svscan.stderr().includes('multilog: warning: unable to rename current to previous in directory ./main, pausing: is a directory\n'));
    await expectSupervisionUnharmed(root, victim, healthy.main);
    expectNoRootForLoggers(svscan.pid);
    // The host changed ids before anything else: not dumpable, so nobody cannot reach into it either.
    for (const h of logHosts(svscan.pid)) expect(asNobody(`ls /proc/${h}/fd`).status).not.toBe(0);
    expectOwnedByNobody(att.main);
    expectOwnedByNobody(healthy.main);
    // The log user undoes it: the rotation completes and the logger goes on.
    expect(asNobody(`rm -r ${att.main}/previous`).status).toBe(0);
    await pollUntil('the archive', () => readdirSync(att.main).some((f) => f.endsWith('.s')));
    const n = logLines(att.main).length;
    await pollUntil('the attacked logger writing again', () => logLines(att.main).length > n + 10, { timeoutMs: 30_000 });
  });

  it('a log program of nobody\'s own gets no hand-over socket, no environment, no root help; its setuid exec changes nothing', async () => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const evil = loggedService(root, 'evil', '');
    const pwned = path.join(root.dir, 'pwned');
    // nobody's program: records what it was given, tries the old hello on fd 3 from a child that outlives
    // a setuid-root exec, then becomes a plain logger.
    const program = path.join(evil.log, 'logger');
    writeFileSync(
      program,
      `#!/bin/sh
ls -l /proc/$$/fd/ > ./main/fds
env > ./main/env
( sleep 0.3; printf '{"hello":1,"pid":%s,"argv":["!id > ${pwned}; cat","${pwned}"],"cwd":"/"}\\n' $$ >&3 ) 2>/dev/null &
/usr/bin/passwd -S nobody > /dev/null 2>&1
exec cat > ./main/copy
`,
      { mode: 0o755 },
    );
    chownSync(program, NOBODY, NOBODY);
    writeFileSync(path.join(evil.log, 'run'), '#!/bin/sh\nexec setuidgid nobody ./logger\n', { mode: 0o755 });
    const svscan = startSvscan(root);
    const pid = await upPid(root, evil.log);
    await pollUntil('the program ran', () => existsSync(path.join(evil.main, 'env')) && existsSync(path.join(evil.main, 'copy')));
    expect(isPlaceholder(pid)).toBe(false);
    // No fd 3 and no socket at all: nothing to say hello on, nothing to copy out with pidfd_getfd.
    const fds = readFileSync(path.join(evil.main, 'fds'), 'latin1');
    expect(fds).toMatch(/ 0 -> pipe:/);
    expect(fds).not.toMatch(/ 3 -> /);
    // The only sockets are svscan's own stdout and stderr (the test harness's), which every ./run gets.
    const harness = new Set([readlinkSync(`/proc/${svscan.pid}/fd/1`), readlinkSync(`/proc/${svscan.pid}/fd/2`)]);
    expect([...fds.matchAll(/socket:\[\d+\]/g)].map((m) => m[0]).filter((t) => !harness.has(t))).toEqual([]);
    expect(readFileSync(path.join(evil.main, 'env'), 'latin1')).not.toMatch(/DJBPKG_LOGHOST/);
    await pollUntil('lines copied by the program itself', () => readFileSync(path.join(evil.main, 'copy'), 'latin1').split('\n').length > 5);
    await expectSupervisionUnharmed(root, victim, healthy.main);
    expect(existsSync(pwned)).toBe(false);
    expectNoRootForLoggers(svscan.pid);
    expectOwnedByNobody(evil.main);
    expect(svscan.stderr()).not.toMatch(/multilog/);
  });

  it('a C multilog as the log program holds nothing of svscan\'s a same-uid process could steal (needs /usr/bin/multilog)', async (ctx) => {
    if (!existsSync('/usr/bin/multilog')) ctx.skip('needs /usr/bin/multilog (Debian daemontools)');
    const root = await hostedRoot();
    const c = loggedService(root, 'cml', '', { logRun: '#!/bin/sh\nexec setuidgid nobody /usr/bin/multilog t ./main\n' });
    startSvscan(root);
    const pid = await upPid(root, c.log);
    await pollUntil('C multilog running', () => readFileSync(`/proc/${pid}/comm`, 'latin1').trim() === 'multilog' && logLines(c.main).length > 5);
    // pidfd_getfd can take only what is there: the pipe it reads, its lock, current and the inherited stdout/stderr.
    // (fds 1 and 2 are svscan's own stdout and stderr, sockets of the test harness.)
    expect(fdTargets(pid, 3).filter((t) => t.startsWith('socket:'))).toEqual([]);
  });

  it('9000 directories: not hosted (the script is not the short plain form); 70 directories: over the cap, run as their own process; svscan\'s descriptors untouched', async () => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const many = loggedService(root, 'many', Array.from({ length: 9000 }, (_, i) => `./main/d${i}`).join(' '));
    const some = loggedService(root, 'some', Array.from({ length: 70 }, (_, i) => `./main/d${i}`).join(' '));
    const svscan = startSvscan(root);
    const fdsBefore = await pollUntil('svscan started', () => readdirSync(`/proc/${svscan.pid}/fd`).length);
    const manyPid = await upPid(root, many.log);
    const somePid = await upPid(root, some.log);
    await pollUntil('70 directories written', () => existsSync(path.join(some.main, 'd69', 'current')) && readFileSync(path.join(some.main, 'd69', 'current'), 'latin1').length > 10, { timeoutMs: 60_000 });
    expect(isPlaceholder(manyPid)).toBe(false);
    expect(isPlaceholder(somePid)).toBe(false);
    await expectSupervisionUnharmed(root, victim, healthy.main);
    // svscan holds a few descriptors per service, whatever its loggers ask for.
    expect(readdirSync(`/proc/${svscan.pid}/fd`).length).toBeLessThan(fdsBefore + 100);
    expectNoRootForLoggers(svscan.pid);
    for (const h of logHosts(svscan.pid)) expect(fdTargets(h).length).toBeLessThan(60);
    expect(alive(manyPid) || descendants(svscan.pid).length > 0).toBe(true);
  });

  it('a failed start-up keeps nothing open: a logger whose second directory nobody cannot write restarts without the host growing', async () => {
    const root = await hostedRoot();
    const bad = loggedService(root, 'bad', 't ./main ./ro');
    mkdirSync(path.join(bad.log, 'ro'), { mode: 0o755 });
    const svscan = startSvscan(root);
    await pollUntil('the fatal line', () => svscan.stderr().includes('multilog: fatal: unable to lock directory ./ro: access denied\n'));
    const host = await pollUntil('the host', () => logHosts(svscan.pid)[0]);
    const count = () => svscan.stderr().split('unable to lock directory ./ro').length - 1;
    const first = count();
    await pollUntil('two more failed starts', () => count() >= first + 1, { timeoutMs: 30_000 });
    const fds = fdTargets(host).length;
    await pollUntil('three more failed starts', () => count() >= first + 4, { timeoutMs: 30_000 });
    expect(fdTargets(host).length).toBeLessThanOrEqual(fds);
    await cmd(root, 'svc', ['-d', bad.log]);
  });
});
