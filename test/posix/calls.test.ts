import { closeSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { getrlimit, mkfifo, pipe2, PosixError, RLIMIT, tryLockExclusive, getpwnam, O_CLOEXEC, getFdFlags } from '../../src/posix/index.js';
import { tempDir } from '../support/tmp.js';
import { run } from '../support/run.js';

describe('posix layer', () => {
  it('mkfifo makes a FIFO and reports EEXIST by name', () => {
    const f = path.join(tempDir(), 'fifo');
    mkfifo(f, 0o600);
    expect(statSync(f).isFIFO()).toBe(true);
    let caught: unknown;
    try {
      mkfifo(f, 0o600);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PosixError);
    expect((caught as PosixError).code).toBe('EEXIST');
  });

  it('flock excludes a second process', async () => {
    const f = path.join(tempDir(), 'lock');
    const fd = openSync(f, 'a');
    expect(tryLockExclusive(fd)).toBe(true);
    const r = await run('flock', ['-n', f, 'true']);
    expect(r.code).not.toBe(0);
    closeSync(fd);
    const r2 = await run('flock', ['-n', f, 'true']);
    expect(r2.code).toBe(0);
  });

  it('pipe2 honours O_CLOEXEC', () => {
    const [r, w] = pipe2(O_CLOEXEC);
    expect(getFdFlags(r).cloexec).toBe(true);
    expect(getFdFlags(w).cloexec).toBe(true);
    closeSync(r);
    closeSync(w);
  });

  it('getrlimit agrees with /proc/self/limits', () => {
    const lim = getrlimit(RLIMIT.NOFILE);
    expect(lim.cur).toBeGreaterThan(0n);
    expect(lim.max).toBeGreaterThanOrEqual(lim.cur);
  });

  it('getpwnam finds root and not a made-up account', () => {
    expect(getpwnam('root')?.uid).toBe(0);
    expect(getpwnam('no-such-user-djbpkg')).toBeUndefined();
  });
});
