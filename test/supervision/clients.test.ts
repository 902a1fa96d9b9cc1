import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync, constants } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { packStatus } from '../../src/supervision/status.js';
import { mkfifo } from '../../src/posix/index.js';
import { tai64nFromUnix } from '../../src/djb/tai64n.js';
import { run } from '../support/run.js';
import { pollUntil, startProcess } from '../support/procs.js';
import { tempDir } from '../support/tmp.js';
import { events, ours, readStatus, recordingService, startSupervise, waitUp } from '../support/supervise.js';

const USAGE = 'svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n';

const openFds: number[] = [];
afterEach(() => {
  for (const fd of openFds.splice(0)) closeSync(fd);
});

/** A service dir with supervise/{control,ok} FIFOs whose read ends this test holds (a fake supervise). */
function fakeSupervise(dir: string, status?: Uint8Array): { control: number } {
  mkdirSync(path.join(dir, 'supervise'), { recursive: true });
  mkfifo(path.join(dir, 'supervise/control'), 0o600);
  mkfifo(path.join(dir, 'supervise/ok'), 0o600);
  const control = openSync(path.join(dir, 'supervise/control'), constants.O_RDONLY | constants.O_NONBLOCK);
  const ok = openSync(path.join(dir, 'supervise/ok'), constants.O_RDONLY | constants.O_NONBLOCK);
  openFds.push(control, ok);
  if (status) writeFileSync(path.join(dir, 'supervise/status'), status);
  return { control };
}

function drain(fd: number): string {
  const buf = Buffer.alloc(256);
  try {
    return buf.subarray(0, readSync(fd, buf, 0, 256, null)).toString('latin1');
  } catch {
    return '';
  }
}

function packageWith(patches: string[]): string {
  const pkg = tempDir();
  mkdirSync(path.join(pkg, 'package'));
  writeFileSync(path.join(pkg, 'package/patches'), patches.join('\n') + '\n');
  return pkg;
}

describe('svc', () => {
  it('writes option letters deduplicated in first-occurrence order, to each directory', async () => {
    const base = tempDir();
    const a = fakeSupervise(path.join(base, 'a'));
    const b = fakeSupervise(path.join(base, 'b'));
    const r = await ours('svc', ['-uudd', '-x', '-hak', '-t', '-icpo', 'a', 'b'], { cwd: base });
    expect([r.stdout, r.stderr, r.code]).toEqual(['', '', 0]);
    expect(drain(a.control)).toBe('udxhakticpo');
    expect(drain(b.control)).toBe('udxhakticpo');
    const none = await ours('svc', ['a'], { cwd: base });
    expect([none.stderr, none.code]).toEqual(['', 0]);
    expect(drain(a.control)).toBe('');
  });

  it('prints 0.76 warnings for missing dirs, missing FIFOs and dead supervise, and still exits 0', async () => {
    const base = tempDir();
    mkdirSync(path.join(base, 'empty'));
    mkdirSync(path.join(base, 'dead/supervise'), { recursive: true });
    mkfifo(path.join(base, 'dead/supervise/control'), 0o600);
    const r = await ours('svc', ['-u', 'nonexist', 'empty', 'dead'], { cwd: base });
    expect(r.stderr).toBe(
      'svc: warning: unable to chdir to nonexist: file does not exist\n' +
        'svc: warning: unable to control empty: file does not exist\n' +
        'svc: warning: unable to control dead: supervise not running\n',
    );
    expect(r.code).toBe(0);
    expect(await ours('svc', [], { cwd: base })).toMatchObject({ stderr: '', code: 0 });
  });

  it('rejects -q -1 -2 as 0.76 does without the sigq12 patch set', async () => {
    for (const opt of ['-q', '-1', '-2', '-z']) {
      const r = await ours('svc', [opt, 'x'], { env: { DJBPKG_PACKAGE_DIR: packageWith(['errno']) } });
      expect([r.stderr, r.code]).toEqual([`svc: illegal option -- ${opt[1]}\n${USAGE}`, 100]);
    }
  });

  it('with sigq12 accepts -q -1 -2 and lists them in its usage', async () => {
    const base = tempDir();
    const env = { DJBPKG_PACKAGE_DIR: packageWith(['errno', 'sigq12']) };
    const a = fakeSupervise(path.join(base, 'a'));
    const r = await ours('svc', ['-q12q', 'a'], { cwd: base, env });
    expect([r.stderr, r.code]).toEqual(['', 0]);
    expect(drain(a.control)).toBe('q12');
    const bad = await ours('svc', ['-z'], { env });
    expect(bad.stderr).toBe(`svc: illegal option -- z\n${USAGE.trimEnd()}, q quit, 1 usr1, 2 usr2\n`);
  });
});

