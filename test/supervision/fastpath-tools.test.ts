/**
 * The fast path's util-linux steps (src/posix/utillinux.ts): setuidgid runs
 * through setpriv and softlimit through prlimit(1), both at fixed paths.
 * Without them (DJBPKG_TEST_UTILLINUX=none) a setuidgid chain runs ./run and a
 * softlimit chain waits in a shell for supervise's prlimit(2). And an attack:
 * a service user who can put a `setpriv` or `prlimit` of its own first in
 * svscan's PATH gets nothing run as root.
 */
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHistory } from '../../src/supervision/history.js';
import { useInstalledRuntime } from '../support/installed.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';

const rt = useInstalledRuntime();
const isRoot = process.getuid?.() === 0;

/** A program that writes who it is and its address-space limit to $OUT/<service>. */
const PROGRAM = '#!/bin/sh\n{ echo "uid $(id -u) groups $(id -G)"; echo "as $(ulimit -v)"; } > "$OUT/${PWD##*/}.tmp" && mv "$OUT/${PWD##*/}.tmp" "$OUT/${PWD##*/}"\nexec sleep 100000\n';

/** Runs svscan on services {name: run script} until each has written its output or a child record; returns both. */
async function scan(services: Record<string, string>, env: Record<string, string>, pathFirst = '') {
  const base = tempDir('djbpkg-fptools-');
  chmodSync(base, 0o755);
  const out = path.join(base, 'out');
  mkdirSync(out, { mode: 0o1777 });
  chmodSync(out, 0o1777);
  const prog = path.join(base, 'prog');
  writeFileSync(prog, PROGRAM, { mode: 0o755 });
  const root = path.join(base, 'service');
  for (const [name, run] of Object.entries(services)) {
    mkdirSync(path.join(root, name), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(root, name, 'run'), run.replaceAll('PROG', prog), { mode: 0o755 });
  }
  const log = path.join(base, 'svscan.log');
  const fd = openSync(log, 'a');
  const svscan = startProcess(rt.command('svscan'), [root], {
    cwd: root,
    env: { PATH: `${pathFirst}${rt.commandDir}:/usr/bin:/bin`, OUT: out, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  try {
    const names = Object.keys(services);
    await pollUntil('outputs', () => names.every((n) => existsSync(path.join(out, n)) && existsSync(path.join(root, n, 'supervise/child'))), { timeoutMs: 60_000, intervalMs: 100 }).catch((err: Error) => {
      throw new Error(`${err.message}: ${readFileSync(log, 'utf8').slice(0, 2000)}`);
    });
    const result: Record<string, { out: string; run: string; why: string }> = {};
    for (const n of names) {
      const rec = readFileSync(path.join(root, n, 'supervise/child'), 'utf8');
      result[n] = { out: readFileSync(path.join(out, n), 'utf8'), run: /^run (\S+)$/m.exec(rec)?.[1] ?? '', why: /^why (.*)$/m.exec(rec)?.[1] ?? '' };
    }
    return { result, base };
  } finally {
    svscan.child.kill('SIGKILL');
    await svscan.exited;
  }
}

describe.skipIf(!isRoot)('the fast path with and without util-linux (needs root: setuidgid)', () => {
  it('without setpriv and prlimit: setuidgid chains run ./run, softlimit alone waits in a shell', async () => {
    const { result } = await scan(
      {
        uid: '#!/bin/sh\nexec setuidgid nobody softlimit -m 100000000 PROG\n',
        lim: '#!/bin/sh\nexec softlimit -m 100000000 PROG\n',
      },
      { DJBPKG_TEST_UTILLINUX: 'none' },
    );
    expect(result.uid!.run).toBe('script');
    expect(result.uid!.why).toBe('no util-linux setpriv for setuidgid');
    expect(result.uid!.out).toBe('uid 65534 groups 65534\nas 97656\n');
    expect(result.lim!.run).toBe('fast');
    expect(result.lim!.out).toBe('uid 0 groups 0\nas 97656\n');
  }, 120_000);

  it("runs only the fixed setpriv and prlimit, never a service user's copy first in PATH", async () => {
    const trap = tempDir('djbpkg-fptrap-');
    chmodSync(trap, 0o755);
    const bin = path.join(trap, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    chownSync(bin, 65534, 65534);
    const marker = path.join(trap, 'ran-as-root');
    for (const tool of ['setpriv', 'prlimit']) {
      writeFileSync(path.join(bin, tool), `#!/bin/sh\n[ "$(id -u)" = 0 ] && echo ${tool} > ${marker}\nexec /usr/bin/${tool} "$@"\n`, { mode: 0o755 });
      chownSync(path.join(bin, tool), 65534, 65534);
    }
    const { result } = await scan({ issue: '#!/bin/sh\nexec 2>&1\nexec setuidgid nobody softlimit -m 100000000 PROG\n' }, {}, `${bin}:`);
    expect(result.issue!.run).toBe('fast');
    expect(result.issue!.out).toBe('uid 65534 groups 65534\nas 97656\n');
    expect(existsSync(marker)).toBe(false);
  }, 120_000);

  it('plans once, yet an edited env file or ./run takes effect at the next start (as 0.76 reads them each time)', async () => {
    const base = tempDir('djbpkg-fpcache-');
    chmodSync(base, 0o755);
    const out = path.join(base, 'out');
    mkdirSync(out, { mode: 0o1777 });
    chmodSync(out, 0o1777);
    const prog = path.join(base, 'prog');
    writeFileSync(prog, '#!/bin/sh\necho "$N $* $(id -u)" >> "$OUT/log"\nexec sleep 100000\n', { mode: 0o755 });
    // Appended to by two accounts.
    writeFileSync(path.join(out, 'log'), '');
    chmodSync(path.join(out, 'log'), 0o666);
    const root = path.join(base, 'service');
    const dir = path.join(root, 'svc');
    mkdirSync(path.join(dir, 'env'), { recursive: true, mode: 0o755 });
    writeFileSync(path.join(dir, 'env', 'N'), 'one\n');
    writeFileSync(path.join(dir, 'run'), `#!/bin/sh\nexec envdir ./env setuidgid nobody ${prog} a\n`, { mode: 0o755 });
    const svscan = startProcess(rt.command('svscan'), [root], { cwd: root, env: { PATH: `${rt.commandDir}:/usr/bin:/bin`, OUT: out }, stdio: ['ignore', 'ignore', 'ignore'] });
    const lines = () => readFileSync(path.join(out, 'log'), 'utf8').split('\n').filter(Boolean);
    const pid = () => readFileSync(path.join(dir, 'supervise/status')).readUInt32LE(12);
    const restartAndSee = async (want: string) => {
      const before = lines().length;
      process.kill(pid(), 'SIGKILL');
      await pollUntil(`line ${want}`, () => lines().length > before, { timeoutMs: 60_000, intervalMs: 100 });
      expect(lines().at(-1)).toBe(want);
      expect(readFileSync(path.join(dir, 'supervise/child'), 'utf8')).toMatch(/^run fast$/m);
    };
    try {
      await pollUntil('first start', () => lines().length === 1, { timeoutMs: 60_000, intervalMs: 100 });
      expect(lines()[0]).toBe('one a 65534');
      await restartAndSee('one a 65534');
      writeFileSync(path.join(dir, 'env', 'N'), 'two\n');
      await restartAndSee('two a 65534');
      writeFileSync(path.join(dir, 'env', 'M'), 'x\n');
      writeFileSync(path.join(dir, 'env', 'N'), 'six\n');
      await restartAndSee('six a 65534');
      writeFileSync(path.join(dir, 'run'), `#!/bin/sh\nexec envdir ./env setuidgid daemon ${prog} b\n`, { mode: 0o755 });
      await restartAndSee(`six b ${/^daemon:[^:]*:(\d+):/m.exec(readFileSync('/etc/passwd', 'utf8'))![1]}`);
    } finally {
      svscan.child.kill('SIGKILL');
      await svscan.exited;
    }
  }, 120_000);

  it('a service with a notification-fd takes the fast path: its program gets the readiness pipe on that fd', async () => {
    const base = tempDir('djbpkg-fpready-');
    chmodSync(base, 0o755);
    const prog = path.join(base, 'prog');
    writeFileSync(prog, '#!/bin/sh\nsleep 1; echo >&5; exec sleep 100000\n', { mode: 0o755 });
    const root = path.join(base, 'service');
    const dir = path.join(root, 'svc');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(path.join(dir, 'run'), `#!/bin/sh\nexec setuidgid nobody softlimit -m 100000000 ${prog}\n`, { mode: 0o755 });
    writeFileSync(path.join(dir, 'notification-fd'), '5\n');
    const svscan = startProcess(rt.command('svscan'), [root], { cwd: root, env: { PATH: `${rt.commandDir}:/usr/bin:/bin` }, stdio: ['ignore', 'ignore', 'ignore'] });
    try {
      await pollUntil('ready', () => (readHistory(path.join(dir, 'supervise'))?.ready ?? 0) > 0, { timeoutMs: 60_000, intervalMs: 100 });
      const h = readHistory(path.join(dir, 'supervise'))!;
      expect(h.readyFd).toBe(5);
      expect(h.ready - h.started).toBeGreaterThanOrEqual(900);
      expect(readFileSync(path.join(dir, 'supervise/child'), 'utf8')).toMatch(/^run fast$/m);
    } finally {
      svscan.child.kill('SIGKILL');
      await svscan.exited;
    }
  }, 120_000);
});

