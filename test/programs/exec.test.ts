import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { O_NONBLOCK, pipe2 } from '../../src/posix/index.js';
import { tempDir } from '../support/tmp.js';
import { ENV, lineIn, ours, start } from '../support/loaders.js';
import { pollUntil, procStatus, track } from '../support/procs.js';

const O_CLOEXEC = 0o2000000;

/** Each loader, with arguments that let the child run unchanged otherwise. */
function loaders(dir: string): [string, string[]][] {
  mkdirSync(path.join(dir, 'env'));
  writeFileSync(path.join(dir, 'env', 'FROM_ENVDIR'), 'yes\n');
  const list: [string, string[]][] = [
    ['setlock', [...ours('setlock'), path.join(dir, 'lock')]],
    ['envdir', [...ours('envdir'), path.join(dir, 'env')]],
    ['softlimit', [...ours('softlimit'), '-o', '64']],
    ['envuidgid', [...ours('envuidgid'), 'root']],
    ['pgrphack', ours('pgrphack')],
  ];
  if (process.getuid?.() === 0) list.push(['setuidgid', [...ours('setuidgid'), 'root']]);
  return list;
}

/**
 * The descriptors a child of this test process sees with `stdio`, without any
 * loader in between: the test runner itself may leak some, and a loader must
 * pass exactly those on, as a C loader would.
 */