describe('sigq12 in supervise', () => {
  it('with the patch set, q 1 2 reach the child as QUIT USR1 USR2', async () => {
    const base = tempDir();
    const env = { DJBPKG_PACKAGE_DIR: packageWith(['sigq12']) };
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir, env);
    await waitUp(dir);
    await ours('svc', ['-q12', 's'], { cwd: base, env });
    await pollUntil('QUIT USR1 USR2', () => events(dir).length >= 3);
    expect(events(dir)).toEqual(['QUIT', 'USR1', 'USR2']);
  });

  it('without it, supervise ignores the bytes q 1 2 as 0.76 does', async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir);
    await waitUp(dir);
    const fd = openSync(path.join(dir, 'supervise/control'), constants.O_WRONLY | constants.O_NONBLOCK);
    writeFileSync(fd, 'q12h');
    closeSync(fd);
    await pollUntil('HUP after the ignored bytes', () => events(dir).includes('HUP'));
    expect(events(dir)).toEqual(['HUP']);
  });
});

describe('svok', () => {
  it('exit codes and texts of 0.76', async () => {
    const base = tempDir();
    mkdirSync(path.join(base, 'empty'));
    mkdirSync(path.join(base, 'dead/supervise'), { recursive: true });
    mkfifo(path.join(base, 'dead/supervise/ok'), 0o600);
    fakeSupervise(path.join(base, 'live'));
    expect(await ours('svok', [], { cwd: base })).toMatchObject({ stderr: 'svok: usage: svok dir\n', code: 100 });
    expect(await ours('svok', ['nonexist'], { cwd: base })).toMatchObject({
      stderr: 'svok: fatal: unable to chdir to nonexist: file does not exist\n',
      code: 111,
    });
    expect(await ours('svok', ['empty'], { cwd: base })).toMatchObject({ stderr: '', code: 100 });
    expect(await ours('svok', ['dead'], { cwd: base })).toMatchObject({ stderr: '', code: 100 });
    expect(await ours('svok', ['live'], { cwd: base })).toMatchObject({ stderr: '', code: 0 });
  });
});

describe('svstat', () => {
  it('prints the 0.76 failure bodies', async () => {
    const base = tempDir();
    mkdirSync(path.join(base, 'empty'));
    mkdirSync(path.join(base, 'dead/supervise'), { recursive: true });
    mkfifo(path.join(base, 'dead/supervise/ok'), 0o600);
    fakeSupervise(path.join(base, 'nostatus'));
    fakeSupervise(path.join(base, 'short'), new Uint8Array(17));
    const r = await ours('svstat', ['nonexist', 'empty', 'dead', 'nostatus', 'short'], { cwd: base });
    expect(r.stdout).toBe(
      'nonexist: unable to chdir: file does not exist\n' +
        'empty: unable to open supervise/ok: file does not exist\n' +
        'dead: supervise not running\n' +
        'nostatus: unable to open supervise/status: file does not exist\n' +
        'short: unable to read supervise/status: bad format\n',
    );
    expect([r.stderr, r.code]).toEqual(['', 0]);
    expect(await ours('svstat', [], { cwd: base })).toMatchObject({ stdout: '', code: 0 });
  });

  it('follows the clause grammar on crafted status files', async () => {
    const base = tempDir();
    const fiveAgo = tai64nFromUnix(Math.floor(Date.now() / 1000) - 5);
    fakeSupervise(path.join(base, 'fk'), packStatus({ when: fiveAgo, pid: 0, paused: false, want: 'up' }));
    fakeSupervise(path.join(base, 'fk2'), packStatus({ when: fiveAgo, pid: 1234, paused: true, want: 'down' }));
    writeFileSync(path.join(base, 'fk2/down'), '');
    const future = tai64nFromUnix(Math.floor(Date.now() / 1000) + 100);
    fakeSupervise(path.join(base, 'fut'), packStatus({ when: future, pid: 0, paused: true, want: 'down' }));
    writeFileSync(path.join(base, 'fut/down'), '');
    const r = await ours('svstat', ['fk', 'fk2', 'fut'], { cwd: base });
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^fk: down [56] seconds, normally up, want up$/);
    expect(lines[1]).toMatch(/^fk2: up \(pid 1234\) [56] seconds, normally down, paused, want down$/);
    expect(lines[2]).toBe('fut: down 0 seconds');
  });
});

