import { spawnSync } from 'node:child_process';
import { chownSync, readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { pollUntil } from '../../support/procs.js';
import { cmd, descendants, expectNoRootForLoggers, expectSupervisionUnharmed, hostedRoot, loggedService, logHosts, logLines, NOBODY, plainService, startSvscan, upPid } from '../../support/hosted.js';

/**
 * Nothing a logger meets delays supervision or another logger, even of the
 * same log user (one host): pauses are timers, processors are waited for
 * without blocking, and only the faulty logger's pipe stops being read.
 */

const mounts: string[] = [];
afterEach(() => {
  // After the processes are gone (procs.ts's teardown runs first: registered earlier).
  for (const m of mounts.splice(0)) spawnSync('umount', ['-l', m]);
});

function processorPids(svscan: number): number[] {
  return logHosts(svscan).flatMap(descendants);
}

describe('hosted loggers in trouble', { timeout: 240_000 }, () => {
  it('a log directory on a full file system: that logger pauses, nothing else waits', async (ctx) => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const full = loggedService(root, 'full', 't n100 ./main', { run: '#!/bin/sh\nwhile :; do echo 0123456789012345678901234567890123456789012345678901234567890123456789; done\n' });
    const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', full.main]);
    if (m.status !== 0) {
      ctx.skip(`mounting a tmpfs failed (needs root): ${m.stderr}`);
      return;
    }
    mounts.push(full.main);
    chownSync(full.main, NOBODY, NOBODY);
    const svscan = startSvscan(root);
    await pollUntil('the disk full warning', () => /multilog: warning: unable to (write to \.\/main\/current|create \.\/main\/current|write \.\/main\/current to disk|link to \.\/main\/@[0-9a-f]+\.[su]), pausing: out of disk space\n/.test(svscan.stderr()), { timeoutMs: 60_000 });
    await upPid(root, healthy.log);
    await expectSupervisionUnharmed(root, victim, healthy.main);
    expectNoRootForLoggers(svscan.pid);
  });

  it('a processor that takes 20 s: the rotation waits for it, nothing else does', async () => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const slow = loggedService(root, 'slow', `t '!sleep 20; cat' ./main`);
    const svscan = startSvscan(root);
    await upPid(root, slow.log);
    await pollUntil('lines in both logs', () => logLines(slow.main).length > 5 && logLines(healthy.main).length > 5);
    await cmd(root, 'svc', ['-a', slow.log]);
    await pollUntil('the processor running', () => processorPids(svscan.pid).some((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('sleep 20')));
    await expectSupervisionUnharmed(root, victim, healthy.main);
    expectNoRootForLoggers(svscan.pid);
  });

  it('a processor stopped by SIGSTOP: nothing else waits, and the logger goes on once it is continued', async () => {
    const root = await hostedRoot();
    const victim = plainService(root, 'victim');
    const healthy = loggedService(root, 'healthy', 't ./main');
    const stopped = loggedService(root, 'stopped', `t '!kill -STOP $$; cat' ./main`);
    const svscan = startSvscan(root);
    await upPid(root, stopped.log);
    await pollUntil('lines in both logs', () => logLines(stopped.main).length > 5 && logLines(healthy.main).length > 5);
    await cmd(root, 'svc', ['-a', stopped.log]);
    const proc = await pollUntil('the stopped processor', () =>
      processorPids(svscan.pid).find((p) => {
        try {
          return /^State:\s+T/m.test(readFileSync(`/proc/${p}/status`, 'latin1'));
        } catch {
          return false;
        }
      }),
    );
    await expectSupervisionUnharmed(root, victim, healthy.main);
    expectNoRootForLoggers(svscan.pid);
    process.kill(proc, 'SIGCONT');
    await pollUntil('the processed archive', () => readdirSync(stopped.main).some((f) => /^@[0-9a-f]{24}\.s$/.test(f)), { timeoutMs: 30_000 });
    const n = logLines(stopped.main).length;
    await pollUntil('the logger writing again', () => logLines(stopped.main).length > n + 10, { timeoutMs: 30_000 });
    expect(readdirSync(stopped.main)).toContain('current');
  });
});
