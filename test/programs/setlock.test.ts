import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/tmp.js';
import { lineIn, ours, runTo, start, theirs } from '../support/loaders.js';
import { pollUntil } from '../support/procs.js';
import { itNeeds } from '../support/needs.js';

/** Starts a holder of the lock on `file` (our setlock) and waits until it holds it. */
async function holder(file: string, dir: string) {
  const ready = path.join(dir, 'holding');
  const h = start([...ours('setlock'), file, 'sh', '-c', `echo yes > ${ready}; exec sleep 30`]);
  await lineIn(ready);
  return h;
}

/** True once /proc/locks shows `pid` waiting for a flock. */
function waitingForLock(pid: number): true | undefined {
  return readFileSync('/proc/locks', 'utf8').split('\n').some((l) => l.includes('->') && l.includes('FLOCK') && l.split(/\s+/).includes(String(pid)))
    ? true
    : undefined;
}

describe('setlock', () => {
  it('creates the lock file 0600 without truncating it', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'lock');
    const r = await runTo([...ours('setlock'), f, 'true']);
    expect(r.code).toBe(0);
    expect(statSync(f).mode & 0o777).toBe(0o600 & ~process.umask());
    writeFileSync(f, 'content');
    await runTo([...ours('setlock'), f, 'true']);
    expect(readFileSync(f, 'utf8')).toBe('content');
  });

  for (const [opts, label] of [[['-n'], '-n'], [['-n', '-X'], '-nX'], [['-Nn'], '-Nn (last wins)']] as const) {
    it(`${label}: held lock => "unable to lock: temporary failure", 111, child not run`, async () => {
      const dir = tempDir();
      const f = path.join(dir, 'lock');
      await holder(f, dir);
      const marker = path.join(dir, 'ran');
      const r = await runTo([...ours('setlock'), ...opts, f, 'sh', '-c', `touch ${marker}`]);
      expect(r.stderr).toBe(`setlock: fatal: unable to lock ${f}: temporary failure\n`);
      expect(r.code).toBe(111);
      expect(existsSync(marker)).toBe(false);
    });
  }

  it('-nx: held lock => exit 0 silently, child not run', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'lock');
    await holder(f, dir);
    const marker = path.join(dir, 'ran');
    const r = await runTo([...ours('setlock'), '-nx', f, 'sh', '-c', `touch ${marker}`]);
    expect([r.stderr, r.code]).toEqual(['', 0]);
    expect(existsSync(marker)).toBe(false);
  });

  for (const opts of [[], ['-N'], ['-NX'], ['-Nx'], ['-nN']]) {
    it(`${opts.join(' ') || '(default)'}: waits for the holder, then runs the child`, async () => {
      const dir = tempDir();
      const f = path.join(dir, 'lock');
      const h = await holder(f, dir);
      const marker = path.join(dir, 'ran');
      const c = start([...ours('setlock'), ...opts, f, 'sh', '-c', `echo yes > ${marker}`]);
      await pollUntil('contender blocked in flock', () => waitingForLock(c.child.pid!));
      expect(existsSync(marker)).toBe(false);
      h.child.kill('SIGKILL');
      const r = await c.done;
      expect([r.stderr, r.code]).toEqual(['', 0]);
      expect(readFileSync(marker, 'utf8')).toBe('yes\n');
    });
  }

  it('unopenable file: -X reports, -x exits 0 silently', async () => {
    const f = path.join(tempDir(), 'no', 'such', 'lock');
    const loud = await runTo([...ours('setlock'), f, 'true']);
    expect([loud.stderr, loud.code]).toEqual([`setlock: fatal: unable to open ${f}: file does not exist\n`, 111]);
    const quiet = await runTo([...ours('setlock'), '-x', f, 'true']);
    expect([quiet.stderr, quiet.code]).toEqual(['', 0]);
  });

  it('usage (100) and unable to run (111)', async () => {
    const U = 'setlock: usage: setlock [ -nNxX ] file program [ arg ... ]\n';
    for (const [args, err] of [[[], U], [['f'], U], [['-q', 'f', 'true'], 'setlock: illegal option -- q\n' + U]] as const) {
      const r = await runTo([...ours('setlock'), ...args]);
      expect([r.stderr, r.code]).toEqual([err, 100]);
    }
    const f = path.join(tempDir(), 'lock');
    const r = await runTo([...ours('setlock'), f, 'djbpkg-no-such-program']);
    expect([r.stderr, r.code]).toEqual(['setlock: fatal: unable to run djbpkg-no-such-program: file does not exist\n', 111]);
  });

  const c = theirs('setlock');
  itNeeds(c, 'needs C setlock (Debian daemontools)')('excludes C setlock (Debian daemontools) and is excluded by it: both use flock', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'lock');
    await holder(f, dir);
    const r = await runTo([...c!, '-n', f, 'true']);
    expect([r.stderr, r.code]).toEqual([`setlock: fatal: unable to lock ${f}: temporary failure\n`, 111]);
    const ready = path.join(dir, 'c-holding');
    const f2 = path.join(dir, 'lock2');
    start([...c!, f2, 'sh', '-c', `echo yes > ${ready}; exec sleep 30`]);
    await lineIn(ready);
    const mine = await runTo([...ours('setlock'), '-n', f2, 'true']);
    expect([mine.stderr, mine.code]).toEqual([`setlock: fatal: unable to lock ${f2}: temporary failure\n`, 111]);
  });
  if (!c) it.skip('interop with C setlock: /usr/bin/setlock not installed', () => {});
});