async function baseline(stdio: (number | 'pipe' | 'ignore')[], script = 'ls /proc/$$/fd'): Promise<number[]> {
  const out = path.join(tempDir(), 'fds');
  const child = spawn('sh', ['-c', `${script} > ${out}`], { env: ENV, stdio });
  track(child.pid!);
  await new Promise((res) => child.on('close', res));
  return readFileSync(out, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
}

/** The descriptors `sleep` holds when this test process starts it directly with `stdio`. */
async function baselineSleep(stdio: (number | 'pipe' | 'ignore')[]): Promise<number[]> {
  const child = spawn('sh', ['-c', 'exec sleep 30'], { env: ENV, stdio });
  track(child.pid!);
  const pid = child.pid!;
  await pollUntil('sleep', () => (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' ? true : undefined));
  const fds = passedFds(pid);
  child.kill('SIGKILL');
  return fds;
}

/**
 * The descriptors `pid` got through its exec: close-on-exec ones are its own
 * (the dynamic linker holds libc.so.6 open for a moment after the exec).
 */
function passedFds(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${name}`, 'utf8'))![1]!, 8);
      if ((flags & O_CLOEXEC) === 0) out.push(Number(name));
    } catch {
      // closed meanwhile: it was the program's own
    }
  }
  return out.sort((a, b) => a - b);
}

function lowestMissing(fds: readonly number[]): number {
  let n = 0;
  while (fds.includes(n)) n++;
  return n;
}

const pipes: number[] = [];
afterEach(() => {
  for (const fd of pipes.splice(0)) closeSync(fd);
});

describe('chain-loaders exec for real', () => {
  const dir0 = tempDir('djbpkg-chain-names-');
  for (const [name] of loaders(dir0)) {
    it(`${name}: the child has the loader's PID, default signals, fds 0-2 inheritable and blocking, nothing else open`, async () => {
      const dir = tempDir();
      const argv = loaders(dir).find(([n]) => n === name)![1];
      const pidfile = path.join(dir, 'pid');
      // fd 0: a non-blocking pipe, as a Node parent might hand over; the child must get it blocking.
      const [r, w] = pipe2(O_NONBLOCK);
      pipes.push(w);
      const expected = await baselineSleep([r, 'pipe', 'pipe']);
      // setlock's lock: at the lowest number the child would not otherwise have, as C's open gives it.
      if (name === 'setlock') expected.push(lowestMissing(expected));
      const child = spawn(argv[0]!, [...argv.slice(1), 'sh', '-c', `echo $$ > ${pidfile}; exec sleep 30`], {
        env: ENV,
        stdio: [r, 'pipe', 'pipe'],
      });
      closeSync(r);
      track(child.pid!);
      const pid = Number(await lineIn(pidfile));
      expect(pid).toBe(child.pid);
      await pollUntil('sleep', () => (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' ? true : undefined));
      expect(readlinkSync(`/proc/${pid}/exe`)).not.toMatch(/node/);
      const st = procStatus(pid);
      expect(st.get('SigIgn')).toBe('0000000000000000');
      expect(st.get('SigBlk')).toBe('0000000000000000');
      const fds = passedFds(pid);
      expect(fds).toEqual(expected.sort((a, b) => a - b));
      for (const fd of [0, 1, 2]) {
        const flags = parseInt(/flags:\s+([0-7]+)/.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))![1]!, 8);
        expect(flags & O_CLOEXEC, `fd ${fd} close-on-exec`).toBe(0);
        expect(flags & O_NONBLOCK, `fd ${fd} non-blocking`).toBe(0);
      }
      // No Node process is left between the test and the child.
      const ppid = Number(st.get('PPid'));
      expect(ppid).toBe(process.pid);
      child.kill('SIGKILL');
    });
  }

  it('descriptors the parent passes (and setlock\'s lock) go through a chain of loaders', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'env'));
    const out = path.join(dir, 'out');
    const script = `ls /proc/$$/fd > ${out}`;
    const passed = path.join(dir, 'passed');
    writeFileSync(passed, '');
    const { openSync } = await import('node:fs');
    const fd5 = openSync(passed, 'r');
    pipes.push(fd5);
    const argv = [
      ...ours('setlock'), path.join(dir, 'lock'),
      ...ours('envdir'), path.join(dir, 'env'),
      ...ours('softlimit'), '-o', '100',
      ...ours('pgrphack'),
      'sh', '-c', script,
    ];
    const stdio = ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', fd5] as ('ignore' | 'pipe' | number)[];
    const base = await baseline(stdio, 'ls /proc/$$/fd');
    const expected = [...base, lowestMissing(base)].sort((a, b) => a - b);
    expect(expected).toContain(5);
    const child = spawn(argv[0]!, argv.slice(1), { env: ENV, stdio });
    track(child.pid!);
    await new Promise((res) => child.on('close', res));
    const seen = readFileSync(out, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    // fd 5 as passed; setlock's lock at the lowest free number.
    expect(seen).toEqual(expected);
  });

  it('both ends of a pipe the parent passes at low numbers go through (Node marks them close-on-exec like its own)', async () => {
    const dir = tempDir();
    const out = path.join(dir, 'out');
    const [r, w] = pipe2(0);
    pipes.push(r, w);
    const argv = [...ours('setlock'), path.join(dir, 'lock'), ...ours('softlimit'), '-o', '100', 'sh', '-c', `ls /proc/$$/fd > ${out}`];
    const stdio = ['ignore', 'pipe', 'pipe', r, w] as ('ignore' | 'pipe' | number)[];
    const base = await baseline(stdio);
    expect(base).toEqual(expect.arrayContaining([3, 4]));
    const child = spawn(argv[0]!, argv.slice(1), { env: ENV, stdio });
    track(child.pid!);
    await new Promise((res) => child.on('close', res));
    const seen = readFileSync(out, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    expect(seen).toEqual([...base, lowestMissing(base)].sort((a, b) => a - b));
  });

  it('reports a missing child as `file does not exist` and a non-executable one as `access denied`', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'noexec'), '#!/bin/sh\n', { mode: 0o644 });
    const missing = await start([...ours('pgrphack'), 'djbpkg-no-such-program']).done;
    expect(missing.stderr).toBe('pgrphack: fatal: unable to run djbpkg-no-such-program: file does not exist\n');
    expect(missing.code).toBe(111);
    // PATH search: EACCES is remembered while later elements are tried.
    const denied = await start([...ours('pgrphack'), 'noexec'], { env: { ...ENV, PATH: `${dir}:/usr/bin:/bin` } }).done;
    expect(denied.stderr).toBe('pgrphack: fatal: unable to run noexec: access denied\n');
    expect(denied.code).toBe(111);
    const direct = await start([...ours('pgrphack'), path.join(dir, 'noexec')]).done;
    expect(direct.stderr).toBe(`pgrphack: fatal: unable to run ${path.join(dir, 'noexec')}: access denied\n`);
    // A later element that has it wins over a remembered EACCES.
    mkdirSync(path.join(dir, 'bin'));
    writeFileSync(path.join(dir, 'bin', 'noexec'), '#!/bin/sh\necho found\n', { mode: 0o755 });
    const later = await start([...ours('pgrphack'), 'noexec'], { env: { ...ENV, PATH: `${dir}:${dir}/bin` } }).done;
    expect(later.stdout).toBe('found\n');
    expect(later.code).toBe(0);
  });

  it('the exit code is the child\'s own', async () => {
    const r = await start([...ours('softlimit'), '-t', '=', 'sh', '-c', 'exit 42']).done;
    expect(r.code).toBe(42);
  });
});