const hasC = existsSync('/usr/bin/svc') && existsSync('/usr/bin/supervise') && existsSync('/usr/bin/svstat') && existsSync('/usr/bin/svok');

/** Test name that says why it is skipped when it is. */
function cName(name: string): string {
  return hasC ? name : `${name} [skipped: C daemontools not installed]`;
}

describe('interop with C daemontools', () => {
  it.skipIf(!hasC)(cName('C svc/svstat/svok drive our supervise'), async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir);
    const pid = await waitUp(dir);
    const st = await run('/usr/bin/svstat', ['s'], { cwd: base });
    expect(st.stdout).toMatch(new RegExp(`^s: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    expect((await run('/usr/bin/svok', ['s'], { cwd: base })).code).toBe(0);
    await run('/usr/bin/svc', ['-h', 's'], { cwd: base });
    await pollUntil('HUP from C svc', () => events(dir).includes('HUP'));
    await run('/usr/bin/svc', ['-d', 's'], { cwd: base });
    await pollUntil('down by C svc', () => readStatus(dir)?.pid === 0);
    expect((await run('/usr/bin/svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: down \d+ seconds, normally up\n$/);
    await run('/usr/bin/svc', ['-x', 's'], { cwd: base });
    await pollUntil('our supervise gone', async () => (await run('/usr/bin/svok', ['s'], { cwd: base })).code === 100);
  });

  it.skipIf(!hasC)(cName('our svc/svstat/svok drive C supervise'), async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    const sup = startProcess('/usr/bin/supervise', ['s'], { cwd: base });
    const pid = await waitUp(dir);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(new RegExp(`^s: up \\(pid ${pid}\\) \\d+ seconds\\n$`));
    expect((await ours('svok', ['s'], { cwd: base })).code).toBe(0);
    await ours('svc', ['-a', 's'], { cwd: base });
    await pollUntil('ALRM from our svc', () => events(dir).includes('ALRM'));
    await ours('svc', ['-p', 's'], { cwd: base });
    await pollUntil('paused', () => readStatus(dir)?.paused);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toMatch(/^s: up \(pid \d+\) \d+ seconds, paused\n$/);
    await ours('svc', ['-cdx', 's'], { cwd: base });
    expect((await sup.exited).code).toBe(0);
    expect((await ours('svok', ['s'], { cwd: base })).code).toBe(100);
    expect((await ours('svstat', ['s'], { cwd: base })).stdout).toBe('s: supervise not running\n');
  });

  it.skipIf(!hasC)(cName('C supervise and ours exclude each other through flock'), async () => {
    const base = tempDir();
    const dir = recordingService(path.join(base, 's'));
    startSupervise(dir);
    await waitUp(dir);
    const c = await run('/usr/bin/supervise', ['s'], { cwd: base });
    expect([c.stderr, c.code]).toEqual(['supervise: fatal: unable to acquire s/supervise/lock: temporary failure\n', 111]);
  });
});
